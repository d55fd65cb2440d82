/**
 * SAELens `topk` (sae_lens/saes/topk_sae.py; Gao et al. 2024, "Scaling and evaluating sparse
 * autoencoders"): pre = sae_in · W_enc + b_enc, the k largest pre-activations of each token are
 * kept and passed through ReLU, the rest are zero. With `rescale_acts_by_decoder_norm`, pre is
 * multiplied by ‖W_dec row‖ before the selection and the activations divided by it before decoding.
 */
import type { SaeKernels } from '../../tensor/sae-kernels.js';
import type { SaeArchitecture, SaeTrainingArchitecture } from '../architecture-registry.js';
import type { Sae } from '../sae.js';
import { requireWeight } from '../sae.js';
import { topKLoss } from '../training/losses-topk.js';

export const topKArchitecture: SaeArchitecture = {
  name: 'topk',
  tensors: ['b_enc'],
  configProblem(config) {
    if (config.k === undefined) return 'topk needs field "k"';
    if (config.k > config.d_sae) return `field "k" = ${config.k} is larger than d_sae = ${config.d_sae}`;
    return undefined;
  },
  encode(sae: Sae, saeIn: Float32Array, tokens: number, out: Float32Array, backend: SaeKernels): void {
    const { d_in, d_sae } = sae.config;
    const k = sae.config.k ?? d_sae;
    const bEnc = requireWeight(sae, 'b_enc');
    const norms = sae.config.rescale_acts_by_decoder_norm ? decoderRowNorms(sae) : undefined;
    backend.matmulNN(out, saeIn, sae.weights.W_enc, tokens, d_in, d_sae); // [T, d_sae] pre-activations
    for (let t = 0; t < tokens; t++) {
      const row = t * d_sae;
      for (let j = 0; j < d_sae; j++) {
        const pre = out[row + j] + bEnc[j];
        out[row + j] = norms ? pre * norms[j] : pre;
      }
    }
    const idx = new Int32Array(tokens * k); // [T, k]
    const val = new Float32Array(tokens * k); // [T, k]
    backend.topKRows(idx, val, out, tokens, d_sae, k);
    out.fill(0);
    for (let t = 0; t < tokens; t++) {
      for (let i = t * k; i < (t + 1) * k; i++) out[t * d_sae + idx[i]] = val[i] > 0 ? val[i] : 0;
    }
  },
  /**
   * A latent is active when its pre-activation is positive and fewer than k others exceed it —
   * the top-k membership test without sorting every row (ties at the k-th value aside).
   */
  encodeSelected(sae: Sae, saeIn: Float32Array, tokens: number, indices: readonly number[], out: Float32Array, backend: SaeKernels, scratch: Float32Array): void {
    const { d_in, d_sae } = sae.config;
    const k = sae.config.k ?? d_sae;
    const bEnc = requireWeight(sae, 'b_enc');
    backend.matmulNN(scratch, saeIn, sae.weights.W_enc, tokens, d_in, d_sae);
    for (let t = 0; t < tokens; t++) {
      const pre = scratch.subarray(t * d_sae, (t + 1) * d_sae);
      backend.addInPlace(pre, bEnc, d_sae);
      indices.forEach((j, f) => {
        const p = pre[j];
        let above = 0;
        if (p > 0) for (let i = 0; i < d_sae && above < k; i++) if (pre[i] > p) above++;
        out[t * indices.length + f] = p > 0 && above < k ? p : 0;
      });
    }
  },
  decodeScale(sae: Sae): Float32Array | undefined {
    return sae.config.rescale_acts_by_decoder_norm ? decoderRowNorms(sae).map((n) => 1 / n) : undefined;
  },
};

/** Training (losses-topk.ts): MSE plus AuxK on the latents that have been dead for deadAfterTokens tokens. */
export const topKTraining: SaeTrainingArchitecture = {
  name: 'topk',
  trainsAs: 'topk',
  usesK: true,
  configProblem: (cfg) => (Number.isSafeInteger(cfg.k) && (cfg.k as number) >= 1 && (cfg.k as number) <= cfg.d_sae ? undefined : `topk needs an integer k in 1..d_sae = ${cfg.d_sae}, got k = ${cfg.k}`),
  loss: ({ sae, x, batch, grads, ws, backend, cfg, deadMask }) => ({
    terms: topKLoss(sae, x, batch, { deadMask, kAux: cfg.kAux, auxCoefficient: cfg.auxCoefficient }, grads, ws, backend),
  }),
};

function decoderRowNorms(sae: Sae): Float32Array {
  const { d_in, d_sae } = sae.config;
  const W = requireWeight(sae, 'W_dec');
  const norms = new Float32Array(d_sae);
  for (let j = 0; j < d_sae; j++) {
    let s = 0;
    for (let i = j * d_in; i < (j + 1) * d_in; i++) s += W[i] * W[i];
    norms[j] = Math.sqrt(s);
  }
  return norms;
}
