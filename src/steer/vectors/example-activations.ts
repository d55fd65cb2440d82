/**
 * One activation per example text at each hook: the text is encoded with BOS, run through the
 * model (many examples per forward call), and read at a chosen token position. CAA (Panickssery
 * et al. 2024, "Steering Llama 2 via Contrastive Activation Addition") reads the residual stream
 * at the answer token; for free text the nearest equivalent is the last token (`last`, default),
 * which has attended to the whole example. `mean` averages over the example's own tokens (BOS
 * left out: it is the same for every example), and an integer picks one token of the text
 * (0 = its first token after BOS; negative counts from the end, −1 = last).
 */
import { SteeringError, UsageError } from '../../errors.js';
import type { HookName } from '../../model/hook-points.js';
import type { LlamaModel } from '../../model/llama-model.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import type { BatchedReadOptions } from './batched-hook-reader.js';
import { hookWidths, readHooksBatched } from './batched-hook-reader.js';
import type { ContrastExample } from './contrast-examples.js';

export type TokenPosition = 'last' | 'mean' | number;

export function parseTokenPosition(s: string): TokenPosition {
  if (s === 'last' || s === 'mean') return s;
  const n = Number(s);
  if (s.trim() === '' || !Number.isSafeInteger(n)) throw new UsageError(`position must be last, mean or an integer token index, got "${s}"`);
  return n;
}

/** Activations [examples, width] per hook, row i read from example i at `position`. */
export function exampleActivations(
  model: LlamaModel,
  tokenizer: Tokenizer,
  examples: readonly ContrastExample[],
  hooks: readonly HookName[],
  position: TokenPosition,
  o: BatchedReadOptions = {},
): Map<HookName, Float32Array> {
  const widths = hookWidths(model, hooks);
  const seqs = examples.map((ex) => {
    const ids = tokenizer.encode(ex.text);
    if (ids.length > model.config.seqLen) throw new SteeringError(`${ex.where}: example is ${ids.length} tokens, longer than the model's context of ${model.config.seqLen}`);
    if (typeof position === 'number' && (position >= ids.length - 1 || position < -(ids.length - 1))) {
      throw new SteeringError(`${ex.where}: position ${position} is outside the example's ${ids.length - 1} tokens`);
    }
    return ids;
  });
  const out = new Map<HookName, Float32Array>(hooks.map((h) => [h, new Float32Array(examples.length * widths.get(h)!)]));
  readHooksBatched(
    model,
    seqs,
    hooks,
    (hook, seq, data, width) => {
      const row = out.get(hook)!.subarray(seq * width, (seq + 1) * width);
      const len = data.length / width;
      if (position === 'mean') {
        // Tokens 1..len−1: the text without BOS (a text is never empty: the tokenizer adds a dummy-prefix space).
        for (let t = 1; t < len; t++) for (let j = 0; j < width; j++) row[j] += data[t * width + j];
        for (let j = 0; j < width; j++) row[j] /= len - 1;
      } else {
        const t = position === 'last' ? len - 1 : position >= 0 ? 1 + position : len + position;
        row.set(data.subarray(t * width, (t + 1) * width));
      }
    },
    o,
  );
  return out;
}
