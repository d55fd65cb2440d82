import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ShapeError } from '../../src/errors.js';
import type { HookActivation } from '../../src/model/hook-registry.js';
import { loadModel } from '../../src/model/load-model.js';
import { decode, encodeWithNorm } from '../../src/sae/sae-forward.js';
import type { LatentEdit } from '../../src/sae/sae-splice.js';
import { saeSpliceHook, spliceSae } from '../../src/sae/sae-splice.js';
import { assetPath } from '../../src/util/package-root.js';
import type { Sae } from '../../src/sae/sae.js';
import { assertAllClose, maxAbsDiff } from '../helpers/assert-all-close.js';
import { randomArray, randomSae, v6Config } from './sae-test-helpers.js';

/**
 * Law: an SAE spliced in with its error term is the identity (the clean model's logits, at prompt
 * and decode steps); without the error term it changes them.
 */
const { model, tokenizer } = loadModel();
const DIM = model.config.dim;
const HOOK = 'blocks.2.hook_resid_post';
const prompt = [1, ...tokenizer.encode(readFileSync(assetPath('data', 'tinystories_val.txt'), 'utf8').slice(0, 400), { bos: false }).slice(0, 23)];

/** Logits of the prompt (every token) and of three greedy decode steps. */
function run(): Float32Array[] {
  const cache = model.newCache(1);
  const out = [model.forward(cache, [prompt], { allLogits: true }).logits.slice()];
  for (let s = 0; s < 3; s++) {
    const last = out[out.length - 1];
    const row = last.subarray(last.length - model.config.vocabSize);
    out.push(model.forward(cache, [[row.indexOf(Math.max(...row))]]).logits.slice());
  }
  return out;
}

test('splicing with the error term leaves the logits equal to the clean ones; without it they differ', () => {
  assert.equal(DIM, 64);
  const clean = run();
  for (const arch of ['standard', 'gated', 'jumprelu', 'topk']) {
    const sae = randomSae(v6Config(arch, DIM, 256, arch === 'topk' ? { k: 8 } : {}), 3);
    const withError = model.hooks.with([{ name: HOOK, fn: saeSpliceHook(sae, { errorTerm: true }) }], run);
    for (let s = 0; s < clean.length; s++) {
      assert.ok(maxAbsDiff(withError[s], clean[s]) <= 1e-5, `${arch} step ${s}`);
      assert.deepEqual(withError[s], clean[s], `${arch} step ${s}: bit-identical`);
    }
    const without = model.hooks.with([{ name: HOOK, fn: saeSpliceHook(sae) }], run);
    assert.ok(maxAbsDiff(without[0], clean[0]) > 1e-3, `${arch}: a random SAE without the error term changes the logits`);
  }
});

function activation(data: Float32Array, width: number): HookActivation {
  const tokens = data.length / width;
  return { name: HOOK, data, width, rows: Int32Array.of(0), rowStart: Int32Array.of(0, tokens), positions: Int32Array.from({ length: tokens }, (_, i) => i) };
}

/**
 * A standard SAE written out by hand in float64 (SAELens StandardSAE with apply_b_dec_to_input):
 * acts = ReLU((x − b_dec)·W_enc + b_enc), x̂ = acts·W_dec + b_dec; [tokens, d_sae] and [tokens, d_in].
 */
function standardSaeByHand(sae: Sae, x: Float32Array, tokens: number): { acts: Float64Array; recon: Float64Array } {
  const { d_in, d_sae } = sae.config;
  const { W_enc, b_enc, W_dec, b_dec } = sae.weights;
  const acts = new Float64Array(tokens * d_sae);
  const recon = new Float64Array(tokens * d_in);
  for (let t = 0; t < tokens; t++) {
    for (let j = 0; j < d_sae; j++) {
      let pre = b_enc![j];
      for (let i = 0; i < d_in; i++) pre += (x[t * d_in + i] - b_dec[i]) * W_enc[i * d_sae + j];
      acts[t * d_sae + j] = Math.max(0, pre);
    }
    for (let i = 0; i < d_in; i++) {
      let r = b_dec[i];
      for (let j = 0; j < d_sae; j++) r += acts[t * d_sae + j] * W_dec[j * d_in + i];
      recon[t * d_in + i] = r;
    }
  }
  return { acts, recon };
}

test('the hook gives SAE(x) without the error term, and x − a_j·W_dec[j] on every token when latent j is ablated with it', () => {
  const sae = randomSae(v6Config('standard', 8, 32), 5);
  const x = randomArray(3 * 8, 21, 2);
  const { acts, recon } = standardSaeByHand(sae, x, 3);
  const plain = activation(x.slice(), 8);
  saeSpliceHook(sae)(plain);
  assertAllClose(plain.data, recon, { atol: 1e-5 }, 'SAE(x)');

  const j = acts.subarray(0, 32).findIndex((a) => a > 0);
  assert.ok(j >= 0, 'token 0 has an active latent');
  const ablated = activation(x.slice(), 8);
  saeSpliceHook(sae, { errorTerm: true, edits: [{ index: j, method: 'ABLATE', value: 0 }] })(ablated);
  let untouched = 0;
  for (let t = 0; t < 3; t++) {
    const a = acts[t * 32 + j];
    if (a === 0) untouched++;
    for (let i = 0; i < 8; i++) {
      const expected = x[t * 8 + i] - a * sae.weights.W_dec[j * 8 + i];
      if (a === 0) assert.equal(ablated.data[t * 8 + i], x[t * 8 + i], `token ${t} has latent ${j} off: x exactly`);
      else assert.ok(Math.abs(ablated.data[t * 8 + i] - expected) <= 1e-5, `token ${t} [${i}]: ${ablated.data[t * 8 + i]} vs ${expected}`);
    }
  }
  assert.ok(untouched < 3, 'the ablation moved some token');
});

