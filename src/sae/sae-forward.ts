/**
 * Encode and decode, batched over tokens (rows of x are tokens, as a hook sees them):
 *   encode: x [T, d_in] → normalise → − b_dec (if apply_b_dec_to_input) → architecture → acts [T, d_sae]
 *   decode: acts [T, d_sae] → acts · W_dec + b_dec → undo the normalisation → x̂ [T, d_in]
 * as SAELens' `SAE.encode` / `SAE.decode`. The products run on the active kernel backend.
 */
import { ShapeError, UsageError } from '../errors.js';
import type { SaeKernels } from '../tensor/sae-kernels.js';
import { activeBackend } from '../tensor/backend-registry.js';
import type { NormState } from './activation-norm.js';
import { needsRunTimeNorm, normalizeIn, normalizeOut } from './activation-norm.js';
import { architectureByName } from './architecture-registry.js';
import type { Sae } from './sae.js';

export interface SaeEncoding {
  acts: Float32Array; // [T, d_sae]
  /** The per-token normalisation decode must undo (undefined when the SAE normalises nothing at run time). */
  norm: NormState | undefined;
}

/** Latent activations of x [tokens, d_in], with the normalisation state for decode. */
export function encodeWithNorm(sae: Sae, x: Float32Array, tokens: number, backend: SaeKernels = activeBackend()): SaeEncoding {
  const { saeIn, norm } = saeInput(sae, x, tokens);
  const acts = new Float32Array(tokens * sae.config.d_sae);
  architectureByName(sae.config.architecture).encode(sae, saeIn, tokens, acts, backend);
  return { acts, norm };
}

/**
 * Activations of the listed latents only, [tokens, indices.length], equal to the matching columns
 * of encode() (to rounding): a column per latent where the architecture allows, one product and a
 * top-k membership count for topk — what a per-step reader of a few features (SAE-guided
 * decoding) needs. `scratch` (≥ tokens·d_sae floats) is reused between calls when given.
 */
export function encodeSelected(sae: Sae, x: Float32Array, tokens: number, indices: readonly number[], backend: SaeKernels = activeBackend(), scratch?: Float32Array): Float32Array {
  const { d_sae } = sae.config;
  const arch = architectureByName(sae.config.architecture);
  const out = new Float32Array(tokens * indices.length);
  if (!arch.encodeSelected || sae.config.rescale_acts_by_decoder_norm) {
    const acts = encode(sae, x, tokens, backend);
    for (let t = 0; t < tokens; t++) indices.forEach((j, f) => (out[t * indices.length + f] = acts[t * d_sae + j]));
    return out;
  }
  const { saeIn } = saeInput(sae, x, tokens);
  const work = scratch && scratch.length >= tokens * d_sae ? scratch : new Float32Array(tokens * d_sae);
  arch.encodeSelected(sae, saeIn, tokens, indices, out, backend, work);
  return out;
}

/** SAELens `process_sae_in`: a normalised copy of x, minus b_dec when the SAE applies it to its input. */
function saeInput(sae: Sae, x: Float32Array, tokens: number): { saeIn: Float32Array; norm: NormState | undefined } {
  const { d_in, apply_b_dec_to_input } = sae.config;
  checkLength(x, tokens, d_in, 'SAE input');
  const saeIn = x.slice(0, tokens * d_in);
  const norm = normalizeIn(sae.config, saeIn, tokens);
  if (apply_b_dec_to_input) {
    const bDec = sae.weights.b_dec;
    for (let t = 0; t < tokens; t++) for (let i = 0; i < d_in; i++) saeIn[t * d_in + i] -= bDec[i];
  }
  return { saeIn, norm };
}

/** Latent activations [tokens, d_sae] of x [tokens, d_in]. */
export function encode(sae: Sae, x: Float32Array, tokens: number, backend: SaeKernels = activeBackend()): Float32Array {
  return encodeWithNorm(sae, x, tokens, backend).acts;
}

/**
 * Reconstruction x̂ [tokens, d_in] of acts [tokens, d_sae]. An SAE that normalises at run time
 * (constant_norm_rescale, layer_norm) needs the `norm` its encodeWithNorm returned.
 */
export function decode(sae: Sae, acts: Float32Array, tokens: number, norm?: NormState, backend: SaeKernels = activeBackend()): Float32Array {
  const { d_in, d_sae } = sae.config;
  checkLength(acts, tokens, d_sae, 'SAE activations');
  if (needsRunTimeNorm(sae.config) && norm === undefined) {
    throw new UsageError(`decode: an SAE with normalize_activations="${sae.config.normalize_activations}" needs the norm state from encodeWithNorm`);
  }
  const scale = architectureByName(sae.config.architecture).decodeScale?.(sae);
  let a = acts.subarray(0, tokens * d_sae);
  if (scale) {
    a = a.slice();
    for (let t = 0; t < tokens; t++) for (let j = 0; j < d_sae; j++) a[t * d_sae + j] *= scale[j];
  }
  const out = new Float32Array(tokens * d_in);
  backend.matmulNN(out, a, sae.weights.W_dec, tokens, d_sae, d_in); // [T, d_in]
  const bDec = sae.weights.b_dec;
  for (let t = 0; t < tokens; t++) for (let i = 0; i < d_in; i++) out[t * d_in + i] += bDec[i];
  normalizeOut(norm, out, tokens, d_in);
  return out;
}

/** SAE(x) = decode(encode(x)) for x [tokens, d_in]. */
export function reconstruct(sae: Sae, x: Float32Array, tokens: number, backend: SaeKernels = activeBackend()): Float32Array {
  const { acts, norm } = encodeWithNorm(sae, x, tokens, backend);
  return decode(sae, acts, tokens, norm, backend);
}

function checkLength(a: Float32Array, tokens: number, width: number, what: string): void {
  if (!Number.isSafeInteger(tokens) || tokens < 0 || a.length !== tokens * width) {
    throw new ShapeError(`${what} has ${a.length} values, expected [${tokens}, ${width}] = ${tokens * width}`);
  }
}
