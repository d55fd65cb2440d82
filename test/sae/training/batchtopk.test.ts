import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Sae, SaeWeights } from '../../../src/sae/sae.js';
import { encode } from '../../../src/sae/sae-forward.js';
import { readSaeLensFolder } from '../../../src/sae/saelens-format.js';
import type { SaeGradients } from '../../../src/sae/training/loss-common.js';
import { createGradients, createLossWorkspace } from '../../../src/sae/training/loss-common.js';
import { batchTopKLoss, kthLargest, selectBatchTopK } from '../../../src/sae/training/losses-batchtopk.js';
import type { BatchTopKLossTerms } from '../../../src/sae/training/losses-batchtopk.js';
import { matryoshkaLoss } from '../../../src/sae/training/losses-matryoshka.js';
import { SaeTrainer } from '../../../src/sae/training/trainer.js';
import { randomArray, randomSae, v6Config } from '../sae-test-helpers.js';

const D_IN = 5;
const D_SAE = 8;
const B = 4;
type Params = Record<string, Float64Array>;
interface Opts { k: number; prefixes?: number[]; deadMask?: Uint8Array; kAux?: number }

function run(sae: Sae, x: Float32Array, o: Opts): { terms: BatchTopKLossTerms; grads: SaeGradients; acts: Float32Array } {
  const grads = createGradients(sae);
  const ws = createLossWorkspace(sae.config, B);
  const lo = { deadMask: o.deadMask, kAux: o.kAux };
  const terms = o.prefixes ? matryoshkaLoss(sae, x, B, { ...lo, prefixes: o.prefixes }, grads, ws) : batchTopKLoss(sae, x, B, lo, grads, ws);
  return { terms, grads, acts: ws.acts.slice(0, B * D_SAE) };
}

/** The loss in float64 from the formulas: global top-(k·B) of pre, summed prefix MSEs, AuxK against a frozen x̂. */
function refLoss(p: Params, x: Float32Array, o: Opts, xhatFrozen?: Float64Array): { total: number; xhat: Float64Array; prefix: number[] } {
  const pre = new Float64Array(B * D_SAE);
  for (let b = 0; b < B; b++) for (let j = 0; j < D_SAE; j++) {
    let s = p.b_enc[j];
    for (let i = 0; i < D_IN; i++) s += (x[b * D_IN + i] - p.b_dec[i]) * p.W_enc[i * D_SAE + j];
    pre[b * D_SAE + j] = s;
  }
  const order = [...pre.keys()].sort((a, c) => pre[c] - pre[a] || a - c).slice(0, o.k * B);
  const f = new Float64Array(B * D_SAE);
  for (const q of order) f[q] = Math.max(pre[q], 0);
  const decode = (z: Float64Array, upTo: number, bias: boolean) => {
    const out = new Float64Array(B * D_IN);
    for (let b = 0; b < B; b++) for (let i = 0; i < D_IN; i++) {
      let s = bias ? p.b_dec[i] : 0;
      for (let j = 0; j < upTo; j++) s += z[b * D_SAE + j] * p.W_dec[j * D_IN + i];
      out[b * D_IN + i] = s;
    }
    return out;
  };
  const sq = (a: Float64Array, t: ArrayLike<number>) => { let s = 0; for (let q = 0; q < a.length; q++) s += (a[q] - t[q]) ** 2; return s / B; };
  const prefixes = o.prefixes ?? [D_SAE];
  const prefix = prefixes.map((m) => sq(decode(f, m, true), x));
  let total = prefix.reduce((a, c) => a + c, 0);
  const dead = o.deadMask;
  const nDead = dead ? dead.reduce((s, v) => s + v, 0) : 0;
  if (dead && nDead > 0 && xhatFrozen) {
    const kAuxW = o.kAux ?? Math.floor(D_IN / 2);
    const z = new Float64Array(B * D_SAE);
    for (let b = 0; b < B; b++) {
      const cand = [...Array(D_SAE).keys()].filter((j) => dead[j]).sort((a, c) => pre[b * D_SAE + c] - pre[b * D_SAE + a] || a - c).slice(0, Math.min(kAuxW, nDead));
      for (const j of cand) z[b * D_SAE + j] = pre[b * D_SAE + j];
    }
    total += (1 / 32) * Math.min(nDead / kAuxW, 1) * sq(decode(z, D_SAE, false), x.map((v, q) => v - xhatFrozen[q]));
  }
  return { total, xhat: decode(f, D_SAE, true), prefix };
}