test('the error-term splice from the edits alone equals x + SAE_dec(a′) − SAE_dec(a) from two full decodes, for every architecture and run-time normalisation', () => {
  const T = 5;
  const x = randomArray(T * 8, 33, 2);
  const cases: [string, Record<string, unknown>][] = [
    ['standard', {}], ['gated', {}], ['jumprelu', {}], ['topk', { k: 4 }], ['topk', { k: 4, rescale_acts_by_decoder_norm: true }],
    ['standard', { normalize_activations: 'constant_norm_rescale' }], ['standard', { normalize_activations: 'layer_norm' }],
  ];
  for (const [arch, extra] of cases) {
    const sae = randomSae(v6Config(arch, 8, 24, extra), 9);
    if (sae.weights.threshold) sae.weights.threshold.fill(0.05);
    const { acts, norm } = encodeWithNorm(sae, x, T);
    // Token 1 keeps x; tokens 0, 2, 4 get different edits (two of the same latent on token 4, in order).
    const tokens = [0, 2, 4];
    const edits: LatentEdit[][] = [
      [{ index: 3, method: 'CLAMP', value: 2.5 }, { index: 7, method: 'ABLATE', value: 0 }],
      [{ index: 11, method: 'MULTIPLY', value: -1.5 }],
      [{ index: 5, method: 'MEAN_ABLATE', value: 0.7 }, { index: 5, method: 'MULTIPLY', value: 3 }],
    ];
    const edited = acts.slice();
    tokens.forEach((t, i) => {
      for (const e of edits[i]) {
        const a = edited[t * 24 + e.index];
        edited[t * 24 + e.index] = e.method === 'CLAMP' ? e.value : e.method === 'MULTIPLY' ? a * e.value : e.method === 'MEAN_ABLATE' ? e.value : 0;
      }
    });
    const want = decode(sae, edited, T, norm).map((v, i) => x[i] + v - decode(sae, acts, T, norm)[i]);
    const got = x.slice();
    const r = spliceSae(sae, got, { tokens, edits, errorTerm: true });
    const label = `${arch} ${JSON.stringify(extra)}`;
    assert.deepEqual(got.subarray(8, 16), x.subarray(8, 16), `${label}: an unlisted token is x exactly`);
    for (const t of tokens) for (let i = t * 8; i < (t + 1) * 8; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 * (1 + Math.abs(want[i])), `${label} [${i}]: ${got[i]} vs ${want[i]}`);
    tokens.forEach((t, i) => assert.deepEqual(r.acts.subarray(i * 24, (i + 1) * 24), edited.subarray(t * 24, (t + 1) * 24), `${label}: edited latents of token ${t}`));

    // Without the error term the listed tokens become SAE_dec(a′); the reconstruction asked for is SAE(x), before the edits.
    const replaced = x.slice();
    const s = spliceSae(sae, replaced, { tokens, edits, reconstruction: true });
    const full = decode(sae, edited, T, norm);
    const clean = decode(sae, acts, T, norm);
    tokens.forEach((t, i) => {
      assert.deepEqual(replaced.subarray(t * 8, (t + 1) * 8), full.subarray(t * 8, (t + 1) * 8), `${label}: token ${t} replaced`);
      assert.deepEqual(s.reconstruction?.subarray(i * 8, (i + 1) * 8), clean.subarray(t * 8, (t + 1) * 8), `${label}: reconstruction of token ${t}`);
    });
    assert.deepEqual(replaced.subarray(8, 16), x.subarray(8, 16));
  }
});

test('an empty edit with the error term leaves x bit for bit, −0 included', () => {
  const sae = randomSae(v6Config('topk', 8, 16, { k: 3 }), 2);
  const x = randomArray(2 * 8, 4, 1);
  x[3] = -0;
  const out = x.slice();
  spliceSae(sae, out, { errorTerm: true, edits: [{ index: 0, method: 'MULTIPLY', value: 1 }] });
  assert.deepEqual(out, x);
  assert.ok(Object.is(out[3], -0));
});

test('a width mismatch fails with ShapeError naming the hook', () => {
  const sae = randomSae(v6Config('standard', 8, 16));
  assert.throws(() => saeSpliceHook(sae)(activation(new Float32Array(12), 12)), (err: unknown) => err instanceof ShapeError && /d_in=8.*blocks.2.hook_resid_post.*width is 12/.test(err.message));
});
