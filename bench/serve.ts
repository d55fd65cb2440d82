import { performance } from 'node:perf_hooks';
import { Command, Option } from 'commander';
import { Prng } from '../src/model/sampling/prng.js';
import { benchmarkShapes } from './random-llama2c-model.js';
import type { ModelFiles } from './bench-utils.js';
import { backendOption, emit, emitMachine, firstSentences, LoadMonitor, log, positiveInt, printTable, round, runMain, shapeFiles, warnIfBusy, withTempDir } from './bench-utils.js';
import { median } from './interleaved-repeats.js';
import type { RequestRecord, ServeMetrics } from './serve-client.js';
import { ServeProcess, serveMetrics, streamCompletion } from './serve-client.js';

/**
 * `tinymorph serve` under load, over real HTTP (fetch) to the server in a child process, timed as
 * `vllm bench serve` times it (serve-client.ts). Issue 19's targets:
 *   TTFT over 100 sequential short requests: embedded model mean ≤ 50 ms, p95 ≤ 100 ms; 15M shape mean ≤ 200 ms
 *   16 concurrent streams on the 15M shape: aggregate tokens/s ≥ 6× one stream's; with 16 different
 *     steering specs ≥ 0.9× of that without
 *   64 concurrent streaming clients for 60 s (embedded model): zero errors, p50/p99 TTFT and ITL, RSS flat
 * The concurrency variants run in interleaved rounds (order reversed every other round) and are
 * compared by their medians, as the other benches are.
 */

interface Opts {
  phases: string[];
  requests: number;
  repeats: number;
  streamTokens: number;
  seconds: number;
  clients: number;
  backend?: string;
}

const PHASES = ['sequential', 'concurrency', 'soak'];
const fmt = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '-');
const metricFields = (m: ServeMetrics): Record<string, number> => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, round(v, 3)]));

async function withServer<T>(args: string[], fn: (s: ServeProcess) => Promise<T>): Promise<T> {
  const s = await ServeProcess.start(args);
  try {
    return await fn(s);
  } finally {
    await s.stop();
  }
}

const modelArgs = (f: ModelFiles, o: Opts): string[] => ['--model', f.model, '--tokenizer', f.tokenizer, ...(o.backend ? ['--backend', o.backend] : [])];

/** 100 short requests one after another: what one user typing into the editor sees. */
async function sequential(shape: string, files: ModelFiles, o: Opts): Promise<string[]> {
  return withServer(modelArgs(files, o), async (s) => {
    const prompts = firstSentences(16);
    const body = (i: number) => ({ prompt: prompts[i % prompts.length], max_tokens: 8, temperature: 0, ignore_eos: true });
    for (let i = 0; i < 3; i++) await streamCompletion(s.url, body(i)); // JIT and first-use costs: untimed
    const records: RequestRecord[] = [];
    for (let i = 0; i < o.requests; i++) records.push(await streamCompletion(s.url, body(i)));
    const m = serveMetrics(records);
    emit({ bench: 'serve', phase: 'sequential', shape, requests: o.requests, max_tokens: 8, ...metricFields(m) });
    const target = shape === '260k' ? 'mean ≤ 50, p95 ≤ 100' : 'mean ≤ 200';
    const met = shape === '260k' ? m.mean_ttft_ms <= 50 && m.p95_ttft_ms <= 100 : m.mean_ttft_ms <= 200;
    return [shape, String(o.requests), fmt(m.mean_ttft_ms), fmt(m.median_ttft_ms), fmt(m.p95_ttft_ms), fmt(m.p99_ttft_ms), fmt(m.mean_tpot_ms, 2), fmt(m.mean_e2el_ms), String(m.errors), target, met ? 'met' : 'NOT met'];
  });
}

/** A steering spec per stream, all different: inline vectors (no SAE fits a random model) at different hooks, strengths and methods. */
function steeringSpecs(n: number, width: number, layers: number): unknown[] {
  const methods = ['SIMPLE_ADDITIVE', 'ORTHOGONAL_DECOMP', 'PROJECTION_CAP'];
  return Array.from({ length: n }, (_, r) => {
    const rng = new Prng(100 + r);
    const vector = Array.from({ length: width }, () => round((rng.nextFloat() - 0.5) * 0.2, 4));
    return { vectors: [{ hook: `blocks.${r % layers}.hook_resid_post`, vector, strength: 1 + (r % 4), method: methods[r % 3] }], normalize_steering: r % 2 === 0 };
  });
}

