import type { Command } from 'commander';
import { registerSaeConvert } from './sae-convert.js';
import { registerSaeTrain } from './sae-train.js';

/** `tinymorph sae <subcommand>`: sparse autoencoders (train, convert; eval to come). */
export function registerSae(program: Command): void {
  const sae = program.command('sae').description('sparse autoencoders: train, convert between file formats');
  registerSaeConvert(sae);
  registerSaeTrain(sae);
  sae.exitOverride();
  for (const cmd of sae.commands) cmd.exitOverride();
}
