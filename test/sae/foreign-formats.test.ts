import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { zipSync } from 'fflate';
import { saeConvert } from '../../src/cli/commands/sae-convert.js';
import { SaeFileError } from '../../src/errors.js';
import { writeSafetensors } from '../../src/model/safetensors.js';
import { readDictionaryLearning } from '../../src/sae/dictionary-learning-format.js';
import { readGemmaScope } from '../../src/sae/gemma-scope-format.js';
import { transpose } from '../../src/sae/foreign-sae.js';
import { reconstruct } from '../../src/sae/sae-forward.js';
import { readSaeLensFolder } from '../../src/sae/saelens-format.js';
import { readSparsify } from '../../src/sae/sparsify-format.js';
import { randomArray } from './sae-test-helpers.js';
import { f32Npy } from './npy-test-helpers.js';

const D = 6, N = 10, T = 5;
const x = randomArray(T * D, 99, 1);
const tmp = () => mkdtempSync(join(tmpdir(), 'foreign-'));

/** x̂ computed by hand: pre = (x − [sub]) W_enc + b_enc, act(pre), then f W_dec + b_dec. */
function byHand(W_enc: Float32Array, b_enc: Float32Array, W_dec: Float32Array, b_dec: Float32Array, sub: boolean, act: (pre: number[]) => number[]): Float32Array {
  const out = new Float32Array(T * D);
  for (let t = 0; t < T; t++) {
    const pre: number[] = [];
    for (let j = 0; j < N; j++) {
      let s = b_enc[j];
      for (let i = 0; i < D; i++) s += (x[t * D + i] - (sub ? b_dec[i] : 0)) * W_enc[i * N + j];
      pre.push(s);
    }
    const f = act(pre);
    for (let i = 0; i < D; i++) {
      let s = b_dec[i];
      for (let j = 0; j < N; j++) s += f[j] * W_dec[j * D + i];
      out[t * D + i] = s;
    }
  }
  return out;
}

function close(a: Float32Array, b: Float32Array): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-4, `index ${i}: ${a[i]} vs ${b[i]}`);
}

const W_enc = randomArray(D * N, 1, 0.5), W_dec = randomArray(N * D, 2, 0.5);
const b_enc = randomArray(N, 3, 0.1), b_dec = randomArray(D, 4, 0.3);
const threshold = randomArray(N, 5, 0.2).map(Math.abs);
const relu = (pre: number[]) => pre.map((p) => Math.max(0, p));
const topk = (k: number) => (pre: number[]) => {
  const keep = new Set([...pre.keys()].sort((a, b) => pre[b] - pre[a]).slice(0, k));
  return pre.map((p, j) => (keep.has(j) ? Math.max(0, p) : 0));
};

function gemmaScopeFile(arrays: Record<string, [number[], Float32Array]>): string {
  const dir = join(tmp(), 'gemma-scope-2b-pt-res', 'layer_2', 'width_16k', 'average_l0_8');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'params.npz');
  writeFileSync(path, zipSync(Object.fromEntries(Object.entries(arrays).map(([n, [s, d]]) => [`${n}.npy`, f32Npy(s, d)]))));
  return path;
}
const gemmaArrays = (): Record<string, [number[], Float32Array]> => ({
  W_enc: [[D, N], W_enc], W_dec: [[N, D], W_dec], b_enc: [[N], b_enc], b_dec: [[D], b_dec], threshold: [[N], threshold],
});

test('Gemma Scope params.npz: jumprelu without b_dec subtraction, matching a hand computation and a SAELens round trip', () => {
  const path = gemmaScopeFile(gemmaArrays());
  const sae = readGemmaScope(path);
  assert.equal(sae.config.architecture, 'jumprelu');
  assert.equal(sae.config.apply_b_dec_to_input, false);
  assert.equal(sae.config.metadata.hook_name, 'blocks.2.hook_resid_post');
  const expected = byHand(W_enc, b_enc, W_dec, b_dec, false, (pre) => pre.map((p, j) => (p > threshold[j] ? p : 0)));
  close(reconstruct(sae, x, T), expected);
  const out = join(tmp(), 'saelens');
  saeConvert(path, { from: 'gemma-scope', to: 'saelens', out, hook: 'blocks.1.hook_resid_post' });
  const back = readSaeLensFolder(out);
  assert.equal(back.config.metadata.hook_name, 'blocks.1.hook_resid_post');
  close(reconstruct(back, x, T), expected);
});

test('Gemma Scope: missing array, wrong shape give SaeFileError naming file and array', () => {
  const missing = gemmaArrays();
  delete missing.threshold;
  const p1 = gemmaScopeFile(missing);
  assert.throws(() => readGemmaScope(p1), (e: unknown) => e instanceof SaeFileError && e.message.startsWith(p1) && /no array "threshold"/.test(e.message));
  const wrong = gemmaArrays();
  wrong.b_dec = [[D + 1], new Float32Array(D + 1)];
  const p2 = gemmaScopeFile(wrong);
  assert.throws(() => readGemmaScope(p2), (e: unknown) => e instanceof SaeFileError && e.message.startsWith(p2) && /b_dec is \[7\] but cfg d_in=6/.test(e.message));
});

