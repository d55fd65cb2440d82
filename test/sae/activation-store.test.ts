import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadModel } from '../../src/model/load-model.js';
import { runWithCache } from '../../src/model/run-with-cache.js';
import { corpusDocuments, modelActivations, shuffledActivations } from '../../src/sae/activation-store/activation-store.js';
import { hookActivations } from '../../src/sae/activation-store/hook-activations.js';
import { tokenContexts } from '../../src/sae/activation-store/token-contexts.js';

const { model, tokenizer } = loadModel();
const docs = corpusDocuments().slice(0, 40);
const HOOK = 'blocks.2.hook_resid_post';
const d = model.config.dim;

test('contexts: BOS first, documents joined by BOS, every context contextSize long', () => {
  const ctxs = [...tokenContexts(tokenizer, docs.slice(0, 5), { contextSize: 32, prependBos: true })];
  assert.ok(ctxs.length > 3);
  for (const c of ctxs) {
    assert.equal(c.length, 32);
    assert.equal(c[0], tokenizer.bosId);
  }
  const stream = ctxs.flatMap((c) => [...c.subarray(1)]);
  const expected = docs.slice(0, 5).flatMap((doc, i) => [...(i > 0 ? [tokenizer.bosId] : []), ...tokenizer.encode(doc, { bos: false })]);
  assert.deepEqual(stream, expected.slice(0, stream.length));
  const noBos = [...tokenContexts(tokenizer, docs.slice(0, 5), { contextSize: 32, prependBos: false })];
  assert.deepEqual(noBos.flatMap((c) => [...c]), expected.slice(0, noBos.length * 32));
});

test('store activations equal runWithCache activations at the same positions, special tokens left out', () => {
  const ctxs = [...tokenContexts(tokenizer, docs, { contextSize: 64, prependBos: true })].slice(0, 7);
  const batches = [...hookActivations(model, ctxs, { hook: HOOK, batchContexts: 3, excludeTokenIds: [tokenizer.bosId, tokenizer.eosId] })];
  assert.equal(batches.length, 3);
  const ref = runWithCache(model, ctxs.map((c) => [...c]), [HOOK]);
  const acts = ref.activations.get(HOOK)!;
  const expected: number[] = [];
  let nBos = 0;
  ctxs.forEach((c, r) => {
    for (let i = 0; i < c.length; i++) {
      if (c[i] === tokenizer.bosId) {
        nBos++;
        continue;
      }
      const t = ref.rowStart[r] + i;
      expected.push(...acts.subarray(t * d, (t + 1) * d));
    }
  });
  assert.ok(nBos > 7, 'separator BOS tokens are in the contexts too');
  const got = batches.flatMap((b) => [...b.data]);
  assert.equal(got.length, (7 * 64 - nBos) * d);
  assert.deepEqual(new Float32Array(got), new Float32Array(expected));
  assert.deepEqual(batches.map((b) => b.perContext.length), [3, 3, 1]);
});

test('without exclusion every position is kept, BOS included', () => {
  const ctxs = [...tokenContexts(tokenizer, docs, { contextSize: 16, prependBos: true })].slice(0, 4);
  const [b] = [...hookActivations(model, ctxs, { hook: HOOK, batchContexts: 4 })];
  assert.equal(b.n, 64);
  const ref = runWithCache(model, ctxs.map((c) => [...c]), [HOOK]);
  assert.deepEqual(b.data, ref.activations.get(HOOK));
});

function rowsOf(batches: Float32Array[]): string[] {
  const rows: string[] = [];
  for (const b of batches) for (let i = 0; i < b.length / d; i++) rows.push(Array.from(b.subarray(i * d, (i + 1) * d)).join(','));
  return rows;
}

test('mixing buffer: a permutation of the input, deterministic per seed, different across seeds', () => {
  const source = [...modelActivations(model, tokenizer, docs.slice(0, 10), { hook: HOOK, contextSize: 32, batchContexts: 4 })];
  const run = (seed: number) => [...shuffledActivations(source, { width: d, batchSize: 37, bufferSize: 200, seed })];
  const a = run(1);
  const b = run(1);
  const c = run(2);
  assert.ok(a.slice(0, -1).every((x) => x.length === 37 * d));
  assert.deepEqual(a, b);
  const input = rowsOf(source);
  const out = rowsOf(a);
  assert.deepEqual([...out].sort(), [...input].sort());
  assert.notDeepEqual(out, input, 'rows are shuffled');
  assert.notDeepEqual(rowsOf(c), out, 'another seed, another order');
});
