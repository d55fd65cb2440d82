/**
 * Reads several hook points for many token sequences: the sequences go through the model many per
 * forward call (rows of one batched forward, up to `batchTokens` tokens per call so that memory
 * stays bounded), the layers after the deepest requested hook are skipped (stopAtLayer), and
 * `visit` sees each sequence's [length, width] activation at each hook. The views passed to
 * `visit` are valid only during the call.
 */
import { SteeringError } from '../../errors.js';
import type { HookName } from '../../model/hook-points.js';
import type { LlamaModel } from '../../model/llama-model.js';
import { layersNeeded } from '../../sae/activation-store/hook-activations.js';
import { hookWidth } from '../../sae/hook-width.js';

export type ActivationVisitor = (hook: HookName, seq: number, data: Float32Array, width: number) => void;

export interface BatchedReadOptions {
  /** Tokens per forward call; default 8192. */
  batchTokens?: number;
  /** Called after each forward call with the number of sequences done. */
  onProgress?: (done: number) => void;
}

export const DEFAULT_BATCH_TOKENS = 8192;

/** Per-token width of each hook, refusing attn.hook_pattern (its width grows with the context, so it has no mean). */
export function hookWidths(model: LlamaModel, hooks: readonly HookName[]): Map<HookName, number> {
  const widths = new Map<HookName, number>();
  for (const h of hooks) {
    if (widths.has(h)) throw new SteeringError(`${h} is named twice`);
    const w = hookWidth(model.config, h);
    if (w === undefined) throw new SteeringError(`${h} has no fixed per-token width, so it cannot hold a steering vector; pick another hook point`);
    widths.set(h, w);
  }
  return widths;
}

export function readHooksBatched(model: LlamaModel, seqs: readonly (readonly number[])[], hooks: readonly HookName[], visit: ActivationVisitor, o: BatchedReadOptions = {}): void {
  hookWidths(model, hooks);
  const budget = o.batchTokens ?? DEFAULT_BATCH_TOKENS;
  const nLayers = model.config.nLayers;
  const stop = Math.max(...hooks.map((h) => layersNeeded(h, nLayers)));
  for (let first = 0; first < seqs.length; ) {
    // At least one sequence per call, then as many as fit the token budget.
    let end = first + 1;
    let tokens = seqs[first].length;
    while (end < seqs.length && tokens + seqs[end].length <= budget) tokens += seqs[end++].length;
    const batch = seqs.slice(first, end);
    const base = first;
    const specs = hooks.map((name) => ({
      name,
      fn: (act: { data: Float32Array; width: number; rows: Int32Array; rowStart: Int32Array }) => {
        for (let s = 0; s < act.rows.length; s++) {
          visit(name, base + act.rows[s], act.data.subarray(act.rowStart[s] * act.width, act.rowStart[s + 1] * act.width), act.width);
        }
      },
    }));
    // A throwaway cache: with stopAtLayer it is left holding only the layers that ran.
    model.withCache(batch.length, Math.max(...batch.map((s) => s.length)), (cache) =>
      model.hooks.with(specs, () => model.forward(cache, batch, { stopAtLayer: stop < nLayers ? stop : undefined })),
    );
    first = end;
    o.onProgress?.(first);
  }
}
