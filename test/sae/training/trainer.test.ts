import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../../../src/errors.js';
import { writeSafetensors } from '../../../src/model/safetensors.js';
import { Prng } from '../../../src/model/sampling/prng.js';
import { foldNormScale, estimateNormScale } from '../../../src/sae/training/activation-normalizer.js';
import { Adam } from '../../../src/sae/training/adam.js';
import { initSae } from '../../../src/sae/training/init.js';
import { createGradients, createLossWorkspace } from '../../../src/sae/training/loss-common.js';
import { topKLoss } from '../../../src/sae/training/losses-topk.js';
import { standardLoss } from '../../../src/sae/training/losses-standard.js';
import { lrAt, sparsityCoefficientAt } from '../../../src/sae/training/schedules.js';
import type { SaeTrainerConfig } from '../../../src/sae/training/trainer.js';
import { MAX_HISTORY_ENTRIES, SaeTrainer } from '../../../src/sae/training/trainer.js';
import { readSaeLensFolder } from '../../../src/sae/saelens-format.js';
import { registerTrainingArchitecture, trainingArchitectureByName } from '../../../src/sae/architecture-registry.js';
import { randomArray, v6Config } from '../sae-test-helpers.js';

test('Adam matches a hand-computed two-step example (torch.optim.Adam formulas)', () => {
  const p = new Float32Array([1, -2]);
  const g = new Float32Array(2);
  const adam = new Adam([p]);
  g.set([0.5, -1]);
  adam.step([g], 0.1);
  // step 1: m̂ = g, v̂ = g², so p −= lr · sign(g) (up to ε)
  assert.ok(Math.abs(p[0] - 0.9000000019999999) < 1e-7 && Math.abs(p[1] - -1.900000001) < 1e-7, `${p}`);
  g.set([-0.2, 3]);
  adam.step([g], 0.1);
  // step 2 by hand: m = 0.9·0.05 + 0.1·(−0.2) = 0.025, v = 0.999·0.00025 + 0.001·0.04 = 0.00028975,
  // p = 0.9 − 0.1·(0.025/0.19)/(√(0.00028975/0.001999) + 1e-8) = 0.865439418…
  assert.ok(Math.abs(p[0] - 0.8654394181165107) < 1e-6, `${p[0]}`);
  assert.ok(Math.abs(p[1] - -1.9494189841087441) < 1e-6, `${p[1]}`);
  assert.equal(adam.t, 2);
});

test('schedules: warm-up, constant, cosine to the floor, sparsity warm-up', () => {
  const o = { lr: 1e-3, warmupSteps: 10, schedule: 'constant' as const, totalSteps: 110 };
  assert.equal(lrAt(0, o), 1e-4);
  assert.equal(lrAt(4, o), 5e-4);
  assert.equal(lrAt(9, o), 1e-3);
  assert.equal(lrAt(100, o), 1e-3);
  const c = { ...o, schedule: 'cosine' as const, minLr: 1e-5 };
  assert.equal(lrAt(10, c), 1e-3);
  assert.ok(Math.abs(lrAt(60, c) - (1e-5 + 0.5 * (1e-3 - 1e-5))) < 1e-12);
  assert.ok(Math.abs(lrAt(110, c) - 1e-5) < 1e-12);
  assert.ok(Math.abs(lrAt(500, c) - 1e-5) < 1e-12);
  assert.ok(Math.abs(lrAt(5, { ...c, minLr: undefined }) - 6e-4) < 1e-15);
  assert.equal(sparsityCoefficientAt(0, 8, 4), 2);
  assert.equal(sparsityCoefficientAt(3, 8, 4), 8);
  assert.equal(sparsityCoefficientAt(100, 8, 4), 8);
  assert.equal(sparsityCoefficientAt(0, 8, 0), 8);
});

