import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SteeringError } from '../../../src/errors.js';
import type { HookName } from '../../../src/model/hook-points.js';
import { loadModel } from '../../../src/model/load-model.js';
import { SteeringContext } from '../../../src/steer/steering-context.js';
import type { SteeringVectorSet } from '../../../src/steer/steering-vector-set.js';
import { sampleDocuments, styleEffect } from '../../../src/steer/vectors/style-effect.js';
import { styleVector } from '../../../src/steer/vectors/style-vector.js';
import { KITCHEN } from '../../app-server/two-topic-notes.js';

const { model, tokenizer } = loadModel();
const ctx = new SteeringContext(model, tokenizer);
const notes = Object.values(KITCHEN);
const reference = [
  'Once upon a time there was a little dog named Spot. Spot liked to run and play in the park with his ball.',
  'One day Spot saw a big cat in the tree. The cat said hello and they became good friends for ever.',
  'Lily and Ben went to the zoo. They saw a lion, a monkey and a big elephant. They were very happy.',
];

/**
 * Mean next-token CE computed by hand: each document alone through the plain forward, the vector
 * added by a hook of our own at each of its hook points (not the steering code under test), and
 * log-softmax over the full logits in float64.
 */
function handCrossEntropy(docs: number[][], set: SteeringVectorSet | undefined, strength: number): number {
  const hooks = set
    ? [...set.vectors].map(([name, v]) => ({
        name: name as HookName,
        fn: (act: { data: Float32Array; width: number }) => {
          for (let t = 0; t < act.data.length / act.width; t++) for (let j = 0; j < act.width; j++) act.data[t * act.width + j] += strength * v[j];
        },
      }))
    : [];
  const vocab = model.config.vocabSize;
  let sum = 0;
  let n = 0;
  for (const doc of docs) {
    const { logits } = model.hooks.with(hooks, () => model.withCache(1, doc.length, (cache) => model.forward(cache, [doc], { allLogits: true })));
    for (let i = 0; i + 1 < doc.length; i++) {
      const row = logits.subarray(i * vocab, (i + 1) * vocab);
      let max = -Infinity;
      for (const x of row) max = Math.max(max, x);
      let z = 0;
      for (const x of row) z += Math.exp(x - max);
      sum += Math.log(z) + max - row[doc[i + 1]];
      n++;
    }
  }
  return sum / n;
}

test('style effect: clean and steered CE on the notes match a hand computation; the strength returned is the one with the lowest CE', () => {
  const set = styleVector(model, tokenizer, notes, reference);
  const docs = sampleDocuments(ctx, notes);
  const strengths = [0.1, 0.3, 1];
  const e = styleEffect(ctx, notes, set, strengths);
  const clean = handCrossEntropy(docs, undefined, 0);
  const byStrength = strengths.map((s) => handCrossEntropy(docs, set, s));
  assert.ok(Math.abs(e.cleanNats - clean) < 1e-4, `clean CE ${e.cleanNats} vs hand ${clean}`);
  const best = byStrength.indexOf(Math.min(...byStrength));
  assert.equal(e.strength, strengths[best], `hand CEs ${byStrength.join(', ')}`);
  assert.ok(Math.abs(e.steeredNats - byStrength[best]) < 1e-4, `steered CE ${e.steeredNats} vs hand ${byStrength[best]}`);
  assert.equal(e.tokens, docs.reduce((s, d) => s + d.length - 1, 0));
  // The vector was made from these notes: at its best strength their tokens are likelier than clean.
  assert.ok(e.steeredNats < e.cleanNats, `steered ${e.steeredNats} < clean ${e.cleanNats}`);
  // Strength 1 at all five layers overshoots (each layer's addition is carried into the next).
  assert.ok(byStrength[2] > clean, `strength 1: ${byStrength[2]} > clean ${clean}`);
});

test('style effect: notes are cut into BOS-prefixed documents of at most the model context', () => {
  const long = Array.from({ length: 60 }, () => 'Mom baked a cake.').join(' ');
  const docs = sampleDocuments(ctx, [long, 'Hi']);
  assert.ok(docs.length >= 3);
  for (const d of docs) {
    assert.equal(d[0], tokenizer.bosId);
    assert.ok(d.length <= model.config.seqLen);
  }
  assert.deepEqual(docs.slice(0, -1).flatMap((d) => d.slice(1)), tokenizer.encode(long, { bos: false }));
});

test('style effect: no strengths, or none positive, is a SteeringError naming them', () => {
  const set = styleVector(model, tokenizer, notes, reference);
  assert.throws(() => styleEffect(ctx, notes, set, []), SteeringError);
  assert.throws(() => styleEffect(ctx, notes, set, [0.2, -1]), /got \[0\.2, -1\]/);
});
