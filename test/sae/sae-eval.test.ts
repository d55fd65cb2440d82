import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { saeEval } from '../../src/cli/commands/sae-eval.js';
import { validationTextPath } from '../../src/model/embedded.js';
import { loadModel } from '../../src/model/load-model.js';
import { corpusDocuments } from '../../src/sae/activation-store/activation-store.js';
import { summarizeDensity } from '../../src/sae/eval/feature-density.js';
import { ReconstructionAccumulator } from '../../src/sae/eval/reconstruction-metrics.js';
import { runSaeEval } from '../../src/sae/eval/run-sae-eval.js';
import { writeSaeLensFolder } from '../../src/sae/saelens-format.js';
import type { Sae } from '../../src/sae/sae.js';
import { randomSae, v6Config } from './sae-test-helpers.js';
import { allText, findAll, hasClass, parseSvg, readAxis } from '../plot/svg-reader.js';

const close = (a: number, b: number, tol = 1e-6): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('reconstruction metrics match values computed by hand', () => {
  // x = [[1,0],[0,2]], x̂ = [[1,0],[1,1]], acts = [[1,0],[0,2]]
  const acc = new ReconstructionAccumulator(2, 2);
  acc.add(Float32Array.of(1, 0, 0, 2), Float32Array.of(1, 0, 1, 1), Float32Array.of(1, 0, 0, 2), 2);
  const r = acc.result();
  close(r.l0, 1);
  close(r.l1, 1.5);
  close(r.mse, 1); // (0 + 2) / 2
  // E‖x‖² = 2.5, ‖E x‖² = ‖(0.5, 1)‖² = 1.25 → variance 1.25; 1 − 1/1.25
  close(r.explained_variance, 0.2);
  close(r.cossim, (1 + Math.SQRT1_2) / 2);
  close(r.l2_ratio, (1 + Math.SQRT2 / 2) / 2);
  close(r.relative_reconstruction_bias, 1.5 / 1.5);
  // relative_reconstruction_bias averages per batch: a second batch with x̂ = x/2 gives 0.5
  acc.add(Float32Array.of(2, 0), Float32Array.of(1, 0), Float32Array.of(1, 0), 1);
  close(acc.result().relative_reconstruction_bias, (1 + 0.5) / 2);
});

test('density summary: dead, dense and the log10 histogram', () => {
  const s = summarizeDensity([0, 0.5, 1e-3, 1e-9, 0.2]);
  assert.equal(s.dead_features, 1);
  close(s.dead_features_fraction, 0.2);
  assert.equal(s.dense_features, 2);
  assert.equal(s.feature_density_histogram.counts.reduce((a, b) => a + b, 0), 4);
  assert.equal(s.feature_density_histogram.counts[0], 1); // 1e-9 clamps into the first bin
  assert.equal(s.feature_density_histogram.counts[10], 1); // log10 1e-3 = −3 → bin [−3, −2.5)
});

const { model, tokenizer } = loadModel();
const DIM = model.config.dim;
const docs = corpusDocuments(validationTextPath());
const opts = { contexts: 4, contextSize: 64, batchContexts: 2 };

test('an SAE spliced with its error term leaves CE unchanged and KL zero', () => {
  const sae = randomSae(v6Config('standard', DIM, 128), 5);
  const r = runSaeEval(model, tokenizer, sae, docs, { ...opts, errorTerm: true });
  assert.equal(r.model_performance_preservation.ce_loss_with_sae, r.model_performance_preservation.ce_loss_without_sae);
  assert.equal(r.model_behavior_preservation.kl_div_with_sae, 0);
  close(r.model_performance_preservation.ce_loss_score, 1, 1e-12);
  assert.ok(r.model_behavior_preservation.kl_div_with_ablation > 0);
  assert.ok(r.reconstruction_quality.explained_variance < 1); // the metrics still see the random SAE's reconstruction
});

test('a text with fewer contexts than asked for is an error naming both numbers, or with onFewerContexts evaluates those there are', () => {
  const sae = randomSae(v6Config('standard', DIM, 128), 5);
  const short = [docs.join(' ').slice(0, 1500)];
  // One document cut into contexts of BOS + 63 text tokens, the last partial one dropped (as SAELens does).
  const available = Math.floor(tokenizer.encode(short[0], { bos: false }).length / 63);
  assert.ok(available >= 1 && available < 50, `${available} contexts`);
  assert.throws(() => runSaeEval(model, tokenizer, sae, short, { ...opts, contexts: 50 }), {
    name: 'UsageError',
    message: `the text holds ${available} contexts of 64 tokens, fewer than the 50 asked for`,
  });
  const calls: number[][] = [];
  const r = runSaeEval(model, tokenizer, sae, short, { ...opts, contexts: 50, onFewerContexts: (a, asked, size) => calls.push([a, asked, size]) });
  assert.deepEqual(calls, [[available, 50, 64]]);
  assert.equal(r.token_stats.contexts, available);
  assert.equal(r.token_stats.total_tokens_eval_reconstruction, available * 64);
});