test('init: decoder rows of norm 0.1 (standard, jumprelu) or 1 (topk), W_enc = W_decᵀ, zero biases, θ = 0.01, seeded', () => {
  const cfg = v6Config('jumprelu', 6, 10);
  const topk = initSae(v6Config('topk', 6, 10, { k: 2 }), new Prng(3));
  const a = initSae(cfg, new Prng(3));
  const b = initSae(cfg, new Prng(3));
  assert.deepEqual(a.weights.W_dec, b.weights.W_dec);
  for (let j = 0; j < 10; j++) {
    let s = 0;
    for (let i = 0; i < 6; i++) {
      s += a.weights.W_dec[j * 6 + i] ** 2;
      assert.equal(a.weights.W_enc[i * 10 + j], a.weights.W_dec[j * 6 + i]);
    }
    assert.ok(Math.abs(s - 0.01) < 1e-7);
    assert.ok(Math.abs(topk.weights.W_dec[j * 6] - 10 * a.weights.W_dec[j * 6]) < 1e-6);
  }
  assert.ok(a.weights.b_dec.every((v) => v === 0) && a.weights.b_enc!.every((v) => v === 0));
  assert.ok(a.weights.threshold!.every((v) => Math.abs(v - 0.01) < 1e-9));
});

/** Reconstructions of x by `sae` via the training forward pass. */
function reconstruct(sae: ReturnType<typeof initSae>, x: Float32Array, n: number, topk: boolean): Float32Array {
  const ws = createLossWorkspace(sae.config, n);
  const g = createGradients(sae);
  if (topk) topKLoss(sae, x, n, {}, g, ws);
  else standardLoss(sae, x, n, { l1Coefficient: 1 }, g, ws);
  return ws.out.slice(0, n * sae.config.d_in);
}

test('normaliser fold: the saved SAE on raw x equals the trained SAE on s·x, divided by s', () => {
  const d = 8;
  const n = 16;
  for (const [arch, extra] of [['topk', { k: 3 }], ['standard', {}]] as const) {
    const cfg = v6Config(arch, d, 24, extra);
    const sae = initSae(cfg, new Prng(5));
    sae.weights.b_dec.set(randomArray(d, 9, 0.5));
    sae.weights.b_enc!.set(randomArray(24, 10, 0.2));
    sae.weights.W_dec.set(randomArray(24 * d, 11, 0.4));
    const raw = randomArray(n * d, 12, 3);
    const s = estimateNormScale([raw], d);
    // E‖s·x‖ = √d
    let mean = 0;
    for (let r = 0; r < n; r++) mean += Math.hypot(...raw.subarray(r * d, (r + 1) * d)) * s;
    assert.ok(Math.abs(mean / n - Math.sqrt(d)) < 1e-4);
    for (const scale of [s, 0.25]) {
      const scaled = raw.map((v) => v * scale);
      const trained = reconstruct(sae, scaled, n, arch === 'topk');
      const folded = foldNormScale(sae, scale);
      assert.equal(folded.config.normalize_activations, 'none');
      const out = reconstruct(folded, raw, n, arch === 'topk');
      for (let i = 0; i < n * d; i++) {
        const want = trained[i] / scale;
        if (scale === 0.25) assert.equal(out[i], want, `${arch} power-of-two scale is bit-exact at ${i}`);
        else assert.ok(Math.abs(out[i] - want) <= 1e-5 * (1 + Math.abs(want)), `${arch} ${i}: ${out[i]} vs ${want}`);
      }
    }
  }
});

function smallConfig(over: Partial<SaeTrainerConfig> = {}): SaeTrainerConfig {
  return {
    architecture: 'topk', d_in: 8, d_sae: 32, k: 4, batchSize: 64, totalSteps: 20, lr: 1e-3, lrSchedule: 'cosine',
    lrWarmupSteps: 3, deadAfterTokens: 256, normScale: 1.5, seed: 7, metadata: { hook_name: 'blocks.0.hook_resid_post', model_name: 'test' },
    ...over,
  };
}
const batchOf = (i: number): Float32Array => randomArray(64 * 8, 1000 + i, 2);

