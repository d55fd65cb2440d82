import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadModel } from '../../../src/model/load-model.js';
import type { ActivationSource } from '../../../src/sae/activation-store/activation-source.js';
import { cachedActivationSource, liveActivationSource } from '../../../src/sae/activation-store/activation-source.js';
import { corpusDocuments } from '../../../src/sae/activation-store/activation-store.js';
import { cacheActivations } from '../../../src/sae/activation-store/cache-writer.js';
import { tokenContexts } from '../../../src/sae/activation-store/token-contexts.js';
import { newTrainerOnSource, trainOnSource } from '../../../src/sae/training/train-on-source.js';
import type { SaeTrainerConfig } from '../../../src/sae/training/trainer.js';
import { SaeTrainer } from '../../../src/sae/training/trainer.js';

/**
 * Laws: an SAE trained from an activation cache equals one trained from the live store on the same
 * stream and seed, bit for bit (the cache holds the model's activations exactly, and the sample, the
 * mixing and the steps depend only on the rows and the context boundaries, not on how either source
 * chunks them); a run resumed from a checkpoint equals the uninterrupted run, bit for bit, without
 * running the model over the part of the stream it had already read.
 */
const { model, tokenizer } = loadModel();
const docs = corpusDocuments().slice(0, 80);
const HOOK = 'blocks.2.hook_resid_post';
const CONTEXT = 32;
const tmp = (): string => mkdtempSync(join(tmpdir(), 'tm-train-src-'));

const live = (): ActivationSource => liveActivationSource(model, tokenizer, () => docs, { hook: HOOK, contextSize: CONTEXT });
/** A cache of the same stream, written in forward batches of 5 contexts and shards of 700 activations. */
function cache(dir: string, tokens: number): ActivationSource {
  cacheActivations(model, tokenizer, docs, { dir, hook: HOOK, tokens, contextSize: CONTEXT, batchContexts: 5, shardTokens: 700, modelName: 'embedded', corpusName: 'test' });
  return cachedActivationSource(dir);
}

const config = (architecture: string): Omit<SaeTrainerConfig, 'd_in' | 'normScale'> => ({
  architecture, d_sae: 96, k: 6, batchSize: 64, totalSteps: 40, lr: 2e-3, lrSchedule: 'cosine', lrWarmupSteps: 5, l1Coefficient: 1, sparsityWarmupSteps: 10,
  deadAfterTokens: 1000, seed: 3, metadata: { hook_name: HOOK },
});
const SAMPLE = 2000;

