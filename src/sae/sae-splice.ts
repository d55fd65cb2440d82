/**
 * Splicing an SAE into an activation, the one implementation behind the splice hook, the eval's SAE
 * pass and steering's feature edits. The listed tokens of x [T, d_in] are encoded (a = SAE_enc(x)),
 * the latent edits applied in order (a′), and each token becomes
 *   - without the error term: SAE_dec(a′), the reconstruction;
 *   - with it (SAELens `use_error_term`; Marks et al. 2024 "Sparse Feature Circuits"):
 *     SAE_dec(a′) + (x − SAE_dec(a)) = x + (SAE_dec(a′) − SAE_dec(a)).
 * The difference of two decodes is linear in a′ − a, so it is computed from the edits alone,
 * Σ (a′_j − a_j)·scale_j·W_dec[j] with the SAE's run-time normalisation undone, instead of two full
 * decodes: an edit that changes nothing adds nothing, so x stays x bit for bit (−0 included).
 */
import { ShapeError } from '../errors.js';
import type { HookFn } from '../model/hook-registry.js';
import { activeBackend } from '../tensor/backend-registry.js';
import type { SaeKernels } from '../tensor/sae-kernels.js';
import type { NormState } from './activation-norm.js';
import { architectureByName } from './architecture-registry.js';
import { decode, encodeWithNorm } from './sae-forward.js';
import type { Sae } from './sae.js';

/** Edits of one latent (Neuronpedia's SAE-space steering methods). */
export const LATENT_EDIT_METHODS = ['CLAMP', 'MULTIPLY', 'ABLATE', 'MEAN_ABLATE'] as const;
export type LatentEditMethod = (typeof LATENT_EDIT_METHODS)[number];

export interface LatentEdit {
  index: number;
  method: LatentEditMethod;
  /** Clamp target, multiplier, or (MEAN_ABLATE) the feature's mean activation; unused for ABLATE. */
  value: number;
}

export interface SpliceOptions {
  /** Keep the error term x − SAE(x), so that only the edits change the activation. Default false. */
  errorTerm?: boolean;
  /** The tokens (rows of x) to splice; default all. The others are left as they are. */
  tokens?: readonly number[];
  /** Latent edits, in order: one list for every token, or a list per entry of `tokens`. */
  edits?: readonly LatentEdit[] | readonly (readonly LatentEdit[])[];
  /** Also return SAE(x) of the spliced tokens, before any edit. */
  reconstruction?: boolean;
  backend?: SaeKernels;
}

export interface SpliceResult {
  /** Latent activations of the spliced tokens after the edits, [tokens, d_sae]. */
  acts: Float32Array;
  /** SAE(x) of the spliced tokens, [tokens, d_in], when asked for. */
  reconstruction?: Float32Array;
}

/** Splices `sae` into the tokens of x [T, d_in], in place. */
export function spliceSae(sae: Sae, x: Float32Array, o: SpliceOptions = {}): SpliceResult {
  const { d_in, d_sae } = sae.config;
  const backend = o.backend ?? activeBackend();
  if (x.length % d_in !== 0) throw new ShapeError(`SAE with d_in=${d_in} cannot splice into an activation of ${x.length} values`);
  const tokens = o.tokens ?? Array.from({ length: x.length / d_in }, (_, t) => t);
  const n = tokens.length;
  const perToken = o.edits !== undefined && isPerToken(o.edits) ? o.edits : undefined;
  if (perToken && perToken.length !== n) throw new ShapeError(`${perToken.length} lists of latent edits for ${n} tokens`);
  const editsOf = (i: number): readonly LatentEdit[] => perToken?.[i] ?? (o.edits as readonly LatentEdit[] | undefined) ?? [];
  const input = new Float32Array(n * d_in); // [n, d_in]
  tokens.forEach((t, i) => input.set(x.subarray(t * d_in, (t + 1) * d_in), i * d_in));
  const { acts, norm } = encodeWithNorm(sae, input, n, backend);
  const reconstruction = o.reconstruction || (!o.errorTerm && o.edits === undefined) ? decode(sae, acts, n, norm, backend) : undefined;
  const result: SpliceResult = { acts, reconstruction: o.reconstruction ? reconstruction : undefined };

  if (!o.errorTerm) {
    for (let i = 0; i < n; i++) for (const e of editsOf(i)) acts[i * d_sae + e.index] = editedValue(e, acts[i * d_sae + e.index]);
    const out = o.edits === undefined ? (reconstruction as Float32Array) : decode(sae, acts, n, norm, backend);
    tokens.forEach((t, i) => x.set(out.subarray(i * d_in, (i + 1) * d_in), t * d_in));
    return result;
  }
  const scale = architectureByName(sae.config.architecture).decodeScale?.(sae);
  const W = sae.weights.W_dec;
  const delta = new Float32Array(d_in);
  for (let i = 0; i < n; i++) {
    delta.fill(0);
    let changed = false;
    for (const e of editsOf(i)) {
      const a = acts[i * d_sae + e.index];
      const next = editedValue(e, a);
      const da = (next - a) * (scale ? scale[e.index] : 1);
      acts[i * d_sae + e.index] = next; // a later edit of the same latent sees this one
      if (da === 0) continue;
      changed = true;
      for (let k = 0; k < d_in; k++) delta[k] += da * W[e.index * d_in + k];
    }
    if (!changed) continue;
    const back = denormScale(norm, i);
    const row = tokens[i] * d_in;
    for (let k = 0; k < d_in; k++) {
      const d = delta[k] * back;
      if (d !== 0) x[row + k] += d; // skipping zeros also keeps −0 as −0
    }
  }
  return result;
}

/** A hook that splices `sae` into every token of its activation (in place). */
export function saeSpliceHook(sae: Sae, opts: Pick<SpliceOptions, 'errorTerm' | 'edits'> = {}): HookFn {
  return (act) => {
    if (act.width !== sae.config.d_in) {
      throw new ShapeError(`SAE with d_in=${sae.config.d_in} cannot splice into ${act.name}, whose width is ${act.width}`);
    }
    spliceSae(sae, act.data, opts);
  };
}

function editedValue(e: LatentEdit, a: number): number {
  return e.method === 'CLAMP' ? e.value : e.method === 'MULTIPLY' ? a * e.value : e.method === 'MEAN_ABLATE' ? e.value : 0;
}

function isPerToken(edits: readonly LatentEdit[] | readonly (readonly LatentEdit[])[]): edits is readonly (readonly LatentEdit[])[] {
  return edits.length > 0 && Array.isArray(edits[0]);
}

/** The factor by which the SAE's output normalisation scales a difference of reconstructions of token i. */
function denormScale(norm: NormState | undefined, i: number): number {
  if (!norm) return 1;
  return norm.kind === 'constant_norm_rescale' ? 1 / norm.coeff[i] : norm.std[i];
}
