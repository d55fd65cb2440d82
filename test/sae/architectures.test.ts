import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShapeError, UsageError } from '../../src/errors.js';
import { architectureByName, architectureNames, registerArchitecture } from '../../src/sae/architecture-registry.js';
import { decode, encode, encodeSelected, encodeWithNorm, reconstruct } from '../../src/sae/sae-forward.js';
import type { Sae, SaeWeights } from '../../src/sae/sae.js';
import { assertAllClose } from '../helpers/assert-all-close.js';
import { randomArray, randomSae, v6Config } from './sae-test-helpers.js';

/**
 * Encode/decode of every architecture on a 2 → 3 SAE small enough to compute by hand. Shared weights:
 *   W_enc = [[1, 0, −1], [0, 2, 1]]   b_enc = [0, −1, 0.5]   b_dec = [1, 1]   W_dec = [[1, 0], [0, 1], [1, 1]]
 * Tokens x₀ = [3, 2] and x₁ = [0, 0]; with b_dec subtracted, sae_in = [2, 1] and [−1, −1], so
 *   sae_in · W_enc = [2, 2, −1] and [−1, −2, 0];  + b_enc = [2, 1, −0.5] and [−1, −2, 0.5].
 */
const X = Float32Array.of(3, 2, 0, 0);
const BASE: SaeWeights = {
  W_enc: Float32Array.of(1, 0, -1, 0, 2, 1),
  W_dec: Float32Array.of(1, 0, 0, 1, 1, 1),
  b_dec: Float32Array.of(1, 1),
  b_enc: Float32Array.of(0, -1, 0.5),
};
const TOL = { atol: 1e-6 };

function sae(architecture: string, extra: Partial<SaeWeights> = {}, cfg: Record<string, unknown> = {}): Sae {
  return { config: v6Config(architecture, 2, 3, cfg), weights: { ...BASE, ...extra } };
}

test('standard: ReLU(sae_in · W_enc + b_enc), decode acts · W_dec + b_dec', () => {
  const s = sae('standard');
  const acts = encode(s, X, 2);
  assertAllClose(acts, [2, 1, 0, 0, 0, 0.5], TOL, 'acts');
  // 2·[1,0] + 1·[0,1] + b_dec = [3, 2];  0.5·[1,1] + b_dec = [1.5, 1.5]
  assertAllClose(decode(s, acts, 2), [3, 2, 1.5, 1.5], TOL, 'recon');
  assertAllClose(reconstruct(s, X, 2), [3, 2, 1.5, 1.5], TOL, 'reconstruct');
});

test('standard with apply_b_dec_to_input=false encodes x itself', () => {
  const s = sae('standard', {}, { apply_b_dec_to_input: false });
  // x₀ · W_enc = [3, 4, −1] + b_enc = [3, 3, −0.5]; x₁ = 0 gives b_enc = [0, −1, 0.5]
  assertAllClose(encode(s, X, 2), [3, 3, 0, 0, 0, 0.5], TOL);
});

test('jumprelu: ReLU(pre) where pre > threshold (strictly), else 0', () => {
  const s = sae('jumprelu', { threshold: Float32Array.of(1.5, 1, -1) });
  // token 0: 2 > 1.5 kept; 1 > 1 is false; −0.5 > −1 but ReLU gives 0.  token 1: only 0.5 > −1.
  assertAllClose(encode(s, X, 2), [2, 0, 0, 0, 0, 0.5], TOL);
});

test('gated: 1[sae_in·W_enc + b_gate > 0] · ReLU(sae_in·(W_enc ⊙ exp r_mag) + b_mag)', () => {
  const s = sae('gated', { b_enc: undefined, b_gate: Float32Array.of(0, -1.5, 0), r_mag: Float32Array.of(0, Math.log(2), 0), b_mag: Float32Array.of(0.5, 0, -2) });
  // token 0: W·x = [2, 2, −1]; gate [2>0, 0.5>0, −1>0] = [1, 1, 0]; mag [2+0.5, 2·2+0, ReLU(−3)] → [2.5, 4, 0]
  // token 1: W·x = [−1, −2, 0]; gate [0, 0, 0] (0 > 0 is false)
  assertAllClose(encode(s, X, 2), [2.5, 4, 0, 0, 0, 0], TOL);
});

test('topk: keeps the k largest pre-activations, then ReLU', () => {
  assertAllClose(encode(sae('topk', {}, { k: 1 }), X, 2), [2, 0, 0, 0, 0, 0.5], TOL, 'k=1');
  // token 1's two largest are 0.5 and −1; ReLU zeroes the −1
  assertAllClose(encode(sae('topk', {}, { k: 2 }), X, 2), [2, 1, 0, 0, 0, 0.5], TOL, 'k=2');
  assertAllClose(encode(sae('topk', {}, { k: 3 }), X, 2), [2, 1, 0, 0, 0, 0.5], TOL, 'k=d_sae');
});

