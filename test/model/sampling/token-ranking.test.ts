import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Prng } from '../../../src/model/sampling/prng.js';
import { selectNucleus, selectTopK } from '../../../src/model/sampling/token-ranking.js';

/** All ids sorted by the documented rank: higher key first, lower id on ties. */
function fullRanking(keys: Float32Array): number[] {
  return Array.from(keys.keys()).sort((a, b) => keys[b] - keys[a] || a - b);
}

function identity(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

/** Keys with many exact ties: multiples of 1/8 in (0, 2]. */
function tiedKeys(rng: Prng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => (1 + (rng.nextU32() % 16)) / 8);
}

describe('selectTopK', () => {
  it('puts exactly the first k of the full ranking in front, ties going to lower ids', () => {
    const rng = new Prng(1);
    for (const n of [1, 2, 3, 10, 100, 1000]) {
      const keys = tiedKeys(rng, n);
      const ranking = fullRanking(keys);
      for (const k of [1, 2, 5, 50, n - 1, n]) {
        if (k < 1 || k > n) continue;
        const ids = identity(n);
        selectTopK(ids, n, k, keys);
        const front = Array.from(ids.subarray(0, k)).sort((a, b) => a - b);
        assert.deepEqual(front, ranking.slice(0, k).sort((a, b) => a - b), `n=${n} k=${k}`);
        assert.deepEqual(Array.from(ids).sort((a, b) => a - b), Array.from(identity(n)), 'a permutation');
      }
    }
  });

  it('handles sorted, reversed and constant inputs', () => {
    const n = 500;
    const inputs = [
      Float32Array.from({ length: n }, (_, i) => i),
      Float32Array.from({ length: n }, (_, i) => n - i),
      new Float32Array(n).fill(0.5),
    ];
    for (const keys of inputs) {
      const ids = identity(n);
      selectTopK(ids, n, 37, keys);
      const front = Array.from(ids.subarray(0, 37)).sort((a, b) => a - b);
      assert.deepEqual(front, fullRanking(keys).slice(0, 37).sort((a, b) => a - b));
    }
  });
});

describe('selectNucleus', () => {
  it('keeps exactly the smallest prefix of the ranking whose weight reaches the target', () => {
    const rng = new Prng(2);
    for (const n of [1, 2, 7, 64, 1000]) {
      const keys = tiedKeys(rng, n);
      const ranking = fullRanking(keys);
      const cumulative: number[] = [];
      let sum = 0;
      for (const id of ranking) cumulative.push((sum += keys[id]));
      for (const r of new Set([1, 2, Math.ceil(n / 3), n - 1, n])) {
        if (r < 1 || r > n) continue;
        // A target strictly between the prefix sums of r − 1 and r ids: the answer is r.
        const need = ((r > 1 ? cumulative[r - 2] : 0) + cumulative[r - 1]) / 2;
        const ids = identity(n);
        const got = selectNucleus(ids, n, keys, need);
        assert.equal(got, r, `n=${n} r=${r}`);
        const kept = Array.from(ids.subarray(0, got)).sort((a, b) => a - b);
        assert.deepEqual(kept, ranking.slice(0, r).sort((a, b) => a - b), `n=${n} r=${r}`);
      }
    }
  });

  it('keeps everything when the target exceeds the total', () => {
    const keys = Float32Array.from([0.25, 0.5, 0.125]);
    assert.equal(selectNucleus(identity(3), 3, keys, 2), 3);
  });
});
