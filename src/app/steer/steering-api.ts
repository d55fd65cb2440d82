/**
 * The steering panel's calls to the model server's public API (src/serve/routes): the same requests
 * a script makes with any HTTP or `openai` client, each answer parsed with zod so a server change
 * fails loudly here. Failures are an ApiError carrying the server's one-line message, which names
 * the field it is about (`steering.features[0].strength must be a finite number, got "x"`).
 */
import * as z from 'zod';
import { ApiError } from '../api/vault-client.js';
import type { SteeringSpecJson } from './steering-spec-edit.js';

const FeatureHit = z.object({ source: z.string(), index: z.number().int(), label: z.string(), density: z.number(), maxAct: z.number() });
export type FeatureHit = z.infer<typeof FeatureHit>;
const FeatureSearch = z.object({ source: z.string(), data: z.array(FeatureHit) });

const SteeringVector = z.object({ name: z.string(), kind: z.enum(['preset', 'built']), strength: z.number(), description: z.string().optional() });
export type SteeringVector = z.infer<typeof SteeringVector>;
const VectorList = z.object({ data: z.array(SteeringVector) });

const ErrorBody = z.object({ error: z.object({ message: z.string() }) });

async function call<S extends z.ZodType>(schema: S, url: string, init: RequestInit = {}): Promise<z.infer<S>> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    if (init.signal?.aborted) throw e;
    throw new ApiError(0, 'the model server is not reachable');
  }
  const json: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const err = ErrorBody.safeParse(json);
    throw new ApiError(res.status, err.success ? err.data.error.message : `${url}: HTTP ${res.status}`);
  }
  return schema.parse(json);
}

/** Features of an SAE (the server's default one when `source` is not given) whose label, top tokens or contexts match `q`. */
export function searchFeatures(q: string, signal?: AbortSignal, source?: string): Promise<z.infer<typeof FeatureSearch>> {
  const params = new URLSearchParams({ q, limit: '6' });
  if (source) params.set('source', source);
  return call(FeatureSearch, `/v1/features/search?${params}`, { signal });
}

/** The presets (with the strength each is tuned for) and the vectors built on this server. */
export async function listVectors(): Promise<SteeringVector[]> {
  return (await call(VectorList, '/v1/vectors')).data;
}

/**
 * Whether the server takes `spec` as a request's steering: it compiles the spec before generating,
 * so a one-token greedy completion answers at once, with a 400 naming the field when it is refused.
 */
export async function checkSpec(spec: SteeringSpecJson): Promise<void> {
  await call(z.unknown(), '/v1/completions', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt: 'Once', max_tokens: 1, temperature: 0, steering: spec }),
  });
}
