import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RequestRecord } from '../../bench/serve-client.js';
import { percentile, serveMetrics } from '../../bench/serve-client.js';

test('percentile interpolates between closest ranks as numpy.percentile does', () => {
  // numpy.percentile([1, 2, 3, 4], [0, 50, 95, 99, 100]) = [1, 2.5, 3.85, 3.97, 4]
  const xs = [4, 1, 3, 2];
  [[0, 1], [50, 2.5], [95, 3.85], [99, 3.97], [100, 4]].forEach(([p, v]) => assert.ok(Math.abs(percentile(xs, p) - v) < 1e-12, `p${p}`));
  assert.equal(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('serve metrics as vllm bench serve defines them: TPOT = (E2EL − TTFT)/(tokens − 1), ITL over all gaps, failed requests left out', () => {
  const rec = (startMs: number, ttftMs: number, itlMs: number[], outputTokens: number, error?: string): RequestRecord => {
    const e2elMs = ttftMs + itlMs.reduce((a, b) => a + b, 0);
    return { startMs, ttftMs, itlMs, outputTokens, e2elMs, endMs: startMs + e2elMs, error };
  };
  const m = serveMetrics([rec(0, 10, [2, 4], 3), rec(5, 20, [6], 2), rec(1, 1, [], 0, 'HTTP 429')]);
  assert.equal(m.completed, 2);
  assert.equal(m.errors, 1);
  assert.equal(m.mean_ttft_ms, 15);
  assert.equal(m.mean_tpot_ms, (3 + 6) / 2); // (16 − 10)/2 and (26 − 20)/1
  assert.equal(m.mean_itl_ms, 4);
  assert.equal(m.mean_e2el_ms, (16 + 26) / 2);
  assert.equal(m.duration_s, 0.031); // first start 0 ms, last end 5 + 26 ms
  assert.equal(m.total_output_tokens, 5);
});
