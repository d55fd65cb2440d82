import assert from 'node:assert/strict';
import { test } from 'node:test';
import { corpusIdf, rankRelated, vaultIdf, type NoteProfile } from '../../src/app-server/related/related-ranking.js';

const profiles = new Map<string, NoteProfile>([
  ['A.md', { features: [[0, 1], [1, 2]] }],
  ['B.md', { features: [[1, 1], [2, 4]] }],
  ['C.md', { features: [[0, 3]] }],
  ['D.md', { features: [[7, 5]] }],
]);
const idf = (j: number): number => [1, 2, 0.5][j] ?? 1;

test('related ranking: cosine of idf-weighted mean activations, by hand; a note sharing nothing is left out', () => {
  // Weights: A = {0: 1, 1: 4}, B = {1: 2, 2: 2}, C = {0: 3}.
  const r = rankRelated('A.md', profiles, idf, 10);
  assert.deepEqual(r.map((x) => x.path), ['B.md', 'C.md']);
  assert.ok(Math.abs(r[0].score - 8 / Math.sqrt(17 * 8)) < 1e-12);
  assert.ok(Math.abs(r[1].score - 3 / (Math.sqrt(17) * 3)) < 1e-12);
  assert.deepEqual(r[0].shared, [1]);
  assert.deepEqual(r[1].shared, [0]);
  assert.deepEqual(rankRelated('A.md', profiles, idf, 1).map((x) => x.path), ['B.md']);
  assert.deepEqual(rankRelated('nope.md', profiles, idf, 10), []);
});

test('related ranking: shared features come most shared first', () => {
  const p = new Map<string, NoteProfile>([
    ['x', { features: [[1, 1], [2, 5], [3, 2]] }],
    ['y', { features: [[1, 1], [2, 1], [3, 4]] }],
  ]);
  // Products: 1 → 1, 2 → 5, 3 → 8.
  assert.deepEqual(rankRelated('x', p, () => 1, 5)[0].shared, [3, 2, 1]);
  assert.deepEqual(rankRelated('x', p, () => 1, 5, 2)[0].shared, [3, 2]);
});

test('vault idf: ln((1+N)/(1+df)), so a feature in every note weighs nothing', () => {
  const v = vaultIdf(profiles.values());
  assert.equal(v(0), Math.log(5 / 3)); // in A and C
  assert.equal(v(7), Math.log(5 / 2));
  assert.equal(v(99), Math.log(5));
  const everywhere = new Map<string, NoteProfile>([
    ['a', { features: [[5, 1], [6, 1]] }],
    ['b', { features: [[5, 9]] }],
  ]);
  assert.equal(vaultIdf(everywhere.values())(5), 0);
  assert.deepEqual(rankRelated('a', everywhere, vaultIdf(everywhere.values()), 5), [], 'sharing only a feature every note has relates nothing');
});

test('corpus idf: −ln(firing density) from SAELens log10 sparsity; a feature never seen firing counts as the rarest', () => {
  const c = corpusIdf(Float32Array.from([-2, -0.5, -Infinity, -3]));
  assert.ok(Math.abs(c(0) - 2 * Math.LN10) < 1e-6);
  assert.ok(Math.abs(c(1) - 0.5 * Math.LN10) < 1e-6);
  assert.ok(Math.abs(c(2) - 3 * Math.LN10) < 1e-6);
});
