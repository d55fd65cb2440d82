import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Sae, SaeWeights } from '../../../src/sae/sae.js';
import type { Backend } from '../../../src/tensor/backend.js';
import { activeBackend } from '../../../src/tensor/backend-registry.js';
import { referenceBackend } from '../../../src/tensor/reference-backend.js';
import type { WeightMatrix } from '../../../src/tensor/weight-matrix.js';
import type { LossTerms, SaeGradients } from '../../../src/sae/training/loss-common.js';
import { createGradients, createLossWorkspace } from '../../../src/sae/training/loss-common.js';
import { gatedLoss } from '../../../src/sae/training/losses-gated.js';
import type { GatedLossOptions } from '../../../src/sae/training/losses-gated.js';
import { jumpReluLoss } from '../../../src/sae/training/losses-jumprelu.js';
import type { JumpReluLossOptions } from '../../../src/sae/training/losses-jumprelu.js';
import { standardLoss } from '../../../src/sae/training/losses-standard.js';
import { topKLoss } from '../../../src/sae/training/losses-topk.js';
import type { TopKLossOptions } from '../../../src/sae/training/losses-topk.js';
import { randomArray, randomSae, v6Config } from '../sae-test-helpers.js';

const D_IN = 5;
const D_SAE = 7;
const B = 4;

/** The four products as plain loops (float64 sums), to check the backend's kernels against. */
const loopBackend: Backend = {
  ...referenceBackend,
  name: 'loops',
  matmul(out: Float32Array, x: Float32Array, w: WeightMatrix, rows: number, n: number, d: number) {
    const W = w as Float32Array;
    for (let r = 0; r < rows; r++) for (let o = 0; o < d; o++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += x[r * n + i] * W[o * n + i];
      out[r * d + o] = s;
    }
  },
  matmulNN(out, a, b, m, k, n) {
    for (let r = 0; r < m; r++) for (let c = 0; c < n; c++) {
      let s = 0;
      for (let i = 0; i < k; i++) s += a[r * k + i] * b[i * n + c];
      out[r * n + c] = s;
    }
  },
  matmulTN(out, a, b, m, k, n) {
    for (let r = 0; r < m; r++) for (let c = 0; c < n; c++) {
      let s = 0;
      for (let i = 0; i < k; i++) s += a[i * m + r] * b[i * n + c];
      out[r * n + c] = s;
    }
  },
  topKRows(outIdx, outVal, x, rows, n, k) {
    for (let r = 0; r < rows; r++) {
      const order = [...Array(n).keys()].sort((p, q) => x[r * n + q] - x[r * n + p] || p - q);
      for (let i = 0; i < k; i++) {
        outIdx[r * k + i] = order[i];
        outVal[r * k + i] = x[r * n + order[i]];
      }
    }
  },
};

type Params = Record<string, Float64Array>;
type Arch = 'standard' | 'jumprelu' | 'topk' | 'gated';
type Opts = { l1Coefficient?: number } & Partial<JumpReluLossOptions> & TopKLossOptions & Omit<GatedLossOptions, 'l1Coefficient'>;

function run(sae: Sae, arch: Arch, x: Float32Array, batch: number, opts: Opts, backend: Backend): { terms: LossTerms; grads: SaeGradients } {
  const grads = createGradients(sae);
  const ws = createLossWorkspace(sae.config, batch);
  const l1Coefficient = opts.l1Coefficient ?? 0;
  let terms: LossTerms;
  if (arch === 'standard') terms = standardLoss(sae, x, batch, { l1Coefficient, encoder: opts.encoder, decoder: opts.decoder }, grads, ws, backend);
  else if (arch === 'gated') terms = gatedLoss(sae, x, batch, { ...opts, l1Coefficient }, grads, ws, backend);
  else if (arch === 'topk') terms = topKLoss(sae, x, batch, opts, grads, ws, backend);
  else terms = jumpReluLoss(sae, x, batch, { l0Coefficient: opts.l0Coefficient ?? 0, bandwidth: opts.bandwidth ?? 0.05, mode: opts.mode ?? 'step', tanhScale: opts.tanhScale }, grads, ws, backend);
  return { terms, grads };
}

/**
 * The loss in float64 by plain loops, written from the formulas (not from the implementation).
 * `frozen` holds the parameters the loss treats as constants (gated auxiliary decoder) and `xhatFrozen`
 * the detached reconstruction the AuxK residual uses.
 */
