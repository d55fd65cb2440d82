import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { interleave, median, rateStats, timeStats } from '../../bench/interleaved-repeats.js';

/** The benchmarks' repeat schedule: every side once per round, the order reversed every other round. */

/** Sides that record the order they ran in and return their own label's index as the sample. */
function recorder(n: number, fail: (side: number, call: number) => boolean = () => false): { order: string[]; sides: { label: string; run: () => number | undefined }[] } {
  const order: string[] = [];
  const calls = new Array<number>(n).fill(0);
  const sides = Array.from({ length: n }, (_, i) => ({
    label: String.fromCharCode(65 + i),
    run: () => {
      order.push(String.fromCharCode(65 + i));
      return fail(i, calls[i]++) ? undefined : i;
    },
  }));
  return { order, sides };
}

/** Blocks the thread for ms milliseconds (a side that takes time). */
const sleep = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

test('each round runs every side once, alternating A B C / C B A', () => {
  const { order, sides } = recorder(3);
  const samples = interleave(sides, { repeats: 4 });
  assert.deepEqual(order.join(''), 'ABCCBAABCCBA');
  assert.deepEqual(samples, [
    [0, 0, 0, 0],
    [1, 1, 1, 1],
    [2, 2, 2, 2],
  ]);
});

test('a failed run is left out of its side only', () => {
  const { sides } = recorder(2, (side, call) => side === 1 && call === 0);
  const samples = interleave(sides, { repeats: 3 });
  assert.deepEqual(samples, [[0, 0, 0], [1, 1]]);
});

test('a spent budget ends the rounds after the current one; there is always one round', () => {
  const { order, sides } = recorder(2);
  interleave(
    sides.map((s) => ({ ...s, run: () => (sleep(5), s.run()) })),
    { repeats: 10, budgetS: 0.001 },
  );
  assert.equal(order.join(''), 'AB');
});

test('minS keeps rounds going past repeats, and maxRounds caps them', () => {
  const slow = recorder(1);
  const t0 = performance.now();
  interleave([{ ...slow.sides[0], run: () => (sleep(10), slow.sides[0].run()) }], { repeats: 1, minS: 0.05 });
  assert.ok(performance.now() - t0 >= 50, 'stopped before minS');
  assert.ok(slow.order.length >= 2, `${slow.order.length} round(s)`);
  const capped = recorder(1);
  interleave(capped.sides, { repeats: 1, minS: 60, maxRounds: 7 });
  assert.equal(capped.order.length, 7);
});

test('median, and the best of rates (highest) and of times (lowest)', () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.deepEqual(rateStats([3, 9, 1, 4]), { median: 3.5, best: 9, runs: 4 });
  assert.deepEqual(timeStats([3, 9, 1, 4]), { median: 3.5, best: 1, runs: 4 });
});
