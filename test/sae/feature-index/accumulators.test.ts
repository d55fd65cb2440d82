import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HistogramAccumulator } from '../../../src/sae/feature-index/activation-histogram.js';
import { TopContexts } from '../../../src/sae/feature-index/top-contexts.js';
import { randomArray } from '../sae-test-helpers.js';

test('the activation histogram rebins fine log bins into equal-width bins over (0, max]', () => {
  const h = new HistogramAccumulator(2);
  for (const v of [0.1, 0.3, 0.7, 1.2, 1.9, 1.9]) h.add(1, v);
  assert.deepEqual(h.histogram(1, 1.9, 4), { max: 1.9, counts: [2, 1, 1, 2] });
  assert.deepEqual(h.histogram(0, 0, 4), { max: 0, counts: [0, 0, 0, 0] });
  h.add(0, 1e-9); // below the finest bin: still counted, in the first bin
  h.add(0, 3);
  assert.deepEqual(h.histogram(0, 3, 3).counts, [1, 0, 1]);
});

test('top contexts keep exactly the N strongest, strongest first', () => {
  const top = new TopContexts(1, 5);
  const acts = Array.from(randomArray(200, 7), (x) => Math.abs(x));
  acts.forEach((a, i) => {
    if (top.admits(0, a)) top.add(0, { maxAct: a, contextIndex: i, start: 0, maxPos: 0, tokenIds: new Int32Array(1), prevId: -1, acts: Float32Array.of(a) });
  });
  assert.deepEqual(
    top.sorted(0).map((c) => c.maxAct),
    [...acts].sort((a, b) => b - a).slice(0, 5),
  );
  assert.equal(top.admits(0, 0), false);
});
