import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { readControlVectorGguf, writeControlVectorGguf } from '../../steer/control-vector-gguf.js';
import { readSteeringVectors, writeSteeringVectors } from '../../steer/steering-vector-set.js';
import { printVectorSummary, vectorNorm } from './vector-summary.js';
import { registerVectorStyle } from './vector-style.js';
import { registerVectorTrain } from './vector-train.js';
import { checkOutputFile } from '../../util/output-target.js';

/** `tinymorph vector <subcommand>`: steering vectors from data, their files, and llama.cpp control vectors. */
export function registerVector(program: Command): void {
  const vector = program.command('vector').description('steering vectors: train from contrast examples or writing samples, show, convert to and from llama.cpp control vectors');
  registerVectorTrain(vector);
  registerVectorStyle(vector);
  vector
    .command('show')
    .description('hooks, widths, norms and metadata of a vector file')
    .argument('<file>', 'vector file (.safetensors)')
    .option('--json', 'print JSON')
    .action((file: string, o: { json?: boolean }) => {
      const set = readSteeringVectors(file);
      if (!o.json) return printVectorSummary(file, set);
      const hooks = [...set.vectors].map(([hook, v]) => ({ hook, width: v.length, norm: vectorNorm(v) }));
      process.stdout.write(JSON.stringify({ file, metadata: set.metadata, vectors: hooks }) + '\n');
    });
  vector
    .command('export-gguf')
    .description('write a vector file as a llama.cpp control vector (direction.N for blocks.N.hook_resid_post, N ≥ 1)')
    .argument('<in>', 'vector file (.safetensors)')
    .argument('<out>', 'control vector to write (.gguf)')
    .option('--model-hint <arch>', "controlvector.model_hint: the target model's architecture", 'llama')
    .action((input: string, out: string, o: { modelHint: string }) => {
      if (o.modelHint.trim() === '') throw new UsageError('--model-hint must not be empty');
      checkOutputFile(out, 'output');
      const set = readSteeringVectors(input);
      writeControlVectorGguf(out, set, { modelHint: o.modelHint });
      process.stdout.write(`wrote ${out}: ${set.vectors.size} direction${set.vectors.size === 1 ? '' : 's'}, model_hint ${o.modelHint}\n`);
    });
  vector
    .command('import-gguf')
    .description('read a llama.cpp control vector into a vector file (direction.N becomes blocks.N.hook_resid_post)')
    .argument('<in>', 'control vector (.gguf)')
    .argument('<out>', 'vector file to write (.safetensors)')
    .action((input: string, out: string) => {
      checkOutputFile(out, 'output');
      const { vectors, metadata, modelHint } = readControlVectorGguf(input);
      const set = { vectors, metadata: { ...metadata, ...(modelHint === undefined ? {} : { model_hint: modelHint }) } };
      writeSteeringVectors(out, set);
      printVectorSummary(out, set);
    });
  vector.exitOverride();
  for (const cmd of vector.commands) cmd.exitOverride();
}