function refLoss(arch: Arch, p: Params, x: Float32Array, batch: number, cfg: { k?: number; rescale?: boolean; apply: boolean }, opts: Opts, frozen: Params, xhatFrozen?: Float64Array): { total: number; xhat: Float64Array } {
  const n = new Float64Array(D_SAE);
  for (let j = 0; j < D_SAE; j++) {
    let s = 0;
    for (let i = 0; i < D_IN; i++) s += p.W_dec[j * D_IN + i] ** 2;
    n[j] = Math.sqrt(s);
  }
  const decode = (z: Float64Array, W: Float64Array, bias: Float64Array | undefined) => {
    const out = new Float64Array(batch * D_IN);
    for (let b = 0; b < batch; b++) for (let i = 0; i < D_IN; i++) {
      let s = bias ? bias[i] : 0;
      for (let j = 0; j < D_SAE; j++) s += z[b * D_SAE + j] * W[j * D_IN + i];
      out[b * D_IN + i] = s;
    }
    return out;
  };
  const sq = (a: Float64Array, t: ArrayLike<number>) => { let s = 0; for (let q = 0; q < a.length; q++) s += (a[q] - t[q]) ** 2; return s / batch; };
  const P = new Float64Array(batch * D_SAE);
  for (let b = 0; b < batch; b++) for (let j = 0; j < D_SAE; j++) {
    let s = 0;
    for (let i = 0; i < D_IN; i++) s += (x[b * D_IN + i] - (cfg.apply ? p.b_dec[i] : 0)) * p.W_enc[i * D_SAE + j];
    P[b * D_SAE + j] = s;
  }
  const f = new Float64Array(batch * D_SAE);
  let extra = 0;
  const lam = opts.l1Coefficient ?? opts.l0Coefficient ?? 0;
  if (arch === 'standard' || arch === 'jumprelu') {
    for (let q = 0; q < f.length; q++) {
      const j = q % D_SAE;
      const pre = P[q] + p.b_enc[j];
      if (arch === 'standard') { f[q] = Math.max(pre, 0); extra += (lam * f[q] * n[j]) / batch; continue; }
      const t = Math.max(p.threshold[j], 0);
      f[q] = pre > t ? pre : 0;
      extra += (lam * (opts.mode === 'tanh' ? Math.tanh((opts.tanhScale ?? 4) * f[q] * n[j]) : pre > t ? 1 : 0)) / batch;
    }
  }
  const pickTop = (score: (j: number) => number, k: number) =>
    [...Array(D_SAE).keys()].sort((a, c) => score(c) - score(a) || a - c).slice(0, k);
  if (arch === 'topk') {
    const dead = opts.deadMask;
    const z = new Float64Array(batch * D_SAE);
    const nDead = dead ? dead.reduce((s, v) => s + (v ? 1 : 0), 0) : 0;
    const kAuxW = opts.kAux ?? Math.floor(D_IN / 2);
    for (let b = 0; b < batch; b++) {
      const pre = (j: number) => P[b * D_SAE + j] + p.b_enc[j];
      const h = (j: number) => (cfg.rescale ? pre(j) * n[j] : pre(j));
      for (const j of pickTop(h, cfg.k!)) f[b * D_SAE + j] = Math.max(pre(j), 0);
      if (nDead > 0) for (const j of pickTop((jj) => (dead![jj] ? h(jj) : -Infinity), Math.min(kAuxW, nDead))) z[b * D_SAE + j] = pre(j);
    }
    // The first call (no frozen reconstruction yet) only needs x̂.
    if (nDead > 0 && xhatFrozen) {
      const ehat = decode(z, p.W_dec, undefined);
      const e = x.map((v, q) => v - xhatFrozen[q]);
      extra = (opts.auxCoefficient ?? 1 / 32) * Math.min(nDead / kAuxW, 1) * sq(ehat, e);
    }
  }
  if (arch === 'gated') {
    const g = new Float64Array(batch * D_SAE);
    let l1 = 0;
    for (let q = 0; q < f.length; q++) {
      const j = q % D_SAE;
      const gate = P[q] + p.b_gate[j];
      const mag = P[q] * Math.exp(p.r_mag[j]) + p.b_mag[j];
      f[q] = gate > 0 ? Math.max(mag, 0) : 0;
      g[q] = Math.max(gate, 0);
      l1 += g[q] * (opts.weightL1ByDecoderNorm === false ? 1 : n[j]);
    }
    const fz = opts.freezeDecoderInAux === false ? p : frozen;
    extra = ((lam * l1) / batch) + sq(decode(g, fz.W_dec, fz.b_dec), x);
  }
  const xhat = decode(f, p.W_dec, p.b_dec);
  return { total: sq(xhat, x) + extra, xhat };
}

