import OpenAI from 'openai';
import { loadModel } from '../../src/model/load-model.js';
import { runWithCache } from '../../src/model/run-with-cache.js';
import type { RunningServer, ServerOptions } from '../../src/serve/server.js';
import { startServer } from '../../src/serve/server.js';
import { SteeringContext } from '../../src/steer/steering-context.js';

/** A model instance of its own for reference generations, so nothing the server installs on its model can touch them. */
export const reference = loadModel();
export const referenceSteering = new SteeringContext(reference.model, reference.tokenizer);
export const MODEL_ID = 'stories260K';

/**
 * The reference model's log-softmax at every position of `ids`, from one full-sequence forward
 * (no KV-cache steps, no sampler, computed in doubles): row t is the distribution of token t + 1.
 */
export function fullSequenceLogSoftmax(ids: readonly number[]): Float64Array[] {
  const { logits } = runWithCache(reference.model, ids, []);
  const vocab = reference.model.config.vocabSize;
  return Array.from({ length: ids.length }, (_, t) => {
    const row = logits.subarray(t * vocab, (t + 1) * vocab);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    return Float64Array.from(row, (x) => x - lse);
  });
}

/** The real server on a free loopback port, over its own copy of the embedded model. */
export function startTestServer(o: ServerOptions = {}): Promise<RunningServer> {
  return startServer({ port: 0, loaded: loadModel(), ...o });
}

/** The official client, unchanged; no retries, so a 429 or 503 is seen as it is sent. */
export function openaiClient(server: RunningServer, apiKey = 'no-key-needed'): OpenAI {
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 });
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  json: () => any;
}

/** A plain fetch (for what the client does not send: raw bodies, odd headers). */
export async function post(server: RunningServer, path: string, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

/** Resolves once `done()` holds, checking after every turn of the event loop (the scheduler steps once per turn). */
export async function until(done: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** GET /metrics, parsed: each sample line's series (`name{labels}` as written) → its value. */
export async function scrape(server: RunningServer): Promise<Map<string, number>> {
  const res = await fetch(`${server.url}/metrics`);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${text}`);
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** The value of series `name` labelled with the test model (and `labels`), or a failure naming it. */
export function sample(samples: Map<string, number>, name: string, labels = ''): number {
  const series = `${name}{model_name="${MODEL_ID}"${labels ? `,${labels}` : ''}}`;
  const v = samples.get(series);
  if (v === undefined) throw new Error(`no sample ${series} in /metrics`);
  return v;
}
