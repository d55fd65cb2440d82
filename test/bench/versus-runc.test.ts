import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AtThreads } from '../../bench/versus-runc.js';
import { atThreads, bestSetting, ratiosVsBest, threadRows } from '../../bench/versus-runc.js';

/** Ratios against run.c at its best thread count, by median, for rates and for times. */

const at = (threads: number, median: number, best: number): AtThreads => ({ threads, stats: { median, best, runs: 3 } });

test("run.c's best setting is the best median, not the best single run; a tie goes to fewer threads", () => {
  // 2 threads had one lucky run (best 900) but the lower median: 1 thread is the setting to beat.
  const runc = [at(1, 500, 520), at(2, 300, 900)];
  assert.equal(bestSetting(runc, 'rate')?.threads, 1);
  assert.equal(bestSetting([at(4, 2.0, 1.9), at(1, 3.0, 2.5)], 'time')?.threads, 4);
  assert.equal(bestSetting([at(2, 100, 100), at(1, 100, 100)], 'rate')?.threads, 1);
  assert.equal(bestSetting([], 'rate'), undefined);
});

test('rate ratios divide tinymorph by run.c at its best setting, medians and bests apart', () => {
  const runc = [at(1, 500, 520), at(2, 300, 900)];
  const ours = [at(1, 250, 260), at(2, 1000, 1300)];
  assert.deepEqual(ratiosVsBest(ours, runc, 'rate'), [
    { threads: 1, runcThreads: 1, median: 0.5, best: 0.5 },
    { threads: 2, runcThreads: 1, median: 2, best: 2.5 },
  ]);
  assert.deepEqual(ratiosVsBest(ours, [], 'rate'), []);
});

test('time ratios are speeds: run.c seconds over tinymorph seconds', () => {
  const ratios = ratiosVsBest([at(2, 0.5, 0.4)], [at(1, 0.2, 0.1), at(2, 0.4, 0.3)], 'time');
  assert.deepEqual(ratios, [{ threads: 2, runcThreads: 1, median: 0.4, best: 0.25 }]);
});

test('samples map back to thread counts, sides without samples dropped; table rows mark the best setting', () => {
  const stats = (xs: readonly number[]) => ({ median: xs[0], best: xs[0], runs: xs.length });
  assert.deepEqual(atThreads([[7], [], [9]], [1, 2, 4], stats), [
    { threads: 1, stats: { median: 7, best: 7, runs: 1 } },
    { threads: 4, stats: { median: 9, best: 9, runs: 1 } },
  ]);
  const fmt = (s: { median: number } | undefined): string => (s ? String(s.median) : '-');
  assert.deepEqual(threadRows([at(1, 250, 250)], [at(1, 500, 500), at(2, 300, 300)], 'rate', fmt), [
    ['1', '250', '500 *', '0.50 (best 0.50)'],
    ['2', '-', '300', '-'],
  ]);
  assert.deepEqual(threadRows([at(1, 1.3, 1.2)], [at(1, 0.013, 0.012)], 'time', fmt)[0][3], '0.010 (best 0.010)');
});
