import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { packageRoot } from '../src/util/package-root.js';

/**
 * The pieces of bench/serve.ts that talk to a real server: `tinymorph serve` in a child process
 * (its RSS read from /proc), and a streaming client over fetch that times each request as
 * `vllm bench serve` does (vllm/benchmarks/serve.py): TTFT from sending the request to the first
 * chunk with text, ITL between consecutive chunks with text, TPOT = (E2EL − TTFT) / (tokens − 1),
 * E2EL from sending to the end of the stream; output tokens from the stream's usage chunk.
 */

export class ServeProcess {
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly url: string,
    private readonly exited: Promise<number | null>,
  ) {}

  /** Starts `tinymorph serve --port 0 <args>` and resolves once it prints its URL. */
  static async start(args: readonly string[]): Promise<ServeProcess> {
    const cli = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
    const child = spawn(process.execPath, [cli, 'serve', '--port', '0', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d;
        const m = /listening on (http:\/\/\S+)\n/.exec(out);
        if (m) resolve(m[1]);
      });
      void exited.then((code) => reject(new Error(`tinymorph serve exited (${code}) before listening: ${stderr.trim()}`)));
    });
    return new ServeProcess(child, url, exited);
  }

  /** Resident set size in MB (Linux /proc), or undefined. */
  rssMb(): number | undefined {
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    await this.exited;
  }
}

export interface RequestRecord {
  /** The request failed: an HTTP error, an error event in the stream, or no [DONE]. */
  error?: string;
  ttftMs: number;
  e2elMs: number;
  /** Gaps between consecutive chunks with text. */
  itlMs: number[];
  outputTokens: number;
  startMs: number;
  endMs: number;
}

/** One streamed /v1/completions request (stream_options.include_usage is added). */
export async function streamCompletion(url: string, body: Record<string, unknown>): Promise<RequestRecord> {
  const startMs = performance.now();
  const rec: RequestRecord = { ttftMs: NaN, e2elMs: NaN, itlMs: [], outputTokens: 0, startMs, endMs: NaN };
  let last: number | undefined;
  let done = false;
  try {
    const res = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }) });
    if (res.status !== 200) {
      rec.error = `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`;
      return rec;
    }
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const bytes of res.body as ReadableStream<Uint8Array>) {
      const now = performance.now();
      buffer += decoder.decode(bytes, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        if (!event.startsWith('data: ')) continue;
        const data = event.slice(6);
        if (data === '[DONE]') {
          done = true;
          continue;
        }
        const chunk = JSON.parse(data) as { error?: { message: string }; choices?: { text: string }[]; usage?: { completion_tokens: number } | null };
        if (chunk.error) rec.error = chunk.error.message;
        if (chunk.usage) rec.outputTokens = chunk.usage.completion_tokens;
        if (chunk.choices?.[0]?.text) {
          if (last === undefined) rec.ttftMs = now - startMs;
          else rec.itlMs.push(now - last);
          last = now;
        }
      }
    }
    if (!done && !rec.error) rec.error = 'the stream ended without [DONE]';
  } catch (e) {
    rec.error = (e as Error).message;
  } finally {
    rec.endMs = performance.now();
    rec.e2elMs = rec.endMs - startMs;
  }
  return rec;
}

/** numpy's default percentile (linear interpolation between closest ranks), which vLLM's bench uses. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const at = (p / 100) * (s.length - 1);
  const lo = Math.floor(at);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (at - lo);
}

const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** The latency summary `vllm bench serve` prints, under its JSON names (milliseconds), plus p95 TTFT. */
export interface ServeMetrics {
  completed: number;
  errors: number;
  duration_s: number;
  total_output_tokens: number;
  request_throughput: number;
  output_throughput: number;
  mean_ttft_ms: number;
  median_ttft_ms: number;
  p95_ttft_ms: number;
  p99_ttft_ms: number;
  mean_tpot_ms: number;
  median_tpot_ms: number;
  p99_tpot_ms: number;
  mean_itl_ms: number;
  median_itl_ms: number;
  p99_itl_ms: number;
  mean_e2el_ms: number;
  median_e2el_ms: number;
  p99_e2el_ms: number;
}

export function serveMetrics(records: readonly RequestRecord[]): ServeMetrics {
  const ok = records.filter((r) => !r.error);
  const start = Math.min(...records.map((r) => r.startMs));
  const end = Math.max(...records.map((r) => r.endMs));
  const duration = (end - start) / 1000;
  const tokens = ok.reduce((s, r) => s + r.outputTokens, 0);
  const ttft = ok.map((r) => r.ttftMs);
  const tpot = ok.filter((r) => r.outputTokens > 1).map((r) => (r.e2elMs - r.ttftMs) / (r.outputTokens - 1));
  const itl = ok.flatMap((r) => r.itlMs);
  const e2el = ok.map((r) => r.e2elMs);
  return {
    completed: ok.length,
    errors: records.length - ok.length,
    duration_s: duration,
    total_output_tokens: tokens,
    request_throughput: ok.length / duration,
    output_throughput: tokens / duration,
    mean_ttft_ms: mean(ttft),
    median_ttft_ms: percentile(ttft, 50),
    p95_ttft_ms: percentile(ttft, 95),
    p99_ttft_ms: percentile(ttft, 99),
    mean_tpot_ms: mean(tpot),
    median_tpot_ms: percentile(tpot, 50),
    p99_tpot_ms: percentile(tpot, 99),
    mean_itl_ms: mean(itl),
    median_itl_ms: percentile(itl, 50),
    p99_itl_ms: percentile(itl, 99),
    mean_e2el_ms: mean(e2el),
    median_e2el_ms: percentile(e2el, 50),
    p99_e2el_ms: percentile(e2el, 99),
  };
}
