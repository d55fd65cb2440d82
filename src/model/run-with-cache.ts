import type { HookName } from './hook-points.js';
import type { LlamaModel } from './llama-model.js';

export interface ActivationCache {
  /** Logits of every token, [tokens, vocab] (rows packed one after another). */
  logits: Float32Array;
  /** Activations by hook name, [tokens, width], copied out of the forward pass. */
  activations: Map<HookName, Float32Array>;
  /** Width of each cached activation per token. */
  widths: Map<HookName, number>;
  /** Token offsets of each sequence (length sequences+1). */
  rowStart: Int32Array;
}

/**
 * Runs sequences through the model in one batched forward pass and keeps the activations at the
 * named hook points (TransformerLens' `run_with_cache`). Accepts one sequence or several.
 */
export function runWithCache(model: LlamaModel, tokens: readonly number[] | readonly (readonly number[])[], names: readonly HookName[]): ActivationCache {
  const seqs = (tokens.length > 0 && typeof tokens[0] === 'number' ? [tokens] : tokens) as readonly (readonly number[])[];
  const activations = new Map<HookName, Float32Array>();
  const widths = new Map<HookName, number>();
  const hooks = names.map((name) => ({
    name,
    fn: (act: { data: Float32Array; width: number }) => {
      activations.set(name, act.data.slice());
      widths.set(name, act.width);
    },
  }));
  const out = model.withCache(seqs.length, Math.max(...seqs.map((s) => s.length)), (cache) => model.hooks.with(hooks, () => model.forward(cache, seqs, { allLogits: true })));
  return { logits: out.logits.slice(), activations, widths, rowStart: out.rowStart.slice() };
}
