/**
 * Splicing an SAE into the model: a hook (for `model.hooks`) that replaces the activation x by the
 * SAE's reconstruction, optionally after editing the latent activations, optionally plus the
 * error term x − SAE(x) (SAELens `use_error_term`; Marks et al. 2024 "Sparse Feature Circuits").
 * With the error term the output is computed as x + (decode(edited acts) − decode(acts)): the same
 * quantity as SAE_edited(x) + (x − SAE(x)), but exactly x, bit for bit, when the edit changes
 * nothing — so an empty edit is the clean model, not the clean model plus rounding noise.
 */
import { ShapeError } from '../errors.js';
import type { HookActivation, HookFn } from '../model/hook-registry.js';
import { decode, encodeWithNorm } from './sae-forward.js';
import type { Sae } from './sae.js';

export interface SpliceOptions {
  /** Add the error term x − SAE(x), so that only the edit changes the activation. Default false. */
  errorTerm?: boolean;
  /** Edits the latent activations [tokens, d_sae] in place before decoding (ablate, clamp, add). */
  edit?: (acts: Float32Array, tokens: number, act: HookActivation) => void;
}

/** A hook that replaces its activation [tokens, d_in] by the (edited) SAE reconstruction. */
export function saeSpliceHook(sae: Sae, opts: SpliceOptions = {}): HookFn {
  const { d_in } = sae.config;
  return (act) => {
    if (act.width !== d_in) {
      throw new ShapeError(`SAE with d_in=${sae.config.d_in} cannot splice into ${act.name}, whose width is ${act.width}`);
    }
    const tokens = act.data.length / d_in;
    const { acts, norm } = encodeWithNorm(sae, act.data, tokens);
    if (!opts.errorTerm) {
      opts.edit?.(acts, tokens, act);
      return decode(sae, acts, tokens, norm);
    }
    const clean = decode(sae, acts, tokens, norm);
    opts.edit?.(acts, tokens, act);
    const edited = decode(sae, acts, tokens, norm);
    const out = act.data.slice();
    for (let i = 0; i < out.length; i++) {
      const delta = edited[i] - clean[i];
      if (delta !== 0) out[i] += delta; // skipping zeros also keeps −0 as −0
    }
    return out;
  };
}
