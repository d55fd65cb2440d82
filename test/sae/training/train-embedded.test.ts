import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadModel } from '../../../src/model/load-model.js';
import { corpusDocuments, modelActivations, shuffledActivations } from '../../../src/sae/activation-store/activation-store.js';
import { estimateNormScale } from '../../../src/sae/training/activation-normalizer.js';
import { SaeTrainer } from '../../../src/sae/training/trainer.js';

test('topk SAE on the embedded model\'s blocks.2.hook_resid_post: 100k tokens reach explained variance > 0.7', () => {
  const { model, tokenizer } = loadModel();
  const docs = corpusDocuments();
  const source = { hook: 'blocks.2.hook_resid_post' as const, contextSize: 128 };
  const d = model.config.dim;
  const sample: Float32Array[] = [];
  for (const b of modelActivations(model, tokenizer, docs.slice(0, 200), source)) sample.push(b);
  const batch = 256;
  const steps = Math.floor(100_000 / batch);
  const trainer = new SaeTrainer({
    architecture: 'topk', d_in: d, d_sae: 512, k: 16, batchSize: batch, totalSteps: steps, lr: 2e-3, lrSchedule: 'cosine',
    lrWarmupSteps: 20, deadAfterTokens: 50_000, normScale: estimateNormScale(sample, d), seed: 1, metadata: { hook_name: source.hook },
  });
  const stream = shuffledActivations(modelActivations(model, tokenizer, docs, source), { width: d, batchSize: batch, seed: 1 });
  const evs: number[] = [];
  let last;
  for (const x of stream) {
    if (x.length !== batch * d) continue;
    last = trainer.trainStep(x);
    evs.push(last.explainedVariance);
    if (trainer.step >= steps) break;
  }
  assert.ok(last);
  const ev = evs.slice(-10).reduce((a, b) => a + b, 0) / 10;
  console.log(`embedded topk: ${trainer.tokens} tokens, explained variance (mean of last 10 batches) ${ev.toFixed(4)}, L0 ${last.l0}, dead ${last.deadFraction}`);
  assert.ok(ev > 0.7, `explained variance ${ev}`);
  assert.ok(last.l0 <= 16);
});
