/**
 * The page's side of the model server's feature routes (src/serve/routes/features.ts), the same
 * public `/v1` API a script calls: search, a feature's dashboard, its label, and which features
 * fire on a text. Failures are ApiError with the server's one-line message.
 */
import type { DashboardContext, FeatureDashboard, SearchHit } from '../../sae/feature-index/feature-index.js';
import type { AggregateFeature, TokenFeatures } from '../../sae/feature-index/explain-text.js';
import { ApiError } from '../api/vault-client.js';

export type { DashboardContext };

/** A search hit as the server sends it: the SAE it belongs to and the feature's number there. */
export type FeatureHit = SearchHit & { source: string; index: number };
export type Dashboard = FeatureDashboard & { source: string; index: number };

export interface Explanation {
  source: string;
  tokens: TokenFeatures[];
  top: AggregateFeature[];
  labels: Record<string, string>;
}

async function call<T>(method: string, url: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, { method, signal, headers: body === undefined ? {} : { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new ApiError(0, 'the model server is not reachable');
  }
  const json = (await res.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
  if (!res.ok) throw new ApiError(res.status, json?.error?.message ?? `${method} ${url}: HTTP ${res.status}`);
  return json as T;
}

const path = (source: string, index: number): string => `/v1/features/${encodeURIComponent(source)}/${index}`;

export const features = {
  search: (q: string, limit = 30) => call<{ data: FeatureHit[] }>('GET', `/v1/features/search?${new URLSearchParams({ q, limit: String(limit) })}`).then((r) => r.data),
  dashboard: (source: string, index: number) => call<Dashboard>('GET', path(source, index)),
  setLabel: (source: string, index: number, label: string) => call<FeatureHit>('POST', `${path(source, index)}/label`, { label }),
  /** Top features per token (with each token's span in `text`) and the activations of `chosen` at every token. */
  explain: (text: string, o: { perToken: number; top: number; chosen?: number[]; source?: string }, signal?: AbortSignal) =>
    call<Explanation>('POST', '/v1/features/explain-text', { text, per_token: o.perToken, top: o.top, ...(o.chosen?.length ? { features: o.chosen } : {}), ...(o.source ? { source: o.source } : {}) }, signal),
};