test('sparsify folder: topk on x − b_dec, matching a hand computation and a SAELens round trip', () => {
  const dir = join(tmp(), 'layers.3');
  mkdirSync(dir);
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ expansion_factor: 32, normalize_decoder: true, num_latents: N, k: 3, multi_topk: false, skip_connection: false, transcode: false, d_in: D }));
  writeSafetensors(join(dir, 'sae.safetensors'), {
    'encoder.weight': { shape: [N, D], data: transpose(W_enc, D, N) },
    'encoder.bias': { shape: [N], data: b_enc },
    W_dec: { shape: [N, D], data: W_dec },
    b_dec: { shape: [D], data: b_dec },
  });
  const sae = readSparsify(dir);
  assert.equal(sae.config.architecture, 'topk');
  assert.equal(sae.config.k, 3);
  assert.equal(sae.config.metadata.hook_name, 'blocks.3.hook_resid_post');
  const expected = byHand(W_enc, b_enc, W_dec, b_dec, true, topk(3));
  close(reconstruct(sae, x, T), expected);
  const out = join(tmp(), 'saelens');
  saeConvert(dir, { from: 'sparsify', to: 'saelens', out });
  close(reconstruct(readSaeLensFolder(out), x, T), expected);

  writeSafetensors(join(dir, 'sae.safetensors'), { 'encoder.weight': { shape: [N, D], data: transpose(W_enc, D, N) }, 'encoder.bias': { shape: [N], data: b_enc }, b_dec: { shape: [D], data: b_dec } });
  assert.throws(() => readSparsify(dir), (e: unknown) => e instanceof SaeFileError && /sae\.safetensors: no tensor "W_dec"/.test(e.message));
});

test('dictionary_learning AutoEncoder, BatchTopK and JumpReLU safetensors', () => {
  const dir = tmp();
  const std = join(dir, 'std.safetensors');
  writeSafetensors(std, {
    'encoder.weight': { shape: [N, D], data: transpose(W_enc, D, N) },
    'encoder.bias': { shape: [N], data: b_enc },
    'decoder.weight': { shape: [D, N], data: transpose(W_dec, N, D) },
    bias: { shape: [D], data: b_dec },
  });
  const sae = readDictionaryLearning(std);
  assert.equal(sae.config.architecture, 'standard');
  const expected = byHand(W_enc, b_enc, W_dec, b_dec, true, relu);
  close(reconstruct(sae, x, T), expected);
  const out = join(dir, 'saelens');
  saeConvert(std, { from: 'dictionary-learning', to: 'saelens', out });
  close(reconstruct(readSaeLensFolder(out), x, T), expected);

  const batch = join(dir, 'batch.safetensors');
  writeSafetensors(batch, {
    'encoder.weight': { shape: [N, D], data: transpose(W_enc, D, N) },
    'encoder.bias': { shape: [N], data: b_enc },
    'decoder.weight': { shape: [D, N], data: transpose(W_dec, N, D) },
    b_dec: { shape: [D], data: b_dec },
    k: { shape: [], data: new Float32Array([3]) },
    threshold: { shape: [], data: new Float32Array([0.05]) },
  });
  const asTopK = readDictionaryLearning(batch);
  assert.equal(asTopK.config.architecture, 'topk');
  close(reconstruct(asTopK, x, T), byHand(W_enc, b_enc, W_dec, b_dec, true, topk(3)));
  const asBatch = readDictionaryLearning(batch, { variant: 'batchtopk' });
  assert.equal(asBatch.config.architecture, 'jumprelu');
  close(reconstruct(asBatch, x, T), byHand(W_enc, b_enc, W_dec, b_dec, true, (pre) => pre.map((p) => (p > 0.05 ? p : 0))));

  const jump = join(dir, 'jump.safetensors');
  writeSafetensors(jump, {
    W_enc: { shape: [D, N], data: W_enc }, b_enc: { shape: [N], data: b_enc }, W_dec: { shape: [N, D], data: W_dec },
    b_dec: { shape: [D], data: b_dec }, threshold: { shape: [N], data: threshold },
  });
  const j = readDictionaryLearning(jump);
  assert.equal(j.config.apply_b_dec_to_input, false);
  close(reconstruct(j, x, T), byHand(W_enc, b_enc, W_dec, b_dec, false, (pre) => pre.map((p, i) => (p > threshold[i] ? p : 0))));

  const bad = join(dir, 'bad.safetensors');
  writeSafetensors(bad, {
    'encoder.weight': { shape: [N, D], data: transpose(W_enc, D, N) },
    'encoder.bias': { shape: [N], data: b_enc },
    'decoder.weight': { shape: [N, D], data: W_dec },
    bias: { shape: [D], data: b_dec },
  });
  assert.throws(() => readDictionaryLearning(bad), (e: unknown) => e instanceof SaeFileError && e.message.startsWith(bad) && /decoder\.weight is \[10, 6\]/.test(e.message));
});