function toParams(w: SaeWeights): Params {
  return Object.fromEntries(Object.entries(w).filter(([, v]) => v).map(([k, v]) => [k, Float64Array.from(v as Float32Array)]));
}

/** ‖a − b‖ / max(‖a‖, ‖b‖), or the absolute difference norm when both are tiny. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += (a[i] - b[i]) ** 2; na += a[i] ** 2; nb += b[i] ** 2; }
  return Math.sqrt(d) / Math.max(Math.sqrt(na), Math.sqrt(nb), 1e-6);
}

/** Central differences of refLoss in float64 against the analytic gradients, for every listed tensor. */
function gradCheck(arch: Arch, sae: Sae, x: Float32Array, opts: Opts, names: string[]): void {
  const { terms, grads } = run(sae, arch, x, B, opts, activeBackend());
  const base = toParams(sae.weights);
  const cfg = { k: sae.config.k, rescale: sae.config.rescale_acts_by_decoder_norm, apply: sae.config.apply_b_dec_to_input };
  const ref = refLoss(arch, base, x, B, cfg, opts, base);
  const frozenXhat = ref.xhat;
  const ref2 = refLoss(arch, base, x, B, cfg, opts, base, frozenXhat);
  assert.ok(Math.abs(ref2.total - terms.total) <= 1e-5 * Math.max(1, Math.abs(terms.total)), `${arch} loss ${terms.total} vs float64 ${ref2.total}`);
  const h = 1e-6;
  for (const name of names) {
    const p = toParams(sae.weights);
    const numeric = new Float64Array(p[name].length);
    for (let q = 0; q < numeric.length; q++) {
      const v = p[name][q];
      p[name][q] = v + h;
      const up = refLoss(arch, p, x, B, cfg, opts, base, frozenXhat).total;
      p[name][q] = v - h;
      const down = refLoss(arch, p, x, B, cfg, opts, base, frozenXhat).total;
      p[name][q] = v;
      numeric[q] = (up - down) / (2 * h);
    }
    const analytic = grads[name as keyof SaeGradients]!;
    const err = relErr(analytic, numeric);
    assert.ok(err <= 1e-3, `${arch} d/d${name}: relative error ${err}\n analytic ${[...analytic].map((v) => v.toFixed(5))}\n numeric  ${[...numeric].map((v) => v.toFixed(5))}`);
    assert.ok(numeric.some((v) => v !== 0) || name === 'threshold', `${arch} d/d${name} is all zero: the check would be vacuous`);
  }
}

function batchX(seed: number): Float32Array {
  return randomArray(B * D_IN, seed, 1.5);
}

for (const apply of [true, false]) {
  test(`standard: gradients match central differences (apply_b_dec_to_input ${apply}, fused and unfused encoder and decoder)`, () => {
    const sae = randomSae(v6Config('standard', D_IN, D_SAE, { apply_b_dec_to_input: apply }), 11);
    for (const [encoder, decoder] of [
      ['fused', 'fused'],
      ['grid', 'separate'],
    ] as const) {
      gradCheck('standard', sae, batchX(12), { l1Coefficient: 0.7, encoder, decoder }, ['W_enc', 'b_enc', 'W_dec', 'b_dec']);
    }
  });

  test(`gated: gradients match central differences, frozen and unfrozen aux decoder (apply ${apply})`, () => {
    const sae = randomSae(v6Config('gated', D_IN, D_SAE, { apply_b_dec_to_input: apply }), 21);
    for (const freezeDecoderInAux of [true, false]) {
      for (const weightL1ByDecoderNorm of [true, false]) {
        gradCheck('gated', sae, batchX(22), { l1Coefficient: 0.6, freezeDecoderInAux, weightL1ByDecoderNorm }, ['W_enc', 'b_gate', 'b_mag', 'r_mag', 'W_dec', 'b_dec']);
      }
    }
  });
}

