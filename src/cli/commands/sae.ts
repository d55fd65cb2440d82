import type { Command } from 'commander';
import { registerSaeConvert } from './sae-convert.js';
import { registerSaeEval } from './sae-eval.js';
import { registerSaeFinetuneScale } from './sae-finetune-scale.js';
import { registerSaeTrain } from './sae-train.js';

/** `tinymorph sae <subcommand>`: sparse autoencoders (train, convert, eval, finetune-scale). */
export function registerSae(program: Command): void {
  const sae = program.command('sae').description('sparse autoencoders: train, convert between file formats, evaluate');
  registerSaeConvert(sae);
  registerSaeTrain(sae);
  registerSaeEval(sae);
  registerSaeFinetuneScale(sae);
  sae.exitOverride();
  for (const cmd of sae.commands) cmd.exitOverride();
}