test('an exact SAE (ReLU(x) − ReLU(−x)) gives ce_loss_score 1 and explained variance 1', () => {
  // d_sae = 2·d_in: latent i = ReLU(x_i), latent d_in+i = ReLU(−x_i); W_dec maps them back to +x_i, −(−x_i).
  const config = v6Config('standard', DIM, 2 * DIM);
  const W_enc = new Float32Array(DIM * 2 * DIM);
  const W_dec = new Float32Array(2 * DIM * DIM);
  for (let i = 0; i < DIM; i++) {
    W_enc[i * 2 * DIM + i] = 1;
    W_enc[i * 2 * DIM + DIM + i] = -1;
    W_dec[i * DIM + i] = 1;
    W_dec[(DIM + i) * DIM + i] = -1;
  }
  const sae: Sae = { config, weights: { W_enc, W_dec, b_enc: new Float32Array(2 * DIM), b_dec: new Float32Array(DIM) } };
  const r = runSaeEval(model, tokenizer, sae, docs, opts);
  close(r.reconstruction_quality.explained_variance, 1, 1e-9);
  close(r.model_performance_preservation.ce_loss_score, 1, 1e-6);
  close(r.model_behavior_preservation.kl_div_score, 1, 1e-6);
  close(r.reconstruction_quality.cossim, 1, 1e-6);
  close(r.shrinkage.l2_ratio, 1, 1e-6);
  close(r.shrinkage.relative_reconstruction_bias, 1, 1e-6);
  assert.ok(r.model_behavior_preservation.kl_div_with_sae < 1e-8);
  assert.equal(r.token_stats.total_tokens_eval_reconstruction, 4 * 64);
});

test('sae eval on an SAE folder writes JSON with every SAELens key, and feature_density.svg next to it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-sae-eval-'));
  try {
    writeSaeLensFolder(join(dir, 'sae'), randomSae(v6Config('topk', DIM, 256, { k: 8 }), 2));
    const out = join(dir, 'eval.json');
    await saeEval(join(dir, 'sae'), { contexts: '3', contextSize: '32', batch: '2', seed: '1', out });
    const j = JSON.parse(readFileSync(out, 'utf8')) as Record<string, Record<string, unknown>>;
    // The plot's bars are the histogram in eval.json, read back through its count axis.
    const svg = parseSvg(readFileSync(join(dir, 'feature_density.svg'), 'utf8'));
    assert.ok(allText(svg).includes('Feature density (3 held-out contexts)'));
    const countAxis = readAxis(svg, 'axis-y');
    const bars = findAll(svg, hasClass('bar')).map((b) => Number(b.attrs.height) * countAxis.unitsPerPixel(0));
    const histogram = j.feature_metrics.feature_density_histogram as { counts: number[] };
    assert.deepEqual(bars.map(Math.round), histogram.counts);
    for (const h of bars) assert.ok(Math.abs(h - Math.round(h)) < 0.05, `bar height ${h} counts`);
    const keys: Record<string, string[]> = {
      model_behavior_preservation: ['kl_div_score', 'kl_div_with_ablation', 'kl_div_with_sae'],
      model_performance_preservation: ['ce_loss_score', 'ce_loss_with_ablation', 'ce_loss_with_sae', 'ce_loss_without_sae'],
      reconstruction_quality: ['explained_variance', 'mse', 'cossim'],
      shrinkage: ['l2_norm_in', 'l2_norm_out', 'l2_ratio', 'relative_reconstruction_bias'],
      sparsity: ['l0', 'l1', 'dead_features_fraction', 'dense_features_fraction'],
      pathology: ['kl_div_with_random_error', 'kl_div_sae_over_random', 'kl_div_with_mean_ablation'],
      token_stats: ['total_tokens_eval_reconstruction', 'total_tokens_eval_sparsity_variance'],
      feature_metrics: ['feature_density', 'feature_density_histogram'],
    };
    for (const [group, names] of Object.entries(keys)) for (const k of names) assert.ok(k in j[group], `${group}.${k}`);
    assert.equal((j.feature_metrics.feature_density as number[]).length, 256);
    close(j.sparsity.l0 as number, 8);
    assert.ok(Number.isFinite(j.pathology.kl_div_sae_over_random as number));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