for (const rescale of [false, true]) {
  for (const [encoder, decoder] of [
    ['fused', 'fused'],
    ['grid', 'separate'],
  ] as const) {
    test(`topk: gradients with AuxK match central differences (rescale_acts_by_decoder_norm ${rescale}, ${encoder} encoder, ${decoder} decoder)`, () => {
      const sae = randomSae(v6Config('topk', D_IN, D_SAE, { k: 3, rescale_acts_by_decoder_norm: rescale }), 31);
      const deadMask = Uint8Array.of(1, 0, 1, 1, 0, 0, 1);
      gradCheck('topk', sae, batchX(32), { deadMask, auxCoefficient: 0.5, encoder, decoder }, ['W_enc', 'b_enc', 'W_dec', 'b_dec']);
      gradCheck('topk', sae, batchX(33), { deadMask: Uint8Array.of(0, 0, 1, 0, 0, 0, 0), kAux: 3, encoder, decoder }, ['W_enc', 'b_enc', 'W_dec', 'b_dec']);
      gradCheck('topk', sae, batchX(34), { encoder, decoder }, ['W_enc', 'b_enc', 'W_dec', 'b_dec']);
    });
  }
}

for (const arch of ['topk', 'standard'] as const) {
  test(`${arch}: the fused and the separate decoder passes agree at 64 × 1024${arch === 'topk' ? ' with AuxK' : ''} (to float rounding)`, () => {
    const sae = randomSae(v6Config(arch, 64, 1024, { k: 32 }), 37);
    const x = randomArray(300 * 64, 38, 2);
    const deadMask = Uint8Array.from({ length: 1024 }, (_, j) => (j % 7 === 0 ? 1 : 0));
    const opts = arch === 'topk' ? { deadMask } : { l1Coefficient: 0.3 };
    const [fused, separate] = (['fused', 'separate'] as const).map((decoder) => run(sae, arch, x, 300, { ...opts, decoder }, activeBackend()));
    assert.equal(fused.terms.l0, separate.terms.l0);
    assert.ok(fused.terms.l0 > 0, 'latents fired');
    for (const key of ['mse', 'sparsity', 'aux', 'total'] as const) {
      assert.ok(Math.abs(fused.terms[key] - separate.terms[key]) <= 1e-5 * Math.abs(separate.terms[key]), `${key}: ${fused.terms[key]} vs ${separate.terms[key]}`);
    }
    for (const [name, g] of Object.entries(separate.grads)) {
      const err = relErr(fused.grads[name as keyof SaeGradients]!, g);
      assert.ok(err <= 1e-5, `${name} gradient: relative error ${err}`);
    }
  });
}

test('topk: the fused encoder and the [B, d_sae] grid give bit-identical losses and gradients at 64 × 1024 with AuxK', () => {
  const sae = randomSae(v6Config('topk', 64, 1024, { k: 32, rescale_acts_by_decoder_norm: true }), 35);
  const x = randomArray(96 * 64, 36, 2);
  const deadMask = Uint8Array.from({ length: 1024 }, (_, j) => (j % 5 === 0 ? 1 : 0));
  const [fused, grid] = (['fused', 'grid'] as const).map((encoder) => run(sae, 'topk', x, 96, { deadMask, encoder }, activeBackend()));
  assert.deepEqual(fused.terms, grid.terms);
  assert.ok(fused.terms.aux > 0, 'AuxK ran');
  for (const [name, g] of Object.entries(grid.grads)) assert.deepEqual(fused.grads[name as keyof SaeGradients], g, `${name} gradient`);
});

function jumpSae(): Sae {
  const sae = randomSae(v6Config('jumprelu', D_IN, D_SAE), 41);
  sae.weights.W_enc = randomArray(D_IN * D_SAE, 42, 0.6);
  sae.weights.threshold = Float32Array.from(randomArray(D_SAE, 43, 0.15), (v) => 0.2 + v);
  sae.weights.threshold[6] = -0.1; // ReLU(θ) = 0: no threshold gradient
  return sae;
}

