import assert from 'node:assert/strict';
import { test } from 'node:test';
import { activationLevel } from '../../src/app/features/activation-level.js';
import type { Explanation } from '../../src/app/features/features-client.js';
import { firingTokens } from '../../src/app/features/firing-tokens.js';

// "Dogs ran home": three tokens; feature 5 fires on the first two, 7 on the first, 9 on the last,
// 2 (a fourth-ranked feature) on the last; feature 8 is steered with and reported per token.
const r: Explanation = {
  source: 'blocks.2.hook_resid_post',
  tokens: [
    { tokenId: 10, token: 'Dogs', start: 0, end: 4, features: [{ feature: 5, act: 2 }, { feature: 7, act: 1 }], chosen: [0.4] },
    { tokenId: 11, token: ' ran', start: 4, end: 8, features: [{ feature: 5, act: 0.5 }], chosen: [0] },
    { tokenId: 12, token: ' home', start: 8, end: 13, features: [{ feature: 9, act: 3 }, { feature: 2, act: 0.1 }], chosen: [1.6] },
  ],
  top: [
    { feature: 9, sum: 3, max: 3, tokens: 1 },
    { feature: 5, sum: 2.5, max: 2, tokens: 2 },
    { feature: 7, sum: 1, max: 1, tokens: 1 },
    { feature: 2, sum: 0.1, max: 0.1, tokens: 1 },
  ],
  labels: { 5: 'plural', 7: 'animal', 9: 'place', 2: 'noise', 8: 'motion' },
};

test('activation levels: four steps of the fraction of the strongest, 0 only where nothing fires', () => {
  assert.deepEqual([0, 0.01, 0.25, 0.26, 0.5, 0.75, 0.76, 1].map((a) => activationLevel(a, 1)), [0, 1, 1, 2, 2, 3, 4, 4]);
  assert.equal(activationLevel(1, 0), 0);
  assert.equal(activationLevel(-1, 1), 0);
});

test('unsteered: the three top features are watched, each relative to its own peak in the paragraph; positions shifted into the note', () => {
  const got = firingTokens(r, 100, []);
  assert.deepEqual(got.map((t) => [t.from, t.to, t.level]), [
    [100, 104, 4], // 5 at its peak (2/2)
    [104, 108, 1], // 5 at a quarter of its peak
    [108, 113, 4], // 9 at its peak; 2 is fourth, not watched
  ]);
  assert.deepEqual(got[0].features, [
    { feature: 5, act: 2, label: 'plural', watched: true },
    { feature: 7, act: 1, label: 'animal', watched: true },
  ]);
  assert.deepEqual(got[2].features.map((f) => f.feature), [9, 2], 'watched first, then the token\'s others');
});

test('steered: only the chosen features are watched, from the per-token values explain-text reported for them', () => {
  const got = firingTokens(r, 0, [8]);
  assert.deepEqual(got.map((t) => t.level), [1, 0, 4]); // 0.4/1.6 is a quarter
  assert.deepEqual(got[2].features, [
    { feature: 8, act: 1.6, label: 'motion', watched: true },
    { feature: 9, act: 3, label: 'place', watched: false },
    { feature: 2, act: 0.1, label: 'noise', watched: false },
  ]);
  assert.deepEqual(got[1].features.map((f) => f.feature), [5]);
});
