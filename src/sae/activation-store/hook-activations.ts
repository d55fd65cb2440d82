/**
 * Activations at one hook point for a stream of token contexts: `batchContexts` contexts per
 * forward call (rows of one batched forward), the hook's packed [tokens, width] view copied out with
 * the positions of special tokens left out (SAELens `exclude_special_tokens`: BOS and EOS, including
 * the BOS separators between documents, carry no content an SAE should learn).
 */
import { UsageError } from '../../errors.js';
import type { HookName } from '../../model/hook-points.js';
import type { LlamaModel } from '../../model/llama-model.js';
import { hookWidth } from '../hook-width.js';

export interface HookActivationOptions {
  hook: HookName;
  /** Contexts per forward call; default 32. */
  batchContexts?: number;
  /** Token ids whose positions are left out of the output; default none. */
  excludeTokenIds?: readonly number[];
}

/** One forward call's activations. */
export interface ActivationBatch {
  /** [n, width], rows in context order then position order. */
  data: Float32Array;
  n: number;
  width: number;
  /** Activations kept from each context of this batch (sums to n). */
  perContext: Int32Array;
}

export const DEFAULT_BATCH_CONTEXTS = 32;

/** Blocks a forward must run for `hook` to fire: the layers after it are skipped (SAELens' `stop_at_layer`). */
export function layersNeeded(hook: HookName, nLayers: number): number {
  const m = /^blocks\.(\d+)\./.exec(hook);
  return m ? Number(m[1]) + 1 : hook === 'hook_embed' ? 0 : nLayers;
}

export function* hookActivations(model: LlamaModel, contexts: Iterable<Int32Array>, o: HookActivationOptions): Generator<ActivationBatch> {
  const width = hookWidth(model.config, o.hook);
  if (width === undefined) throw new UsageError(`${o.hook} has no fixed per-token width; pick another hook point`);
  const batchContexts = o.batchContexts ?? DEFAULT_BATCH_CONTEXTS;
  if (!Number.isSafeInteger(batchContexts) || batchContexts < 1) throw new UsageError(`batch contexts must be a positive integer, got ${batchContexts}`);
  const exclude = new Set(o.excludeTokenIds ?? []);
  let batch: Int32Array[] = [];
  for (const ctx of contexts) {
    batch.push(ctx);
    if (batch.length === batchContexts) {
      yield forwardBatch(model, batch, o.hook, width, exclude);
      batch = [];
    }
  }
  if (batch.length > 0) yield forwardBatch(model, batch, o.hook, width, exclude);
}

function forwardBatch(model: LlamaModel, rows: Int32Array[], hook: HookName, width: number, exclude: Set<number>): ActivationBatch {
  const perContext = new Int32Array(rows.length);
  let n = 0;
  for (let r = 0; r < rows.length; r++) {
    for (const id of rows[r]) if (!exclude.has(id)) perContext[r]++;
    n += perContext[r];
  }
  const data = new Float32Array(n * width); // [n, width]
  const capacity = Math.max(...rows.map((r) => r.length));
  const read = (act: { data: Float32Array; rows: Int32Array; rowStart: Int32Array }): void => {
    let out = 0;
    for (let s = 0; s < act.rows.length; s++) {
      const toks = rows[act.rows[s]];
      const base = act.rowStart[s];
      for (let i = 0; i < toks.length; i++) {
        if (exclude.has(toks[i])) continue;
        data.set(act.data.subarray((base + i) * width, (base + i + 1) * width), out * width);
        out++;
      }
    }
  };
  const stopAtLayer = layersNeeded(hook, model.config.nLayers);
  model.withCache(rows.length, capacity, (cache) =>
    model.hooks.with([{ name: hook, fn: read }], () => model.forward(cache, rows, { stopAtLayer: stopAtLayer < model.config.nLayers ? stopAtLayer : undefined })),
  );
  return { data, n, width, perContext };
}