/** d total / dθ by the STE formulas, computed here by plain float64 loops. */
function steThresholdGrad(sae: Sae, x: Float32Array, opts: JumpReluLossOptions): { grad: Float64Array; hits: number } {
  const w = toParams(sae.weights);
  const c = opts.tanhScale ?? 4;
  const eps = opts.bandwidth;
  const grad = new Float64Array(D_SAE);
  const pre = new Float64Array(B * D_SAE);
  const f = new Float64Array(B * D_SAE);
  const n = new Float64Array(D_SAE).map((_, j) => Math.hypot(...w.W_dec.subarray(j * D_IN, (j + 1) * D_IN)));
  for (let b = 0; b < B; b++) for (let j = 0; j < D_SAE; j++) {
    let s = w.b_enc[j];
    for (let i = 0; i < D_IN; i++) s += (x[b * D_IN + i] - w.b_dec[i]) * w.W_enc[i * D_SAE + j];
    pre[b * D_SAE + j] = s;
    f[b * D_SAE + j] = s > Math.max(w.threshold[j], 0) ? s : 0;
  }
  let hits = 0;
  for (let b = 0; b < B; b++) {
    const r = new Float64Array(D_IN);
    for (let i = 0; i < D_IN; i++) {
      let s = w.b_dec[i] - x[b * D_IN + i];
      for (let j = 0; j < D_SAE; j++) s += f[b * D_SAE + j] * w.W_dec[j * D_IN + i];
      r[i] = s;
    }
    for (let j = 0; j < D_SAE; j++) {
      if (!(w.threshold[j] > 0)) continue;
      const t = w.threshold[j];
      const u = (pre[b * D_SAE + j] - t) / eps;
      const K = Math.abs(u) < 0.5 ? 1 : 0;
      hits += K;
      let dF = 0;
      for (let i = 0; i < D_IN; i++) dF += (2 * r[i] * w.W_dec[j * D_IN + i]) / B;
      if (opts.mode === 'tanh') dF += (opts.l0Coefficient / B) * c * n[j] * (1 - Math.tanh(c * f[b * D_SAE + j] * n[j]) ** 2);
      grad[j] += dF * (-t / eps) * K;
      if (opts.mode === 'step') grad[j] += (opts.l0Coefficient / B) * (-1 / eps) * K;
    }
  }
  return { grad, hits };
}

for (const mode of ['step', 'tanh'] as const) {
  test(`jumprelu (${mode}): differentiable gradients match central differences, threshold matches the STE`, () => {
    const sae = jumpSae();
    const x = batchX(44);
    const opts: JumpReluLossOptions = { l0Coefficient: 0.3, bandwidth: 0.5, mode, tanhScale: 2 };
    gradCheck('jumprelu', sae, x, opts, ['W_enc', 'b_enc', 'W_dec', 'b_dec']);
    const { grads } = run(sae, 'jumprelu', x, B, opts, activeBackend());
    const ste = steThresholdGrad(sae, x, opts);
    assert.ok(ste.hits >= 2, `only ${ste.hits} pre-activations fall inside the kernel: the check would be weak`);
    assert.ok(relErr(grads.threshold!, ste.grad) <= 1e-5, `threshold grad ${[...grads.threshold!]} vs STE ${[...ste.grad]}`);
    assert.equal(grads.threshold![6], 0);
  });
}

test('jumprelu: the step L0 term alone moves only the threshold', () => {
  const sae = jumpSae();
  const x = batchX(45);
  const withL0 = run(sae, 'jumprelu', x, B, { l0Coefficient: 5, bandwidth: 0.5, mode: 'step' }, activeBackend()).grads;
  const without = run(sae, 'jumprelu', x, B, { l0Coefficient: 0, bandwidth: 0.5, mode: 'step' }, activeBackend()).grads;
  for (const name of ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const) assert.deepEqual(withL0[name], without[name]);
  assert.notDeepEqual(withL0.threshold, without.threshold);
});

test('backend kernels give the same loss and gradients as plain loops, every architecture', () => {
  const cases: [Arch, Sae, Opts][] = [
    ['standard', randomSae(v6Config('standard', D_IN, D_SAE), 51), { l1Coefficient: 0.4 }],
    ['gated', randomSae(v6Config('gated', D_IN, D_SAE), 52), { l1Coefficient: 0.4 }],
    ['topk', randomSae(v6Config('topk', D_IN, D_SAE, { k: 2, rescale_acts_by_decoder_norm: true }), 53), { deadMask: Uint8Array.of(1, 1, 0, 0, 1, 0, 1) }],
    ['jumprelu', jumpSae(), { l0Coefficient: 0.2, bandwidth: 0.5, mode: 'tanh' }],
  ];
  for (const [arch, sae, opts] of cases) {
    const x = batchX(54);
    const a = run(sae, arch, x, B, opts, activeBackend());
    const b = run(sae, arch, x, B, opts, loopBackend);
    assert.ok(Math.abs(a.terms.total - b.terms.total) <= 1e-5 * Math.max(1, Math.abs(b.terms.total)), `${arch}: ${a.terms.total} vs ${b.terms.total}`);
    for (const [name, g] of Object.entries(b.grads)) {
      const err = relErr(a.grads[name as keyof SaeGradients]!, g as Float32Array);
      assert.ok(err <= 1e-5, `${arch} ${name} (${activeBackend().name} vs loops): relative error ${err}`);
    }
  }
});

