import type { Command } from 'commander';
import { registerSaeConvert } from './sae-convert.js';

/** `tinymorph sae <subcommand>`: sparse autoencoders (convert; train and eval to come). */
export function registerSae(program: Command): void {
  const sae = program.command('sae').description('sparse autoencoders: convert between file formats');
  registerSaeConvert(sae);
  sae.exitOverride();
  for (const cmd of sae.commands) cmd.exitOverride();
}
