import { loadModel } from '../../../src/model/load-model.js';
import { corpusDocuments, modelActivations, shuffledActivations } from '../../../src/sae/activation-store/activation-store.js';
import { estimateNormScale } from '../../../src/sae/training/activation-normalizer.js';
import { usesPenalisedInit } from '../../../src/sae/training/init.js';
import type { SaeTrainerConfig } from '../../../src/sae/training/trainer.js';
import { SaeTrainer } from '../../../src/sae/training/trainer.js';

/**
 * Trains a 512-latent, k = 16 SAE on the embedded model's blocks.2.hook_resid_post for ~100k tokens
 * (batch 256, lr 2e-3 cosine). The first 200 documents estimate the norm scale and are returned as a
 * held-out sample, and their mean starts b_dec of a standard or jumprelu SAE (as `sae train` does); training reads the corpus from
 * document `trainFrom` on. `extra` overrides trainer settings (sparsity coefficients, …).
 */
export function trainOnEmbedded(architecture: string, trainFrom: number, extra: Partial<SaeTrainerConfig> = {}) {
  const { model, tokenizer } = loadModel();
  const docs = corpusDocuments();
  const source = { hook: 'blocks.2.hook_resid_post' as const, contextSize: 128 };
  const d = model.config.dim;
  const sample: Float32Array[] = [];
  for (const b of modelActivations(model, tokenizer, docs.slice(0, 200), source)) sample.push(b);
  const batch = 256;
  const steps = Math.floor(100_000 / batch);
  const trainer = new SaeTrainer({
    architecture, d_in: d, d_sae: 512, k: 16, matryoshkaPrefixes: architecture === 'matryoshka' ? [64, 128, 256, 512] : undefined,
    batchSize: batch, totalSteps: steps, lr: 2e-3, lrSchedule: 'cosine', lrWarmupSteps: 20, deadAfterTokens: 50_000,
    normScale: estimateNormScale(sample, d), seed: 1, metadata: { hook_name: source.hook }, ...extra,
  });
  if (usesPenalisedInit(architecture)) trainer.initDecoderBiasToMean(sample);
  const stream = shuffledActivations(modelActivations(model, tokenizer, docs.slice(trainFrom), source), { width: d, batchSize: batch, seed: 1 });
  const evs: number[] = [];
  let last;
  for (const x of stream) {
    if (x.length !== batch * d) continue;
    last = trainer.trainStep(x);
    evs.push(last.explainedVariance);
    if (trainer.step >= steps) break;
  }
  if (!last) throw new Error('no training step ran');
  /** Mean explained variance of the last 10 batches. */
  const ev = evs.slice(-10).reduce((a, b) => a + b, 0) / 10;
  return { trainer, last, ev, sample, d };
}