test('topk with rescale_acts_by_decoder_norm: selects on pre·‖W_dec row‖, decodes acts/‖W_dec row‖', () => {
  const s = sae('topk', {}, { k: 1, rescale_acts_by_decoder_norm: true });
  // ‖W_dec rows‖ = [1, 1, √2]; token 1: [−1, −2, 0.5·√2] → keeps latent 2 = 0.7071
  const acts = encode(s, X, 2);
  assertAllClose(acts, [2, 0, 0, 0, 0, Math.SQRT1_2], TOL, 'acts');
  // decode: token 0 2/1·[1,0] + b_dec = [3, 1]; token 1 0.7071/√2 = 0.5 → 0.5·[1,1] + b_dec = [1.5, 1.5]
  assertAllClose(decode(s, acts, 2), [3, 1, 1.5, 1.5], TOL, 'recon');
});

test('normalize_activations: constant_norm_rescale and layer_norm are undone by decode', () => {
  const identity = { W_enc: Float32Array.of(1, 0, 0, 1), W_dec: Float32Array.of(1, 0, 0, 1), b_dec: Float32Array.of(0, 0), b_enc: Float32Array.of(0, 0) };
  const cfg = (n: string) => v6Config('standard', 2, 2, { normalize_activations: n, apply_b_dec_to_input: false });
  // ‖[3, 4]‖ = 5 → x·√2/5 = [0.8485, 1.1314]; decode divides by √2/5 again
  const rescale: Sae = { config: cfg('constant_norm_rescale'), weights: identity };
  const enc = encodeWithNorm(rescale, Float32Array.of(3, 4), 1);
  assertAllClose(enc.acts, [(3 * Math.SQRT2) / 5, (4 * Math.SQRT2) / 5], TOL, 'rescaled acts');
  assertAllClose(decode(rescale, enc.acts, 1, enc.norm), [3, 4], { atol: 1e-5 }, 'rescaled recon');
  // [1, 3]: μ = 2, unbiased σ = √2 → [−0.7071, 0.7071]; ReLU → [0, 0.7071]; decode ·σ + μ → [2, 3]
  const ln: Sae = { config: cfg('layer_norm'), weights: identity };
  const lnEnc = encodeWithNorm(ln, Float32Array.of(1, 3), 1);
  assertAllClose(lnEnc.acts, [0, Math.SQRT1_2], { atol: 1e-5 }, 'layer_norm acts');
  assertAllClose(decode(ln, lnEnc.acts, 1, lnEnc.norm), [2, 3], { atol: 1e-4 }, 'layer_norm recon');
  assert.throws(() => decode(ln, lnEnc.acts, 1), UsageError, 'decode without the norm state');
});

test('batched encode equals token-by-token encode', () => {
  const s = sae('standard');
  const both = encode(s, X, 2);
  assert.deepEqual(both.subarray(0, 3), encode(s, X.subarray(0, 2), 1));
  assert.deepEqual(both.subarray(3, 6), encode(s, X.subarray(2, 4), 1));
});

test('inputs of the wrong length fail with ShapeError', () => {
  assert.throws(() => encode(sae('standard'), Float32Array.of(1, 2, 3), 2), ShapeError);
  assert.throws(() => decode(sae('standard'), new Float32Array(5), 2), ShapeError);
});

test('the registry knows the four SAELens architectures and refuses duplicates', () => {
  assert.deepEqual(architectureNames().sort(), ['gated', 'jumprelu', 'standard', 'topk']);
  assert.throws(() => registerArchitecture(architectureByName('standard')), UsageError);
  assert.throws(() => architectureByName('batchtopk'), /unknown SAE architecture "batchtopk"/);
});

test('encodeSelected gives the same activations as the matching columns of encode, for every architecture', () => {
  const d_in = 16;
  const d_sae = 48;
  const T = 7;
  const x = randomArray(T * d_in, 11, 2);
  const picks = [0, 5, 17, 47, 5];
  for (const [arch, extra] of [['standard', {}], ['jumprelu', {}], ['topk', { k: 6 }], ['gated', {}], ['topk', { k: 6, rescale_acts_by_decoder_norm: true }], ['standard', { normalize_activations: 'layer_norm' }]] as const) {
    const s = randomSae(v6Config(arch, d_in, d_sae, extra), 3);
    if (s.weights.b_enc) for (let j = 0; j < d_sae; j++) s.weights.b_enc[j] += 0.3; // some latents fire
    const full = encode(s, x, T);
    const sel = encodeSelected(s, x, T, picks);
    let active = 0;
    for (let t = 0; t < T; t++) {
      picks.forEach((j, f) => {
        const want = full[t * d_sae + j];
        if (want > 0) active++;
        assert.ok(Math.abs(sel[t * picks.length + f] - want) <= 1e-5 * (1 + Math.abs(want)), `${arch} ${JSON.stringify(extra)} token ${t} latent ${j}: ${sel[t * picks.length + f]} vs ${want}`);
      });
    }
    assert.ok(active > 0, `${arch}: no picked latent fired, the check would be empty`);
  }
});
