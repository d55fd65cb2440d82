/**
 * GET /metrics: the scheduler's load, totals and latency histograms in Prometheus' text format,
 * named as vLLM names them (docs/design/v1/metrics.md) under a `tinymorph:` prefix, every sample
 * labelled with `model_name` as vLLM's are. vLLM's v1 names are used where v0 and v1 differ:
 * `kv_cache_usage_perc` (v0 `gpu_cache_usage_perc`), `inter_token_latency_seconds` (v0
 * `time_per_output_token_seconds`). tinymorph's own: `steered_requests_total` (requests admitted
 * with a steering spec) and `scheduler_steps_total` (batched forward steps run).
 */
import { Hono } from 'hono';
import type { MetricFamily } from '../metrics/prometheus-text.js';
import { PROMETHEUS_CONTENT_TYPE, prometheusText } from '../metrics/prometheus-text.js';
import type { EngineRef, ServeEngine } from '../serve-engine.js';

const P = 'tinymorph:';

export function metricsFamilies(e: ServeEngine): MetricFamily[] {
  const s = e.scheduler.stats();
  const m = e.scheduler.metrics;
  const labels = { model_name: e.modelId };
  const one = (value: number) => [{ labels, value }];
  return [
    { name: `${P}num_requests_running`, help: 'Number of requests in the running batch (holding a KV-cache row).', type: 'gauge', samples: one(s.running) },
    { name: `${P}num_requests_waiting`, help: 'Number of requests waiting for a KV-cache row.', type: 'gauge', samples: one(s.waiting) },
    { name: `${P}kv_cache_usage_perc`, help: 'Fraction of the KV cache\'s positions held by running requests (1 = full).', type: 'gauge', samples: one(s.kvPositionsUsed / s.kvPositionsTotal) },
    { name: `${P}prompt_tokens_total`, help: 'Number of prompt tokens prefilled.', type: 'counter', samples: one(s.promptTokens) },
    { name: `${P}generation_tokens_total`, help: 'Number of generated tokens.', type: 'counter', samples: one(s.generationTokens) },
    {
      name: `${P}request_success_total`,
      help: 'Count of finished requests by finish reason (abort: cancelled by the client or at shutdown).',
      type: 'counter',
      samples: (['stop', 'length', 'abort'] as const).map((reason) => ({ labels: { ...labels, finished_reason: reason }, value: s.finished[reason] })),
    },
    { name: `${P}steered_requests_total`, help: 'Number of requests admitted with a steering spec.', type: 'counter', samples: one(s.steeredRequests) },
    { name: `${P}scheduler_steps_total`, help: 'Number of batched forward steps (decode tokens and prompt chunks together).', type: 'counter', samples: one(s.steps) },
    { name: `${P}time_to_first_token_seconds`, help: 'Histogram of time to first token in seconds.', type: 'histogram', samples: [{ labels, histogram: m.timeToFirstToken }] },
    { name: `${P}inter_token_latency_seconds`, help: 'Histogram of inter-token latency in seconds.', type: 'histogram', samples: [{ labels, histogram: m.interTokenLatency }] },
    { name: `${P}e2e_request_latency_seconds`, help: 'Histogram of end to end request latency in seconds.', type: 'histogram', samples: [{ labels, histogram: m.e2eLatency }] },
    { name: `${P}request_queue_time_seconds`, help: 'Histogram of time spent waiting for a KV-cache row in seconds.', type: 'histogram', samples: [{ labels, histogram: m.queueTime }] },
  ];
}

export function metricsRoute(engines: EngineRef): Hono {
  return new Hono().get('/metrics', (c) => c.body(prometheusText(metricsFamilies(engines.get())), 200, { 'content-type': PROMETHEUS_CONTENT_TYPE }));
}
