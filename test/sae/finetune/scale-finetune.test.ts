import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { validationTextPath } from '../../../src/model/embedded.js';
import { loadModel } from '../../../src/model/load-model.js';
import { corpusDocuments, modelActivations, shuffledActivations } from '../../../src/sae/activation-store/activation-store.js';
import { runSaeEval } from '../../../src/sae/eval/run-sae-eval.js';
import type { ScaleGrads, ScaleParams } from '../../../src/sae/finetune/scale-finetune.js';
import { finetuneScale, foldScale, scaleFinetuneLoss, ScaleFinetuner } from '../../../src/sae/finetune/scale-finetune.js';
import { readSaeLensFolder, writeSaeLensFolder } from '../../../src/sae/saelens-format.js';
import { encode, reconstruct } from '../../../src/sae/sae-forward.js';
import { estimateNormScale } from '../../../src/sae/training/activation-normalizer.js';
import { SaeTrainer } from '../../../src/sae/training/trainer.js';
import { randomArray, randomSae, v6Config } from '../sae-test-helpers.js';

test('scale fine-tuning loss: hand-written gradients match central finite differences (scale, W_dec, b_dec)', () => {
  const d_in = 6;
  const d_sae = 10;
  const T = 5;
  const acts = randomArray(T * d_sae, 11, 2).map((v) => (v > 0.2 ? v : 0)); // sparse, non-negative
  const target = randomArray(T * d_in, 12, 1);
  const p: ScaleParams = { scale: randomArray(d_sae, 13, 0.5).map((v) => 1 + v), W_dec: randomArray(d_sae * d_in, 14, 0.5), b_dec: randomArray(d_in, 15, 0.2) };
  const g: ScaleGrads = { scale: new Float32Array(d_sae), W_dec: new Float32Array(d_sae * d_in), b_dec: new Float32Array(d_in) };
  scaleFinetuneLoss(acts, target, T, p, g);
  const eps = 1e-2;
  for (const name of ['scale', 'W_dec', 'b_dec'] as const) {
    const param = p[name];
    const grad = g[name]!;
    let checked = 0;
    for (let i = 0; i < param.length; i++) {
      const orig = param[i];
      param[i] = orig + eps;
      const up = scaleFinetuneLoss(acts, target, T, p);
      param[i] = orig - eps;
      const down = scaleFinetuneLoss(acts, target, T, p);
      param[i] = orig;
      const fd = (up - down) / (2 * eps);
      assert.ok(Math.abs(fd - grad[i]) <= 1e-3 + 1e-3 * Math.abs(fd), `${name}[${i}]: analytic ${grad[i]}, finite difference ${fd}`);
      if (grad[i] !== 0) checked++;
    }
    assert.ok(checked > 0, `${name}: some gradient is nonzero`);
  }
  // Without decoder buffers only the scale gradient is written.
  const g2: ScaleGrads = { scale: new Float32Array(d_sae) };
  const l1 = scaleFinetuneLoss(acts, target, T, p, g2);
  assert.equal(l1, scaleFinetuneLoss(acts, target, T, p));
  assert.deepEqual(g2.scale, g.scale);
});