test('the cache records the context boundaries the model gives (context_ends), across shards and a partial last context', () => {
  const dir = tmp();
  try {
    const fromCache = [...cache(dir, 5000).contextRows()];
    const fromTokens = [...tokenContexts(tokenizer, docs, { contextSize: CONTEXT, prependBos: true })].map((c) => c.filter((id) => id !== tokenizer.bosId && id !== tokenizer.eosId).length);
    assert.equal(fromCache.reduce((a, b) => a + b, 0), 5000);
    const whole = fromCache.length - 1;
    assert.deepEqual(fromCache.slice(0, whole), fromTokens.slice(0, whole));
    assert.ok(fromCache[whole] <= fromTokens[whole], 'the last context is cut at the target');
    assert.deepEqual([...live().contextRows()].slice(0, whole), fromTokens.slice(0, whole));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('training from a cache equals training from the live store, bit for bit (norm scale, b_dec init, every step)', () => {
  const dir = tmp();
  try {
    // 40 steps of 64 from a 4096-row buffer read 6144 rows; the cache holds more, so every refill is full as the live store's.
    const cached = cache(dir, 8000);
    for (const arch of ['standard', 'topk', 'batchtopk']) {
      const train = (source: ActivationSource): SaeTrainer => {
        const t = newTrainerOnSource(source, config(arch), { normalize: true, sampleTokens: SAMPLE });
        trainOnSource(t, source, { checkpointDir: join(dir, `ckpt-${arch}`), checkpointEvery: 0 });
        return t;
      };
      const a = train(live());
      const b = train(cached);
      assert.equal(a.step, 40);
      assert.equal(b.cfg.normScale, a.cfg.normScale, arch);
      assert.deepEqual(b.sae.weights, a.sae.weights, arch);
      assert.deepEqual(b.history, a.history, arch);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('resume from a checkpoint equals the uninterrupted run, bit for bit, from the cache and from the live store; the live store does not rerun the model before the stream position', () => {
  const dir = tmp();
  try {
    const cached = cache(join(dir, 'cache'), 8000);
    for (const [kind, source] of [['live', live], ['cache', () => cached]] as const) {
      const full = newTrainerOnSource(source(), config('topk'), { normalize: true, sampleTokens: SAMPLE });
      const fullContexts = countForwardContexts(() => trainOnSource(full, source(), { checkpointDir: join(dir, `full-${kind}`), checkpointEvery: 0 }));

      const ckpt = join(dir, `ckpt-${kind}`);
      const first = newTrainerOnSource(source(), config('topk'), { normalize: true, sampleTokens: SAMPLE });
      assert.throws(() => trainOnSource(first, source(), { checkpointDir: ckpt, checkpointEvery: 15, onStep: (s) => { if (s.step === 37) throw new Error('killed'); } }), /killed/);
      const resumed = SaeTrainer.resume(ckpt);
      assert.equal(resumed.step, 30);
      const consumed = resumed.resumedStream?.consumed as number;
      assert.ok(consumed > 30 * 64, `the buffer had read ahead (${consumed} rows)`);
      const resumedContexts = countForwardContexts(() => trainOnSource(resumed, source(), { checkpointDir: ckpt, checkpointEvery: 0 }));
      assert.equal(resumed.step, 40);
      assert.deepEqual(resumed.sae.weights, full.sae.weights, kind);
      assert.deepEqual(resumed.adam.v, full.adam.v, kind);
      assert.deepEqual(resumed.history, full.history, kind);
      if (kind === 'cache') {
        assert.equal(resumedContexts, 0, 'a cache needs no model');
      } else {
        // The contexts wholly before the stream position are only re-tokenized: at most one forward batch (32 contexts) is run beyond what the rest of the stream needs.
        let before = 0;
        let rows = 0;
        for (const k of source().contextRows()) {
          if (rows + k > consumed) break;
          rows += k;
          before++;
        }
        assert.ok(before > 100, `${before} contexts lie before the checkpoint`);
        assert.ok(resumedContexts <= fullContexts - before + 32, `resumed run forwarded ${resumedContexts} contexts, the whole run ${fullContexts}, ${before} lie before the checkpoint`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a checkpoint without the stream state cannot be resumed on a source; a source of another width is refused', () => {
  const dir = tmp();
  try {
    const t = newTrainerOnSource(live(), config('topk'), { normalize: false });
    for (let i = 0; i < 3; i++) t.trainStep(new Float32Array(64 * 64).fill(i + 1));
    t.checkpoint(dir);
    assert.throws(() => trainOnSource(SaeTrainer.resume(dir), live(), { checkpointDir: dir, checkpointEvery: 0 }), /at step 3 but its checkpoint holds no activation stream state/);
    const wide = liveActivationSource(model, tokenizer, () => docs, { hook: 'blocks.1.mlp.hook_post', contextSize: CONTEXT });
    assert.throws(() => trainOnSource(t, wide, { checkpointDir: dir, checkpointEvery: 0 }), /172 wide but the SAE's d_in is 64/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Contexts the model runs a forward pass over at HOOK while `fn` runs. */
function countForwardContexts(fn: () => void): number {
  let n = 0;
  model.hooks.with([{ name: HOOK, fn: (a) => void (n += a.rows.length) }], fn);
  return n;
}
