/**
 * One step of batched generation, the only one there is: generate() runs it until every row is
 * done, and the server's continuous-batching scheduler runs it with rows joining and leaving the
 * KV cache between steps and long prompts fed in chunks. Sharing it keeps the two from drifting:
 * the same forward, logits processors, sampler and acceptance rules, so a request's text at
 * temperature 0 is the same whichever of the two ran it.
 */
import { NumericError } from '../errors.js';
import type { GenerationRow, TokenEvent } from './generation-row.js';
import type { KVCache } from './kv-cache.js';
import type { EveryPositionLogits, LlamaModel } from './llama-model.js';
import type { SampledToken } from './sampling/sampler.js';
import { Sampler } from './sampling/sampler.js';

/**
 * Adjusts one step's next-token logits for the whole batch at once, before sampling: `logits` is
 * [segments, vocab] and `rows[s]` the batch row (cache row) of segment s.
 */
export interface LogitsProcessor {
  process(logits: Float32Array, rows: Int32Array): void;
}

export interface GenerateOptions {
  /** Called for every sampled token of every request, as it is accepted; `request` is its batch row. */
  onToken?: (e: TokenEvent) => void;
  /** Applied in order to each step's logits (e.g. SAE-guided decoding, logit bias). */
  logitsProcessors?: readonly LogitsProcessor[];
  /**
   * Rows that may get non-finite logits (requests steered far too hard): `has(row)` picks them.
   * Their logits are checked before sampling; a row with NaN or infinite ones is handed to `failed`
   * and gets no token this step, while the other rows go on (rows never mix inside a forward, so
   * one row's NaN cannot reach another's logits).
   */
  guard?: { has: (row: GenerationRow) => boolean; failed: (row: GenerationRow) => void };
}

export class BatchStep {
  private readonly sampler: Sampler;

  constructor(
    private readonly model: LlamaModel,
    private readonly o: GenerateOptions = {},
  ) {
    this.sampler = new Sampler(model.config.vocabSize, model.backend);
  }

  /**
   * Appends `inputs[r]` to cache row r (rows without input are left alone) in one forward, then for
   * every r with `rows[r]` set samples that row's next token from the logits after its last input
   * and accepts it. `rows[r]` undefined with an input: a prompt chunk that is not the prompt's last,
   * whose logits nobody needs (chunked prefill). The rows in `everyPositionRows` also get the raw
   * logits at every input token (before logits processors and bias), returned for scoring a prompt.
   */
  run(cache: KVCache, inputs: readonly (readonly number[] | undefined)[], rows: readonly (GenerationRow | undefined)[], everyPositionRows?: ReadonlySet<number>): EveryPositionLogits | undefined {
    const vocab = this.model.config.vocabSize;
    const out = this.model.forward(cache, inputs, everyPositionRows ? { everyPositionRows } : {});
    for (const p of this.o.logitsProcessors ?? []) p.process(out.logits, out.rows);
    for (let s = 0; s < out.rows.length; s++) {
      const bias = rows[out.rows[s]]?.logitBias;
      if (bias) for (let i = 0; i < bias.ids.length; i++) out.logits[s * vocab + bias.ids[i]] += bias.values[i];
    }
    // Greedy rows' argmaxes in one threaded call rather than one call per row.
    const batched = out.rows.length > 1 && rows.some((r) => r !== undefined && Sampler.isPlainGreedy(r.params, r.counts));
    const argmaxes = batched ? this.sampler.argmaxRows(out.logits, out.rows.length) : undefined;
    for (let s = 0; s < out.rows.length; s++) {
      const slot = out.rows[s];
      const row = rows[slot];
      if (!row) continue;
      const logits = out.logits.subarray(s * vocab, (s + 1) * vocab);
      if (this.o.guard?.has(row) && !allFinite(logits)) {
        this.o.guard.failed(row);
        continue;
      }
      let sampled: SampledToken;
      try {
        sampled = this.sampler.sample(logits, row.params, row.counts, row.rng, row.wantLogprobs, argmaxes?.[s]);
      } catch (e) {
        if (!(e instanceof NumericError)) throw e;
        throw new NumericError(`request ${row.request}, generated token ${row.tokens.length + 1}: ${e.message}; \`tinymorph inspect\` checks the model's weights for NaN/Inf`);
      }
      const text = row.accept(sampled, cache.lengths[slot] < cache.capacity);
      this.o.onToken?.({ request: row.request, token: sampled, text });
    }
    return out.everyPosition;
  }
}

function allFinite(xs: Float32Array): boolean {
  for (let i = 0; i < xs.length; i++) if (!Number.isFinite(xs[i])) return false;
  return true;
}