const toParams = (w: SaeWeights): Params => Object.fromEntries(Object.entries(w).filter(([, v]) => v).map(([k, v]) => [k, Float64Array.from(v as Float32Array)]));

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += (a[i] - b[i]) ** 2; na += a[i] ** 2; nb += b[i] ** 2; }
  return Math.sqrt(d) / Math.max(Math.sqrt(na), Math.sqrt(nb), 1e-6);
}

function gradCheck(name: string, o: Opts, seed: number): void {
  const sae = randomSae(v6Config('topk', D_IN, D_SAE, { k: o.k }), seed);
  const x = randomArray(B * D_IN, seed + 10, 1.5);
  const { terms, grads } = run(sae, x, o);
  const base = toParams(sae.weights);
  const xhat = refLoss(base, x, o).xhat;
  const ref = refLoss(base, x, o, xhat);
  assert.ok(Math.abs(ref.total - terms.total) <= 1e-5 * Math.max(1, ref.total), `${name}: loss ${terms.total} vs float64 ${ref.total}`);
  ref.prefix.forEach((v, i) => assert.ok(Math.abs(v - terms.prefixMse[i]) <= 1e-5 * Math.max(1, v), `${name}: prefix ${i} mse ${terms.prefixMse[i]} vs ${v}`));
  const h = 1e-6;
  for (const w of ['W_enc', 'W_dec', 'b_enc', 'b_dec']) {
    const p = toParams(sae.weights);
    const num = new Float64Array(p[w].length);
    for (let q = 0; q < num.length; q++) {
      const v = p[w][q];
      p[w][q] = v + h;
      const up = refLoss(p, x, o, xhat).total;
      p[w][q] = v - h;
      const down = refLoss(p, x, o, xhat).total;
      p[w][q] = v;
      num[q] = (up - down) / (2 * h);
    }
    const err = relErr(grads[w as keyof SaeGradients]!, num);
    assert.ok(err <= 1e-3, `${name} d/d${w}: relative error ${err}`);
    assert.ok(num.some((v) => v !== 0), `${name} d/d${w} all zero`);
  }
}

const deadMask = Uint8Array.from([0, 1, 0, 0, 1, 1, 0, 1]);
test('batchtopk: gradients match float64 central differences', () => gradCheck('batchtopk', { k: 2 }, 3));
test('batchtopk + AuxK: gradients match float64 central differences', () => gradCheck('batchtopk aux', { k: 2, deadMask, kAux: 2 }, 4));
test('matryoshka: loss is the sum of the prefix losses and gradients match central differences', () => gradCheck('matryoshka', { k: 3, prefixes: [2, 5, 8] }, 5));
test('matryoshka + AuxK: gradients match float64 central differences', () => gradCheck('matryoshka aux', { k: 2, prefixes: [1, 3, 8], deadMask, kAux: 3 }, 6));

test('matryoshka with one prefix equals batchtopk', () => {
  const sae = randomSae(v6Config('topk', D_IN, D_SAE, { k: 2 }), 7);
  const x = randomArray(B * D_IN, 8, 1.5);
  const a = run(sae, x, { k: 2 });
  const b = run(sae, x, { k: 2, prefixes: [D_SAE] });
  assert.equal(a.terms.total, b.terms.total);
  assert.deepEqual(a.grads.W_dec, b.grads.W_dec);
});

