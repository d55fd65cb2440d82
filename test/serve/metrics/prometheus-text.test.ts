import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../../src/errors.js';
import { Histogram } from '../../../src/serve/metrics/histogram.js';
import { prometheusText } from '../../../src/serve/metrics/prometheus-text.js';

// Expected texts written by hand from the format's description (prometheus.io, "Text-based format").

test('a histogram counts each observation in the first bucket whose bound is ≥ it, cumulatively, with +Inf, sum and count', () => {
  const h = new Histogram([0.25, 1, 5]);
  for (const v of [0.125, 0.25, 0.5, 1, 7, 100]) h.observe(v);
  assert.equal(
    prometheusText([{ name: 'x:latency_seconds', help: 'Latency.', type: 'histogram', samples: [{ labels: { model_name: 'm' }, histogram: h }] }]),
    [
      '# HELP x:latency_seconds Latency.',
      '# TYPE x:latency_seconds histogram',
      'x:latency_seconds_bucket{model_name="m",le="0.25"} 2',
      'x:latency_seconds_bucket{model_name="m",le="1"} 4',
      'x:latency_seconds_bucket{model_name="m",le="5"} 4',
      'x:latency_seconds_bucket{model_name="m",le="+Inf"} 6',
      'x:latency_seconds_sum{model_name="m"} 108.875',
      'x:latency_seconds_count{model_name="m"} 6',
      '',
    ].join('\n'),
  );
});

test('counters and gauges: one line per sample, label values escaped, non-finite values spelled as Go does', () => {
  const text = prometheusText([
    { name: 'x:requests_total', help: 'Requests\nby reason \\ kind.', type: 'counter', samples: [{ labels: { reason: 'a"b\\c\nd' }, value: 3 }, { value: 0 }] },
    { name: 'x:load', help: 'Load.', type: 'gauge', samples: [{ value: NaN }, { labels: { k: 'v' }, value: -Infinity }, { labels: { k: 'w' }, value: Infinity }] },
  ]);
  assert.equal(
    text,
    [
      '# HELP x:requests_total Requests\\nby reason \\\\ kind.',
      '# TYPE x:requests_total counter',
      'x:requests_total{reason="a\\"b\\\\c\\nd"} 3',
      'x:requests_total 0',
      '# HELP x:load Load.',
      '# TYPE x:load gauge',
      'x:load NaN',
      'x:load{k="v"} -Inf',
      'x:load{k="w"} +Inf',
      '',
    ].join('\n'),
  );
});

test('histogram bounds must be finite and strictly increasing', () => {
  for (const bad of [[], [1, 1], [2, 1], [1, Infinity], [NaN]]) assert.throws(() => new Histogram(bad), UsageError, JSON.stringify(bad));
});