/** Output tokens per second of wall time from the first request sent to the last stream ended. */
const aggregateRate = (records: readonly RequestRecord[]): number => serveMetrics(records).output_throughput;

async function concurrency(files: ModelFiles, o: Opts): Promise<string[][]> {
  const shape = benchmarkShapes['15m'];
  return withServer([...modelArgs(files, o), '--max-batch', '16'], async (s) => {
    const prompts = firstSentences(16);
    const specs = steeringSpecs(16, shape.dim, shape.nLayers);
    const body = (i: number, steering?: unknown) => ({ prompt: prompts[i], max_tokens: o.streamTokens, temperature: 0, ignore_eos: true, ...(steering ? { steering } : {}) });
    const variants: { name: string; run: () => Promise<RequestRecord[]> }[] = [
      { name: '1 stream', run: async () => [await streamCompletion(s.url, body(0))] },
      { name: '16 streams', run: () => Promise.all(prompts.map((_, i) => streamCompletion(s.url, body(i)))) },
      { name: '16 streams, 16 steering specs', run: () => Promise.all(prompts.map((_, i) => streamCompletion(s.url, body(i, specs[i])))) },
    ];
    for (const v of variants) await v.run(); // warm-up round: untimed
    const rates: number[][] = variants.map(() => []);
    const ttfts: number[][] = variants.map(() => []);
    let errors = 0;
    for (let round = 0; round < o.repeats; round++) {
      const order = variants.map((_, i) => (round % 2 === 0 ? i : variants.length - 1 - i));
      for (const i of order) {
        const records = await variants[i].run();
        errors += records.filter((r) => r.error).length;
        rates[i].push(aggregateRate(records));
        ttfts[i].push(serveMetrics(records).mean_ttft_ms);
      }
      log(`serve concurrency: round ${round + 1}/${o.repeats}: ${variants.map((v, i) => `${v.name} ${fmt(rates[i][round], 0)} tok/s`).join(', ')}`);
    }
    const med = rates.map(median);
    variants.forEach((v, i) => emit({ bench: 'serve', phase: 'concurrency', shape: '15m', variant: v.name, max_tokens: o.streamTokens, repeats: o.repeats, tokens_per_s: round(med[i], 1), tokens_per_s_runs: rates[i].map((r) => round(r, 1)), mean_ttft_ms: round(median(ttfts[i]), 1) }));
    const ratios: [string, number, number][] = [
      ['16 streams ÷ 1 stream', med[1] / med[0], 6],
      ['16 steering specs ÷ 16 unsteered', med[2] / med[1], 0.9],
    ];
    ratios.forEach(([name, ratio, target]) => emit({ bench: 'serve', phase: 'concurrency', ratio_name: name, ratio: round(ratio, 3), target }));
    emit({ bench: 'serve', phase: 'concurrency', errors });
    return [
      ...variants.map((v, i) => [v.name, fmt(med[i], 0), fmt(median(ttfts[i])), '', '', '']),
      ...ratios.map(([name, ratio, target]) => [name, '', '', fmt(ratio, 2), `≥ ${target}`, ratio >= target ? 'met' : 'NOT met']),
    ];
  });
}

