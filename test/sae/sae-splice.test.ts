import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ShapeError } from '../../src/errors.js';
import type { HookActivation } from '../../src/model/hook-registry.js';
import { loadModel } from '../../src/model/load-model.js';
import { saeSpliceHook } from '../../src/sae/sae-splice.js';
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

test('the hook gives SAE(x) without the error term, and x − a_j·W_dec[j] when latent j is ablated with it', () => {
  const sae = randomSae(v6Config('standard', 8, 32), 5);
  const x = randomArray(3 * 8, 21, 2);
  const { acts, recon } = standardSaeByHand(sae, x, 3);
  assertAllClose(saeSpliceHook(sae)(activation(x.slice(), 8)) as Float32Array, recon, { atol: 1e-5 }, 'SAE(x)');

  const j = acts.subarray(0, 32).findIndex((a) => a > 0);
  assert.ok(j >= 0, 'token 0 has an active latent');
  const ablate = saeSpliceHook(sae, { errorTerm: true, edit: (a) => void (a[j] = 0) });
  const out = ablate(activation(x.slice(), 8)) as Float32Array;
  for (let i = 0; i < 8; i++) {
    const expected = x[i] - acts[j] * sae.weights.W_dec[j * 8 + i];
    assert.ok(Math.abs(out[i] - expected) <= 1e-5, `token 0 [${i}]: ${out[i]} vs ${expected}`);
  }
  // The edit zeroed flat index j, a latent of token 0 only: tokens 1 and 2 come back as x exactly.
  assert.deepEqual(out.subarray(8), x.subarray(8));
});

test('a width mismatch fails with ShapeError naming the hook', () => {
  const sae = randomSae(v6Config('standard', 8, 16));
  assert.throws(() => saeSpliceHook(sae)(activation(new Float32Array(12), 12)), (err: unknown) => err instanceof ShapeError && /d_in=8.*blocks.2.hook_resid_post.*width is 12/.test(err.message));
});
