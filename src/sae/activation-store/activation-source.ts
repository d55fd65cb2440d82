/**
 * Where a trainer's activations come from: the model run over a corpus (live), or a cache written by
 * `tinymorph activations cache`. Both are the same stream — the activations at one hook point of
 * the corpus's token contexts, special tokens left out, in context order — and both can start at any
 * row, which is what lets a resumed training run skip the part it has already seen:
 *  - the cache seeks to the shard and the row within it;
 *  - the live store re-tokenizes the corpus up to the context holding that row (counting each
 *    context's kept tokens; no forward pass) and runs the model from that context on.
 * The model's activations of a context do not depend on which contexts share its forward batch (the
 * kernels compute each row on its own), so a cache written with any --batch-contexts, or a live run
 * started mid-stream, gives the same rows bit for bit.
 */
import { UsageError } from '../../errors.js';
import type { HookName } from '../../model/hook-points.js';
import type { LlamaModel } from '../../model/llama-model.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import { hookWidth } from '../hook-width.js';
import type { CacheManifest } from './cache-manifest.js';
import { openActivationCache } from './cache-reader.js';
import { DEFAULT_BATCH_CONTEXTS, hookActivations } from './hook-activations.js';
import type { TokenContextOptions } from './token-contexts.js';
import { contextSettings, tokenContexts } from './token-contexts.js';

export interface ActivationSource {
  /** Values per activation (the hook's width, d_in of an SAE trained on it). */
  readonly width: number;
  /** Activations in the whole stream, or undefined when it does not end (the live store cycles its corpus). */
  readonly total: number | undefined;
  /** Activations [n, width] from activation `from` (default 0) on, in chunks. */
  rows(from?: number): Iterable<Float32Array>;
  /** How many activations each context gives, in stream order (a cache's last context may be cut short). */
  contextRows(): Iterable<number>;
}

export interface LiveSourceOptions extends TokenContextOptions {
  hook: HookName;
  excludeSpecialTokens?: boolean;
  batchContexts?: number;
}

/** The model's activations at o.hook over `documents()` (called anew for each pass over the stream). */
export function liveActivationSource(model: LlamaModel, tokenizer: Tokenizer, documents: () => Iterable<string>, o: LiveSourceOptions): ActivationSource {
  const width = hookWidth(model.config, o.hook);
  if (width === undefined) throw new UsageError(`${o.hook} has no fixed per-token width; pick another hook point`);
  const ctx = contextSettings(o, model.config.seqLen);
  const exclude = (o.excludeSpecialTokens ?? true) ? [tokenizer.bosId, tokenizer.eosId] : [];
  const kept = (c: Int32Array): number => c.reduce((n, id) => (exclude.includes(id) ? n : n + 1), 0);
  return {
    width,
    total: undefined,
    *rows(from = 0) {
      const contexts = tokenContexts(tokenizer, documents(), ctx);
      let rest: Iterable<Int32Array> = contexts;
      let skip = 0; // activations of the first context run that come before `from`
      if (from > 0) {
        // Count each context's kept tokens up to the one that holds activation `from`: tokenization only.
        for (let at = 0; ; ) {
          const next = contexts.next();
          if (next.done) return;
          const k = kept(next.value);
          if (at + k > from) {
            rest = prepend(next.value, contexts);
            skip = from - at;
            break;
          }
          at += k;
        }
      }
      for (const b of hookActivations(model, rest, { hook: o.hook, batchContexts: o.batchContexts, excludeTokenIds: exclude })) {
        yield skip > 0 ? b.data.subarray(skip * width) : b.data;
        skip = 0;
      }
    },
    *contextRows() {
      for (const c of tokenContexts(tokenizer, documents(), ctx)) yield kept(c);
    },
  };
}

/** A cache folder's activations, one shard in memory at a time. */
export function cachedActivationSource(dir: string): ActivationSource & { manifest: CacheManifest } {
  const cache = openActivationCache(dir);
  const { manifest } = cache;
  return {
    manifest,
    width: manifest.d_in,
    total: manifest.total_tokens,
    *rows(from = 0) {
      let start = 0; // the shard's first row in the stream
      for (let i = 0; i < manifest.shards.length; i++) {
        const n = manifest.shards[i].tokens;
        if (start + n > from) {
          const data = cache.shard(i).activations;
          yield from > start ? data.subarray((from - start) * manifest.d_in) : data;
        }
        start += n;
      }
    },
    *contextRows() {
      let start = 0;
      let last = 0; // the stream row after the last context seen
      for (let i = 0; i < manifest.shards.length; i++) {
        for (const end of cache.shard(i).contextEnds) {
          yield start + end - last;
          last = start + end;
        }
        start += manifest.shards[i].tokens;
      }
      if (start > last) yield start - last;
    },
  };
}

/**
 * The norm-scale and b_dec estimates' sample: the stream's first whole groups of `groupContexts`
 * contexts (the live store's forward batches) holding at least `minRows` activations, or the whole
 * stream if it is shorter. Defined by context boundaries, so a cache and the model give the same sample.
 */
export function sampleActivations(source: ActivationSource, minRows: number, groupContexts = DEFAULT_BATCH_CONTEXTS): Float32Array[] {
  let rows = 0;
  let inGroup = 0;
  for (const k of source.contextRows()) {
    rows += k;
    if (++inGroup === groupContexts) {
      inGroup = 0;
      if (rows >= minRows) break;
    }
  }
  const out: Float32Array[] = [];
  let need = rows * source.width;
  for (const chunk of source.rows(0)) {
    if (need === 0) break;
    const part = chunk.length > need ? chunk.subarray(0, need) : chunk;
    out.push(part);
    need -= part.length;
  }
  return out;
}

function* prepend<T>(first: T, rest: Iterator<T>): Generator<T> {
  yield first;
  for (let next = rest.next(); !next.done; next = rest.next()) yield next.value;
}
