import { NumericError, UsageError } from '../errors.js';
import type { KVCache } from './kv-cache.js';
import type { LlamaModel } from './llama-model.js';
import type { GenerationRequest, GenerationResult, TokenEvent } from './generation-row.js';
import { GenerationRow } from './generation-row.js';
import type { SampledToken } from './sampling/sampler.js';
import { Sampler } from './sampling/sampler.js';
import type { Tokenizer } from './tokenizer.js';

export type { FinishReason, GeneratedToken, GenerationRequest, GenerationResult, TokenEvent } from './generation-row.js';

/**
 * Adjusts one step's next-token logits for the whole batch at once, before sampling: `logits` is
 * [segments, vocab] and `rows[s]` the batch row (request index) of segment s.
 */
export interface LogitsProcessor {
  process(logits: Float32Array, rows: Int32Array): void;
}

export interface GenerateOptions {
  /** Called for every sampled token of every request, as it is accepted. */
  onToken?: (e: TokenEvent) => void;
  /** Applied in order to each step's logits (e.g. SAE-guided decoding). */
  logitsProcessors?: readonly LogitsProcessor[];
}

/**
 * Generates for several requests at once: every prompt is prefilled in one batched forward pass
 * (rows of different lengths), then each step decodes one token for every unfinished row in a
 * single forward over the KV cache. Each request has its own sampling settings, seed and stop
 * sequences, so its text does not depend on what else is in the batch.
 */
export function generate(
  model: LlamaModel,
  tokenizer: Tokenizer,
  requests: readonly GenerationRequest[],
  o: GenerateOptions = {},
): GenerationResult[] {
  if (requests.length === 0) return [];
  const rows = requests.map((r, i) => new GenerationRow(i, r, tokenizer));
  const seqLen = model.config.seqLen;
  for (const row of rows) {
    if (row.promptIds.length === 0) throw new UsageError(`request ${row.request}: the prompt has no tokens`);
    if (row.promptIds.length >= seqLen) {
      throw new UsageError(`request ${row.request}: the prompt has ${row.promptIds.length} tokens; the model's context is ${seqLen}`);
    }
    if (!Number.isInteger(row.maxTokens) || row.maxTokens < 1) throw new UsageError(`request ${row.request}: maxTokens must be a positive integer, got ${row.maxTokens}`);
  }
  const capacity = Math.min(seqLen, Math.max(...rows.map((r) => r.promptIds.length + r.maxTokens)));
  const sampler = new Sampler(model.config.vocabSize, model.backend);
  model.withCache(rows.length, capacity, (cache) => {
    let inputs: (number[] | undefined)[] = rows.map((r) => r.promptIds);
    while (inputs.some((x) => x !== undefined)) inputs = step(model, cache, sampler, rows, inputs, o);
  });
  return rows.map((r) => r.result());
}

/** One forward over the pending inputs, one sampled token per row; returns the next inputs. */
function step(
  model: LlamaModel,
  cache: KVCache,
  sampler: Sampler,
  rows: GenerationRow[],
  inputs: (number[] | undefined)[],
  o: GenerateOptions,
): (number[] | undefined)[] {
  const vocab = model.config.vocabSize;
  const out = model.forward(cache, inputs);
  for (const p of o.logitsProcessors ?? []) p.process(out.logits, out.rows);
  const next: (number[] | undefined)[] = new Array(rows.length).fill(undefined);
  // Greedy rows' argmaxes in one threaded call rather than one call per row.
  const batched = out.rows.length > 1 && rows.some((r) => Sampler.isPlainGreedy(r.params, r.counts));
  const argmaxes = batched ? sampler.argmaxRows(out.logits, out.rows.length) : undefined;
  for (let s = 0; s < out.rows.length; s++) {
    const row = rows[out.rows[s]];
    let sampled: SampledToken;
    try {
      sampled = sampler.sample(out.logits.subarray(s * vocab, (s + 1) * vocab), row.params, row.counts, row.rng, row.wantLogprobs, argmaxes?.[s]);
    } catch (e) {
      if (!(e instanceof NumericError)) throw e;
      throw new NumericError(`request ${row.request}, generated token ${row.tokens.length + 1}: ${e.message}; \`tinymorph inspect\` checks the model's weights for NaN/Inf`);
    }
    const text = row.accept(sampled, cache.lengths[out.rows[s]] < cache.capacity);
    o.onToken?.({ request: row.request, token: sampled, text });
    if (!row.finishReason) next[out.rows[s]] = [sampled.token];
  }
  return next;
}