/** `clients` streaming clients, each sending its next request as soon as one ends, for `seconds`. */
async function soak(files: ModelFiles, o: Opts): Promise<string[]> {
  return withServer([...modelArgs(files, o), '--max-batch', String(o.clients), '--queue', String(o.clients)], async (s) => {
    const prompts = firstSentences(64);
    await Promise.all(prompts.slice(0, 8).map((prompt) => streamCompletion(s.url, { prompt, max_tokens: 16 }))); // warm-up
    // RSS each second: flat means the last samples are where the early ones (after warm-up) were.
    const rss: number[] = [];
    const sampleRss = (): void => void rss.push(s.rssMb() ?? NaN);
    sampleRss();
    const sampler = setInterval(sampleRss, 1000);
    const records: RequestRecord[] = [];
    const end = performance.now() + o.seconds * 1000;
    const rng = new Prng(7);
    const lengths = Array.from({ length: 4096 }, () => 32 + Math.floor(rng.nextFloat() * 64));
    let sent = 0;
    await Promise.all(
      Array.from({ length: o.clients }, async (_, c) => {
        while (performance.now() < end) {
          const i = sent++;
          records.push(await streamCompletion(s.url, { prompt: prompts[(c + i) % prompts.length], max_tokens: lengths[i % lengths.length], temperature: 0.8, seed: i }));
        }
      }),
    );
    clearInterval(sampler);
    sampleRss();
    const m = serveMetrics(records);
    const [rssStart, rssQuarter, rssEnd] = [rss[0], rss[Math.floor(rss.length / 4)], rss[rss.length - 1]];
    emit({ bench: 'serve', phase: 'soak', shape: '260k', clients: o.clients, seconds: o.seconds, ...metricFields(m), rss_mb_each_s: rss.map((x) => round(x, 1)) });
    for (const r of records.filter((x) => x.error).slice(0, 5)) log(`soak error: ${r.error}`);
    return [String(o.clients), String(o.seconds), String(m.completed), String(m.errors), fmt(m.output_throughput, 0), fmt(m.median_ttft_ms), fmt(m.p99_ttft_ms), fmt(m.median_itl_ms, 2), fmt(m.p99_itl_ms, 2), fmt(m.mean_tpot_ms, 2), fmt(m.mean_e2el_ms, 0), `${fmt(rssStart, 0)} → ${fmt(rssQuarter, 0)} → ${fmt(rssEnd, 0)} (max ${fmt(Math.max(...rss), 0)})`];
  });
}

async function main(): Promise<void> {
  const o = new Command('serve')
    .description('tinymorph serve over real HTTP: sequential TTFT, 16 concurrent streams (steered and not), and a soak of concurrent streaming clients.')
    .addOption(new Option('--phases <list>', `phases to run: ${PHASES.join(',')}`).argParser((v) => v.split(',')).default(PHASES))
    .option('--requests <n>', 'sequential requests per model', positiveInt, 100)
    .option('--repeats <n>', 'interleaved rounds of the concurrency variants', positiveInt, 3)
    .option('--stream-tokens <n>', 'tokens per stream in the concurrency phase', positiveInt, 128)
    .option('--seconds <n>', 'length of the soak', positiveInt, 60)
    .option('--clients <n>', 'concurrent clients in the soak', positiveInt, 64)
    .addOption(backendOption())
    .parse()
    .opts<Opts>();
  for (const p of o.phases) if (!PHASES.includes(p)) throw new Error(`unknown phase "${p}" (${PHASES.join(', ')})`);
  emitMachine('serve');
  await warnIfBusy();
  const load = new LoadMonitor();
  await withTempDir('serve', async (dir) => {
    const small = shapeFiles('260k', dir, 1) as ModelFiles;
    const big = shapeFiles('15m', dir, 1);
    const tables: (() => void)[] = [];
    if (o.phases.includes('sequential')) {
      const rows = [await sequential('260k', small, o)];
      if (big) rows.push(await sequential('15m', big, o));
      tables.push(() => printTable('sequential streaming requests (8 tokens each), ms as vllm bench serve names them', ['model', 'requests', 'Mean TTFT', 'Median TTFT', 'P95 TTFT', 'P99 TTFT', 'Mean TPOT', 'Mean E2EL', 'errors', 'TTFT target', ''], rows));
    }
    if (o.phases.includes('concurrency') && big) {
      const rows = await concurrency(big, o);
      tables.push(() => printTable(`concurrent streams on the random stories15M shape, ${o.streamTokens} tokens each: aggregate output tokens/s, median of ${o.repeats} interleaved rounds`, ['variant', 'tok/s', 'Mean TTFT ms', 'ratio', 'target', ''], rows));
    }
    if (o.phases.includes('soak')) {
      const row = await soak(small, o);
      tables.push(() => printTable('soak on the embedded model: concurrent streaming clients (32–95 tokens each, temperature 0.8); ms', ['clients', 's', 'requests', 'errors', 'tok/s', 'Median TTFT', 'P99 TTFT', 'Median ITL', 'P99 ITL', 'Mean TPOT', 'Mean E2EL', 'server RSS MB: start → ¼ → end'], [row]));
    }
    emit({ bench: 'serve', other_load_cores: round(load.finish(), 2) });
    for (const t of tables) t();
  });
}

await runMain(main);
