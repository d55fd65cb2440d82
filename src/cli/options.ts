import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import type { LoadedModel } from '../model/load-model.js';
import { loadModel } from '../model/load-model.js';
import type { Quantization } from '../model/quantize-weights.js';
import { QUANTIZATIONS } from '../model/quantize-weights.js';
import { UsageError } from '../errors.js';
import { setActiveBackend } from '../tensor/backend-registry.js';

/** Options every model-using command takes. */
export interface ModelOptions {
  model?: string;
  tokenizer?: string;
  backend?: string;
  quantize?: Quantization;
}

export function addModelOptions(cmd: Command): Command {
  return cmd
    .option('--model <path>', 'llama2.c model file, HF Llama folder or .gguf file (default: the embedded stories260K)')
    .option('--tokenizer <path>', 'llama2.c tokenizer.bin, HF tokenizer.json or a folder holding one, or a GGUF file with a vocabulary (default: the model\'s own, else the embedded tok512)')
    .option('--backend <name>', 'kernel backend (default: $TINYMORPH_BACKEND or the fastest available)')
    .addOption(new Option('--quantize <format>', 'quantise the matmul weights at load (embedding and norms stay fp32)').choices(QUANTIZATIONS));
}

export function loadFromOptions(o: ModelOptions): LoadedModel {
  if (o.backend) setActiveBackend(o.backend);
  return loadModel({ model: o.model, tokenizer: o.tokenizer, quantize: o.quantize });
}

/** Commander argument parsers that reject bad numbers with a one-line message. */
export function parseInteger(min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}`);
    return n;
  };
}

export function parseNumber(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
}

export function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** A flag's value as a non-negative number (an integer when `int`), or a UsageError naming the flag. */
export function flagNumber(flag: string, v: string, int = false): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || (int && !Number.isSafeInteger(n))) throw new UsageError(`${flag} must be a non-negative ${int ? 'integer' : 'number'}, got "${v}"`);
  return n;
}

/** A flag's value as a number > 0 (an integer when `int`), or a UsageError naming the flag: for sizes, counts and rates where 0 means nothing. */
export function positiveFlag(flag: string, v: string, int = false): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0 || (int && !Number.isSafeInteger(n))) throw new UsageError(`${flag} must be a positive ${int ? 'integer' : 'number'}, got "${v}"`);
  return n;
}

/** Documents of a corpus, over and over (epochs), so any token budget can be met. */
export function* cycleDocuments(docs: string[]): Generator<string> {
  if (docs.length === 0) throw new UsageError('the corpus has no documents');
  for (;;) yield* docs;
}
