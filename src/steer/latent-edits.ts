/**
 * Feature edits in SAE space with the error term (SAELens `use_error_term`): x ↦ x + (SAE_dec(a′) −
 * SAE_dec(a)), where a = SAE_enc(x) and a′ is a with some latents changed. The difference of two
 * decodes is linear in a′ − a, so it is computed from the changed latents alone —
 * Σ_j (a′_j − a_j)·scale_j·W_dec[j] with the SAE's run-time normalisation undone — instead of two
 * full decodes; an edit that changes nothing adds nothing, so x stays x bit for bit.
 */
import type { NormState } from '../sae/activation-norm.js';
import { architectureByName } from '../sae/architecture-registry.js';
import { encodeWithNorm } from '../sae/sae-forward.js';
import type { Sae } from '../sae/sae.js';
import type { SaeKernels } from '../tensor/sae-kernels.js';
import type { LatentEdit } from './compile-steering.js';

/**
 * Applies `edits[i]` to token `tokens[i]` of `data` ([T, d_in], modified in place), encoding all
 * listed tokens in one batched call.
 */
export function applyLatentEdits(sae: Sae, data: Float32Array, tokens: readonly number[], edits: readonly (readonly LatentEdit[])[], backend: SaeKernels): void {
  const { d_in, d_sae } = sae.config;
  const n = tokens.length;
  const x = new Float32Array(n * d_in);
  for (let i = 0; i < n; i++) x.set(data.subarray(tokens[i] * d_in, (tokens[i] + 1) * d_in), i * d_in);
  const { acts, norm } = encodeWithNorm(sae, x, n, backend);
  const scale = architectureByName(sae.config.architecture).decodeScale?.(sae);
  const W = sae.weights.W_dec;
  const delta = new Float32Array(d_in);
  for (let i = 0; i < n; i++) {
    delta.fill(0);
    let changed = false;
    for (const e of edits[i]) {
      const a = acts[i * d_sae + e.index];
      const next = e.method === 'CLAMP' ? e.value : e.method === 'MULTIPLY' ? a * e.value : e.method === 'MEAN_ABLATE' ? e.value : 0;
      const da = (next - a) * (scale ? scale[e.index] : 1);
      acts[i * d_sae + e.index] = next; // a later edit of the same latent sees this one
      if (da === 0) continue;
      changed = true;
      for (let k = 0; k < d_in; k++) delta[k] += da * W[e.index * d_in + k];
    }
    if (!changed) continue;
    const back = denormScale(norm, i);
    const row = tokens[i] * d_in;
    for (let k = 0; k < d_in; k++) data[row + k] += delta[k] * back;
  }
}

/** The factor by which the SAE's output normalisation scales a difference of reconstructions of token i. */
function denormScale(norm: NormState | undefined, i: number): number {
  if (!norm) return 1;
  return norm.kind === 'constant_norm_rescale' ? 1 / norm.coeff[i] : norm.std[i];
}