for (const arch of ['standard', 'gated', 'jumprelu'] as const) {
  test(`${arch}: folding the scale (and a moved decoder) into the SAE gives identical encodings and reconstructions`, () => {
    const d_in = 8;
    const d_sae = 24;
    const T = 7;
    const sae = randomSae(v6Config(arch, d_in, d_sae), 3);
    const x = randomArray(T * d_in, 21, 1.5);
    const scale = randomArray(d_sae, 22, 0.4).map((v) => 1 + v);
    const W_dec = randomArray(d_sae * d_in, 23, 0.3);
    const b_dec = randomArray(d_in, 24, 0.3);
    const folded = foldScale(sae, scale, W_dec, b_dec);
    assert.equal(folded.config.architecture, arch);
    const acts = encode(sae, x, T);
    assert.ok(acts.some((v) => v !== 0));
    const actsFolded = encode(folded, x, T);
    for (let i = 0; i < acts.length; i++) assert.ok(Math.abs(acts[i] - actsFolded[i]) < 1e-5, `encode changed at ${i}: ${acts[i]} vs ${actsFolded[i]}`);
    // Expected: (s ⊙ acts)·W_dec + b_dec with the frozen encoder's acts.
    const xHat = reconstruct(folded, x, T);
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < d_in; i++) {
        let e = b_dec[i];
        for (let j = 0; j < d_sae; j++) e += scale[j] * acts[t * d_sae + j] * W_dec[j * d_in + i];
        assert.ok(Math.abs(e - xHat[t * d_in + i]) < 1e-4, `x̂[${t},${i}] ${xHat[t * d_in + i]} vs ${e}`);
      }
    }
    // The loss the fine-tuner minimises is the MSE of the folded SAE.
    const loss = scaleFinetuneLoss(acts, x, T, { scale, W_dec, b_dec });
    let mse = 0;
    for (let i = 0; i < x.length; i++) mse += (xHat[i] - x[i]) ** 2;
    assert.ok(Math.abs(loss - mse / T) < 1e-4 * Math.max(1, loss));
    // The original is untouched, and a SAELens round trip keeps the folded SAE.
    assert.notDeepEqual(sae.weights.W_dec, folded.weights.W_dec);
    const dir = mkdtempSync(join(tmpdir(), 'tm-fold-'));
    try {
      writeSaeLensFolder(dir, folded);
      const back = readSaeLensFolder(dir);
      assert.deepEqual(reconstruct(back, x, T), xHat);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('scale fine-tuning refuses a topk SAE whose encoder reads decoder norms', () => {
  const sae = randomSae(v6Config('topk', 4, 8, { k: 2, rescale_acts_by_decoder_norm: true }), 1);
  assert.throws(() => new ScaleFinetuner(sae), /decoder norms/);
});

test('a standard (L1) SAE briefly trained on the embedded model: scale fine-tuning lowers held-out MSE and raises l2_ratio', () => {
  const { model, tokenizer } = loadModel();
  const docs = corpusDocuments();
  const hook = 'blocks.2.hook_resid_post' as const;
  const source = { hook, contextSize: 128 };
  const d = model.config.dim;
  const sample: Float32Array[] = [];
  for (const b of modelActivations(model, tokenizer, docs.slice(0, 100), source)) sample.push(b);
  const batch = 512;
  const steps = 300;
  const trainer = new SaeTrainer({
    architecture: 'standard', d_in: d, d_sae: 256, batchSize: batch, totalSteps: steps, lr: 3e-3, lrSchedule: 'constant', lrWarmupSteps: 20,
    l1Coefficient: 5, sparsityWarmupSteps: 50, deadAfterTokens: 100_000, normScale: estimateNormScale(sample, d), seed: 1,
    metadata: { hook_name: hook, context_size: 128 },
  });
  const stream = shuffledActivations(modelActivations(model, tokenizer, docs, source), { width: d, batchSize: batch, seed: 1 });
  for (const x of stream) {
    if (x.length !== batch * d) continue;
    trainer.trainStep(x);
    if (trainer.step >= steps) break;
  }
  const sae = trainer.exportSae();

  const evalDocs = corpusDocuments(validationTextPath());
  const before = runSaeEval(model, tokenizer, sae, evalDocs, { hook, contexts: 16 });
  const ftStream = shuffledActivations(modelActivations(model, tokenizer, docs.slice(200), source), { width: d, batchSize: batch, seed: 2 });
  const run = finetuneScale(sae, ftStream, { tokens: 100_000, lr: 1e-2 });
  const after = runSaeEval(model, tokenizer, run.sae, evalDocs, { hook, contexts: 16 });
  const mseB = before.reconstruction_quality.mse;
  const mseA = after.reconstruction_quality.mse;
  const l2B = before.shrinkage.l2_ratio;
  const l2A = after.shrinkage.l2_ratio;
  console.log(
    `standard SAE scale fine-tune (${run.steps} steps, ${run.tokens} tokens): mse ${mseB.toPrecision(4)} → ${mseA.toPrecision(4)} (${((mseA / mseB - 1) * 100).toFixed(1)}%), ` +
      `l2_ratio ${l2B.toFixed(4)} → ${l2A.toFixed(4)}, ce_loss_with_sae ${before.model_performance_preservation.ce_loss_with_sae.toFixed(4)} → ${after.model_performance_preservation.ce_loss_with_sae.toFixed(4)}, ` +
      `ce_loss_score ${before.model_performance_preservation.ce_loss_score.toFixed(4)} → ${after.model_performance_preservation.ce_loss_score.toFixed(4)}, l0 ${before.sparsity.l0.toFixed(2)} → ${after.sparsity.l0.toFixed(2)}`,
  );
  assert.ok(mseA < mseB, `MSE ${mseB} → ${mseA}`);
  assert.ok(Math.abs(1 - l2A) < Math.abs(1 - l2B), `l2_ratio ${l2B} → ${l2A} should move towards 1`);
  assert.equal(after.sparsity.l0, before.sparsity.l0, 'the encoder is frozen');
  assert.equal(run.sae.config.architecture, 'standard');
  const dir = mkdtempSync(join(tmpdir(), 'tm-ft-'));
  try {
    writeSaeLensFolder(dir, run.sae);
    const cfg = JSON.parse(readFileSync(join(dir, 'cfg.json'), 'utf8')) as { architecture: string };
    assert.equal(cfg.architecture, 'standard');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
