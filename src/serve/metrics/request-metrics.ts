/**
 * The request-level latency histograms vLLM exports (vllm/v1/metrics/loggers.py), fed by the
 * scheduler as requests move through it: queue time (arrival → a KV-cache row), time to first
 * token (arrival → first sampled token, chunked prefill included), inter-token latency (between
 * consecutive tokens of a request) and end-to-end latency (arrival → finished, whatever the reason).
 * Bucket bounds are vLLM's, so dashboards built for vLLM read these unchanged, with finer bounds
 * added below vLLM's smallest where CPU decoding of small models lands (a decode step of the
 * embedded model takes about a millisecond; vLLM's smallest ITL bound is 10 ms).
 */
import { Histogram } from './histogram.js';

const VLLM_TTFT = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560];
const VLLM_ITL = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
const VLLM_REQUEST_LATENCY = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680];

export const TTFT_BUCKETS = VLLM_TTFT;
export const ITL_BUCKETS = [0.001, 0.0025, 0.005, ...VLLM_ITL];
export const REQUEST_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, ...VLLM_REQUEST_LATENCY];

export class RequestMetrics {
  readonly timeToFirstToken = new Histogram(TTFT_BUCKETS);
  readonly interTokenLatency = new Histogram(ITL_BUCKETS);
  readonly e2eLatency = new Histogram(REQUEST_LATENCY_BUCKETS);
  readonly queueTime = new Histogram(REQUEST_LATENCY_BUCKETS);
}