test('batchtopk keeps exactly k·B activations per batch (not k per token)', () => {
  const sae = randomSae(v6Config('topk', D_IN, D_SAE, { k: 3 }), 9);
  sae.weights.b_enc!.fill(5); // every pre-activation positive
  const x = randomArray(B * D_IN, 11, 1.5);
  const { acts, terms } = run(sae, x, { k: 3 });
  let nz = 0;
  for (const v of acts) if (v !== 0) nz++;
  assert.equal(nz, 3 * B);
  assert.equal(terms.selected, 3 * B);
  // the kept entries are the largest over the flattened batch
  let minKept = Infinity;
  for (let q = 0; q < acts.length; q++) if (acts[q] !== 0) minKept = Math.min(minKept, acts[q]);
  assert.equal(terms.minKept, minKept);
});

test('selectBatchTopK / kthLargest agree with a sort, ties included', () => {
  for (const seed of [1, 2, 3]) {
    const n = 1000;
    const v = randomArray(n, seed).map((u) => Math.round(u * 20) / 20 + 0); // many ties (+ 0: no −0)
    for (const K of [1, 17, 500, 999, 1000]) {
      const sorted = [...v].sort((a, b) => b - a);
      assert.equal(kthLargest(v.slice(), n, K - 1), sorted[K - 1]);
      const idx = new Int32Array(n);
      selectBatchTopK(idx, v, n, K, new Float32Array(n));
      const picked = [...idx.subarray(0, K)].map((q) => v[q]).sort((a, b) => b - a);
      assert.deepEqual(picked, sorted.slice(0, K));
      assert.equal(new Set(idx.subarray(0, K)).size, K);
    }
  }
});

for (const architecture of ['batchtopk', 'matryoshka'] as const) {
  test(`${architecture}: saved as jumprelu with the running threshold θ; its encode is pre·1[pre > θ] on fresh data`, () => {
    const d_in = 6, d_sae = 16, batch = 32;
    const trainer = new SaeTrainer({
      architecture, d_in, d_sae, k: 3, matryoshkaPrefixes: architecture === 'matryoshka' ? [4, 8] : undefined, batchSize: batch, totalSteps: 40,
      lr: 1e-2, lrSchedule: 'constant', lrWarmupSteps: 0, deadAfterTokens: 1e9, normScale: 0.5, seed: 3, thresholdStartStep: 0, metadata: { hook_name: 'blocks.0.hook_resid_post' },
    });
    const mins: number[] = [];
    for (let s = 0; s < 40; s++) {
      trainer.trainStep(randomArray(batch * d_in, 100 + s, 2));
      mins.push(trainer.threshold);
    }
    assert.ok(trainer.threshold > 0, `θ = ${trainer.threshold}`);
    const dir = mkdtempSync(join(tmpdir(), 'tm-btk-'));
    try {
      trainer.save(dir);
      const sae = readSaeLensFolder(dir);
      assert.equal(sae.config.architecture, 'jumprelu');
      assert.equal(sae.config.k, undefined);
      assert.ok(sae.weights.threshold!.every((t) => Math.abs(t - trainer.threshold) <= 1e-6 * trainer.threshold));
      // Fresh data, raw scale: pre computed from the trained (normalised) weights on s·x.
      const T = 50;
      const x = randomArray(T * d_in, 999, 2);
      const f = encode(sae, x, T);
      const w = trainer.sae.weights;
      let active = 0;
      for (let t = 0; t < T; t++) for (let j = 0; j < d_sae; j++) {
        let pre = w.b_enc![j];
        for (let i = 0; i < d_in; i++) pre += (0.5 * x[t * d_in + i] - w.b_dec[i]) * w.W_enc[i * d_sae + j];
        const want = pre > trainer.threshold ? pre : 0;
        assert.ok(Math.abs(f[t * d_sae + j] - want) <= 1e-4 * Math.max(1, Math.abs(pre)), `t ${t} j ${j}: ${f[t * d_sae + j]} vs ${want}`);
        if (want > 0) active++;
      }
      assert.ok(active > 0, 'threshold switches everything off: the check would be vacuous');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
