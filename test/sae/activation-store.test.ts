import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadModel } from '../../src/model/load-model.js';
import { runWithCache } from '../../src/model/run-with-cache.js';
import { corpusDocuments, modelActivations, shuffledActivations } from '../../src/sae/activation-store/activation-store.js';
import { hookActivations } from '../../src/sae/activation-store/hook-activations.js';
import { MixingBuffer, mixingBuffer } from '../../src/sae/activation-store/mixing-buffer.js';
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

test('mixing buffer state: restored at any batch, on the source from the rows it had taken, it serves exactly the batches the original would have', () => {
  const width = 3;
  // A source of uneven chunks (1 to 40 rows), 500 rows in all, each row distinct.
  const chunks: Float32Array[] = [];
  for (let at = 0, c = 0; at < 500; c++) {
    const n = Math.min(500 - at, 1 + ((c * 17) % 40));
    chunks.push(Float32Array.from({ length: n * width }, (_, i) => at * width + i));
    at += n;
  }
  const from = (row: number): Float32Array[] => {
    const all = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) (all.set(c, at), (at += c.length));
    return [all.subarray(row * width)];
  };
  const o = { width, batchSize: 16, bufferSize: 70, seed: 4 };
  const whole = [...mixingBuffer(chunks, o)];
  assert.equal(whole.reduce((n, b) => n + b.length, 0), 500 * width);
  for (let cut = 0; cut <= whole.length; cut++) {
    const m = new MixingBuffer(chunks, o);
    for (let i = 0; i < cut; i++) m.next();
    const state = m.state();
    const restored = new MixingBuffer(from(state.consumed), o, state);
    const rest: Float32Array[] = [];
    for (let b = restored.next(); b !== undefined; b = restored.next()) rest.push(b);
    assert.deepEqual(rest, whole.slice(cut), `restored after ${cut} batches`);
  }
});
