/**
 * A style vector from a writer's samples: at each hook, the mean activation over every token of
 * the samples minus the mean over the same number of tokens of reference text (by default the
 * shipped TinyStories validation text), i.e. CAA's mean difference with "text like mine" as the
 * positive set and "ordinary text" as the negative one. Both sides are cut into contexts the same
 * way (BOS + up to contextSize−1 tokens of one document), so that position effects — activations
 * drift with the position in the context — cancel instead of leaking into the vector; BOS itself
 * is left out of both means. Reference documents are tokenized only as far as needed.
 */
import { SteeringError } from '../../errors.js';
import type { HookName } from '../../model/hook-points.js';
import type { LlamaModel } from '../../model/llama-model.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import type { SteeringVectorSet } from '../steering-vector-set.js';
import { hookWidths, readHooksBatched } from './batched-hook-reader.js';
import { residPostHooks } from './contrast-vectors.js';

export interface StyleVectorOptions {
  hooks?: readonly HookName[];
  /** Tokens per context, BOS included; default 128 (SAELens' and our activation store's default). */
  contextSize?: number;
  /** Contexts done so far, of `total` (samples and reference together). */
  onProgress?: (done: number, total: number) => void;
}

export const DEFAULT_STYLE_CONTEXT = 128;

/** Contexts of BOS + up to size−1 tokens, cut from each document in turn, holding at most `limit` text tokens. */
function contexts(tokenizer: Tokenizer, documents: Iterable<string>, size: number, limit = Infinity): { seqs: number[][]; tokens: number } {
  const seqs: number[][] = [];
  let tokens = 0;
  for (const doc of documents) {
    const ids = tokenizer.encode(doc, { bos: false });
    for (let at = 0; at < ids.length && tokens < limit; at += size - 1) {
      const piece = ids.slice(at, Math.min(at + size - 1, at + limit - tokens));
      seqs.push([tokenizer.bosId, ...piece]);
      tokens += piece.length;
    }
    if (tokens >= limit) break;
  }
  return { seqs, tokens };
}

export function styleVector(model: LlamaModel, tokenizer: Tokenizer, samples: readonly string[], reference: Iterable<string>, o: StyleVectorOptions = {}): SteeringVectorSet {
  const size = o.contextSize ?? DEFAULT_STYLE_CONTEXT;
  if (!Number.isSafeInteger(size) || size < 2 || size > model.config.seqLen) throw new SteeringError(`context size must be an integer in [2, ${model.config.seqLen}], got ${size}`);
  const hooks = o.hooks ?? residPostHooks(model.config.nLayers);
  const widths = hookWidths(model, hooks);
  const mine = contexts(tokenizer, samples, size);
  if (mine.tokens === 0) throw new SteeringError('the writing samples hold no text');
  const ref = contexts(tokenizer, reference, size, mine.tokens);
  if (ref.tokens === 0) throw new SteeringError('the reference corpus holds no text');

  const sums = new Map(hooks.map((h) => [h, new Float64Array(2 * widths.get(h)!)])); // [sample sum | reference sum]
  const seqs = [...mine.seqs, ...ref.seqs];
  readHooksBatched(
    model,
    seqs,
    hooks,
    (hook, seq, data, width) => {
      const sum = sums.get(hook)!;
      const off = seq < mine.seqs.length ? 0 : width;
      for (let t = 1; t < data.length / width; t++) for (let j = 0; j < width; j++) sum[off + j] += data[t * width + j];
    },
    { onProgress: (done) => o.onProgress?.(done, seqs.length) },
  );
  const vectors = new Map<HookName, Float32Array>();
  for (const [hook, sum] of sums) {
    const w = widths.get(hook)!;
    vectors.set(hook, Float32Array.from({ length: w }, (_, j) => sum[j] / mine.tokens - sum[w + j] / ref.tokens));
  }
  return {
    vectors,
    metadata: { method: 'style', sample_tokens: String(mine.tokens), reference_tokens: String(ref.tokens), context_size: String(size) },
  };
}