/** A 2 → 2 or 2 → 3 SAE with hand-picked weights, b_dec = 0. */
function handSae(arch: string, w: Partial<SaeWeights> & Pick<SaeWeights, 'W_enc' | 'W_dec'>, extra: Record<string, unknown> = {}): Sae {
  const d_sae = w.W_dec.length / 2;
  return { config: v6Config(arch, 2, d_sae, extra), weights: { b_dec: new Float32Array(2), ...w } };
}

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} ≠ ${b}`);

test('loss values on hand-computed examples', () => {
  const I = Float32Array.of(1, 0, 0, 1);
  // standard: pre = [1, −1], f = [1, 0], x̂ = [2, 0]; mse = 1 + 1; L1 = 0.5 · 1 · ‖(2, 0)‖ = 1.
  let t = run(handSae('standard', { W_enc: I, W_dec: Float32Array.of(2, 0, 0, 1), b_enc: new Float32Array(2) }), 'standard', Float32Array.of(1, -1), 1, { l1Coefficient: 0.5 }, activeBackend()).terms;
  close(t.mse, 2, 'standard mse'); close(t.sparsity, 1, 'standard l1'); close(t.total, 3, 'standard total'); close(t.l0, 1, 'standard l0');

  // jumprelu: pre = [1, 0.3], θ = 0.5 → f = [1, 0], x̂ = [1, 0]; mse = 0.09; step L0 = 0.1 · 1; tanh = 0.1 · tanh(4 · 1 · 1).
  const jr = handSae('jumprelu', { W_enc: I, W_dec: I, b_enc: new Float32Array(2), threshold: Float32Array.of(0.5, 0.5) });
  t = run(jr, 'jumprelu', Float32Array.of(1, 0.3), 1, { l0Coefficient: 0.1, bandwidth: 0.05, mode: 'step' }, activeBackend()).terms;
  close(t.mse, 0.09, 'jumprelu mse'); close(t.sparsity, 0.1, 'jumprelu step l0');
  t = run(jr, 'jumprelu', Float32Array.of(1, 0.3), 1, { l0Coefficient: 0.1, bandwidth: 0.05, mode: 'tanh', tanhScale: 4 }, activeBackend()).terms;
  close(t.sparsity, 0.1 * Math.tanh(4), 'jumprelu tanh');

  // topk, k = 1: pre = [3, 1, 4] → f = [0, 0, 4], x̂ = 4 · [0.5, 0.5] = [2, 2]; mse = 1 + 1.
  // AuxK with dead = {0, 1}, k_aux = 1: z = [3, 0, 0], ê = [3, 0], e = x − x̂ = [1, −1]; (2² + 1²) / 32.
  const tk = handSae('topk', { W_enc: Float32Array.of(1, 0, 1, 0, 1, 1), W_dec: Float32Array.of(1, 0, 0, 1, 0.5, 0.5), b_enc: new Float32Array(3) }, { k: 1 });
  t = run(tk, 'topk', Float32Array.of(3, 1), 1, { deadMask: Uint8Array.of(1, 1, 0), kAux: 1 }, activeBackend()).terms;
  close(t.mse, 2, 'topk mse'); close(t.aux, 5 / 32, 'topk auxk'); close(t.total, 2 + 5 / 32, 'topk total'); close(t.l0, 1, 'topk l0');

  // gated: π_gate = [2, 1], π_mag = [2 · 0.5, 1 − 2] → f = [1, 0], x̂ = [1, 0]; mse = 1 + 1;
  // L1 = 0.5 · (2 + 1); aux reconstruction ReLU(π_gate) · W_dec = [2, 1] = x → 0.
  const gt = handSae('gated', { W_enc: I, W_dec: I, b_gate: new Float32Array(2), b_mag: Float32Array.of(0, -2), r_mag: Float32Array.of(Math.log(0.5), 0) });
  t = run(gt, 'gated', Float32Array.of(2, 1), 1, { l1Coefficient: 0.5 }, activeBackend()).terms;
  close(t.mse, 2, 'gated mse'); close(t.sparsity, 1.5, 'gated l1'); close(t.aux, 0, 'gated aux'); close(t.total, 3.5, 'gated total');
});