test('seeded determinism: two 20-step runs give identical weights', () => {
  for (const arch of ['topk', 'standard'] as const) {
    const run = () => {
      const t = new SaeTrainer(smallConfig({ architecture: arch, sparsityWarmupSteps: 5, l1Coefficient: 0.5 }));
      for (let i = 0; i < 20; i++) t.trainStep(batchOf(i));
      return t.sae.weights;
    };
    const a = run();
    const b = run();
    assert.deepEqual(a, b);
  }
});

test('checkpoint + resume after 10 steps equals 20 uninterrupted steps, bit for bit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sae-ckpt-'));
  try {
    const full = new SaeTrainer(smallConfig());
    for (let i = 0; i < 20; i++) full.trainStep(batchOf(i));
    const first = new SaeTrainer(smallConfig());
    for (let i = 0; i < 10; i++) first.trainStep(batchOf(i));
    first.checkpoint(dir);
    const second = SaeTrainer.resume(dir);
    assert.deepEqual(second.prng.state(), first.prng.state());
    for (let i = 10; i < 20; i++) second.trainStep(batchOf(i));
    assert.equal(second.step, 20);
    assert.deepEqual(second.sae.weights, full.sae.weights);
    assert.deepEqual(second.adam.m, full.adam.m);
    assert.deepEqual(second.tokensSinceFired, full.tokensSinceFired);
    // save: a SAELens folder that loads back, folded, with sparsity
    const out = join(dir, 'sae');
    const saved = second.save(out);
    const loaded = readSaeLensFolder(out);
    assert.deepEqual(loaded.weights.W_enc, saved.weights.W_enc);
    assert.equal(loaded.config.k, 4);
    assert.equal(loaded.config.normalize_activations, 'none');
    assert.equal(loaded.config.metadata.hook_name, 'blocks.0.hook_resid_post');
    assert.equal(loaded.sparsity?.length, 32);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('jumprelu checkpoint + resume (Adam trains log θ) equals uninterrupted training, bit for bit; θ stays positive', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sae-ckpt-jr-'));
  try {
    const cfg = smallConfig({ architecture: 'jumprelu', l0Coefficient: 0.5, lr: 1e-2 });
    const full = new SaeTrainer(cfg);
    for (let i = 0; i < 12; i++) full.trainStep(batchOf(i));
    const first = new SaeTrainer(cfg);
    for (let i = 0; i < 6; i++) first.trainStep(batchOf(i));
    first.checkpoint(dir);
    const second = SaeTrainer.resume(dir);
    for (let i = 6; i < 12; i++) second.trainStep(batchOf(i));
    assert.deepEqual(second.sae.weights, full.sae.weights);
    assert.deepEqual(second.adam.params, full.adam.params);
    const theta = full.sae.weights.threshold!;
    assert.ok(theta.every((t) => t > 0) && theta.some((t) => Math.abs(t - 0.01) > 1e-4), `θ ${theta.slice(0, 4)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('training history: step 1 and every logEvery steps, kept across checkpoint + resume, written as training_log.jsonl', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sae-hist-'));
  try {
    const cfg = smallConfig({ logEvery: 3 });
    const full = new SaeTrainer(cfg);
    for (let i = 0; i < 20; i++) full.trainStep(batchOf(i));
    assert.deepEqual(full.history.map((e) => e.step), [1, 3, 6, 9, 12, 15, 18]);
    assert.equal(full.history[2].tokens, 6 * 64);
    for (const e of full.history) {
      assert.ok(Number.isFinite(e.total) && Number.isFinite(e.mse) && Number.isFinite(e.l0) && Number.isFinite(e.explained_variance) && e.lr > 0);
      assert.ok(e.dead_fraction >= 0 && e.dead_fraction <= 1);
    }
    const first = new SaeTrainer(cfg);
    for (let i = 0; i < 10; i++) first.trainStep(batchOf(i));
    first.checkpoint(dir);
    const second = SaeTrainer.resume(dir);
    assert.deepEqual(second.history, first.history);
    for (let i = 10; i < 20; i++) second.trainStep(batchOf(i));
    assert.deepEqual(second.history, full.history);
    const out = join(dir, 'sae');
    second.save(out);
    const lines = readFileSync(join(out, 'training_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);
    assert.deepEqual(lines, full.history);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('training history is thinned (stride doubles) instead of growing past MAX_HISTORY_ENTRIES', () => {
  const t = new SaeTrainer(smallConfig({ logEvery: 1, d_in: 2, d_sae: 4, k: 1, batchSize: 2 }));
  const b = randomArray(4, 5, 1);
  for (let i = 0; i < MAX_HISTORY_ENTRIES + 10; i++) t.trainStep(b);
  assert.ok(t.history.length < MAX_HISTORY_ENTRIES);
  assert.equal(t.historyStride, 2);
  assert.ok(t.history.every((e) => e.step === 1 || e.step % 2 === 0));
});

test('dead-latent tracking: a latent that never fires is dead after deadAfterTokens', () => {
  const t = new SaeTrainer(smallConfig({ deadAfterTokens: 128 }));
  const s1 = t.trainStep(batchOf(0));
  assert.equal(s1.deadFraction, 0);
  // Make latent 0 unable to fire.
  t.sae.weights.b_enc![0] = -1e6;
  t.trainStep(batchOf(1));
  t.trainStep(batchOf(2));
  assert.ok(t.tokensSinceFired[0] >= 128);
  assert.ok(t.deadFraction() >= 1 / 32);
});

test('a checkpoint whose trainer state is not JSON, or nests 100,000 deep, is a UsageError naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-ckpt-'));
  const path = join(dir, 'checkpoint.safetensors');
  for (const [state, what] of [['{"version": 1,', /is not valid JSON/], [`${'['.repeat(100_000)}${']'.repeat(100_000)}`, /nests deeper than 64 levels/]] as [string, RegExp][]) {
    writeSafetensors(path, { x: { shape: [1], data: new Float32Array(1) } }, { tinymorph_sae_trainer: state });
    assert.throws(() => SaeTrainer.resume(dir), (e: unknown) => e instanceof UsageError && e.message.startsWith(`${path}: the trainer state in its metadata `) && what.test(e.message));
  }
  rmSync(dir, { recursive: true });
});

test('an architecture registered from outside trains through its registry entry alone: one step equals its loss and one Adam step by hand', () => {
  // Plain MSE on a ReLU SAE: the standard loss with λ = 0, in the standard shape, unit decoder rows at init.
  registerTrainingArchitecture({
    name: 'test-relu-mse',
    trainsAs: 'standard',
    loss: ({ sae, x, batch, grads, ws, backend }) => ({ terms: standardLoss(sae, x, batch, { l1Coefficient: 0 }, grads, ws, backend) }),
  });
  assert.throws(() => registerTrainingArchitecture({ ...trainingArchitectureByName('topk') }), /"topk" is already registered/);
  assert.throws(() => registerTrainingArchitecture({ ...trainingArchitectureByName('topk'), name: 'x', trainsAs: 'nope' }), /trains as "nope", which is not registered/);
  assert.throws(() => new SaeTrainer(smallConfig({ architecture: 'nope' })), /cannot train architecture "nope" \(trainable: topk, standard, jumprelu, gated, batchtopk, matryoshka, test-relu-mse\)/);

  const cfg = smallConfig({ architecture: 'test-relu-mse', lrWarmupSteps: 0, lrSchedule: 'constant' });
  const trainer = new SaeTrainer(cfg);
  const batch = batchOf(0);
  trainer.trainStep(batch);

  const sae = initSae(v6Config('standard', 8, 32), new Prng(cfg.seed), { decoderInitNorm: 1 });
  const grads = createGradients(sae);
  const x = batch.map((v) => v * cfg.normScale);
  standardLoss(sae, x, 64, { l1Coefficient: 0 }, grads, createLossWorkspace(sae.config, 64));
  const names = ['W_enc', 'W_dec', 'b_dec', 'b_enc'] as const;
  new Adam(names.map((n) => sae.weights[n] as Float32Array)).step(names.map((n) => grads[n] as Float32Array), cfg.lr);
  for (const n of names) assert.deepEqual(trainer.sae.weights[n], sae.weights[n], n);
  assert.equal(trainer.exportSae().config.architecture, 'standard');
});
