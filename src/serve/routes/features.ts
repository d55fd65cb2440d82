/**
 * Features over HTTP, on the feature index (src/sae/feature-index) — the JSON `tinymorph features
 * … --json` prints, with the SAE and feature named as steering specs name them (`source`, `index`):
 *   GET  /v1/features/search?q=&source=&limit=    full-text search over labels, top tokens, contexts
 *   GET  /v1/features/{source}/{index}             the dashboard (FeatureIndex.show)
 *   POST /v1/features/{source}/{index}/label       {"label": "…"} sets a user label ("" restores the automatic one)
 *   POST /v1/features/explain-text                 {"text", "source"?, "per_token"?, "top"?, "features"?}: top features per token (with
 *                                                  its UTF-16 offsets in the text) and over the text; `features` also per token
 *   POST /v1/features/contrast                     {"a": [texts], "b": [texts], "source"?, "top"?}
 * The first request for an SAE without an index waits while it is built (feature-indexes.ts);
 * explain-text and contrast run the model on the analysis thread.
 */
import { Hono } from 'hono';
import { TinymorphError, UsageError } from '../../errors.js';
import { DEFAULT_SAE_HOOK } from '../../sae/feature-index/feature-ref.js';
import type { SaeSource } from '../../steer/steering-context.js';
import { ApiError } from '../api-error.js';
import { contrastRequestSchema, explainTextRequestSchema, featureLabelRequestSchema, featureSearchQuerySchema } from '../api-schemas.js';
import { parseBody, parseQuery } from '../parse-body.js';
import type { EngineRef, ServeEngine } from '../serve-engine.js';
import { shippedSaeFolder, shippedSaeHooks } from '../shipped-sae.js';

/** The shipped SAE `source` names (400 for a body or query field, 404 for a path segment). */
function saeOf(e: ServeEngine, source: string | undefined, param: string, status: 400 | 404): SaeSource {
  const name = source ?? DEFAULT_SAE_HOOK;
  if (!shippedSaeFolder(name)) {
    const message = `${param} "${name}" is not a shipped SAE (${shippedSaeHooks().join(', ')}, or their layer numbers)`;
    throw status === 404 ? new ApiError(404, message, 'not_found_error', param, 'sae_not_found') : ApiError.badRequest(message, param, 'sae_not_found');
  }
  return e.steering.sae(name);
}

/** The feature a path names, checked against the SAE's width (404 otherwise). */
function featureOf(raw: string, s: SaeSource): number {
  const d = s.sae.config.d_sae;
  if (!/^\d+$/.test(raw) || Number(raw) >= d) throw new ApiError(404, `index "${raw}" is not a feature of ${s.hook} (0..${d - 1})`, 'not_found_error', 'index', 'feature_not_found');
  return Number(raw);
}

export function featuresRoute(engines: EngineRef): Hono {
  return new Hono()
    .get('/features/search', async (c) => {
      const e = engines.get();
      const q = parseQuery(c, featureSearchQuerySchema);
      const s = saeOf(e, q.source, 'source', 400);
      const index = await e.features.get(s);
      try {
        const hits = index.search(q.q, q.limit ?? 20);
        return c.json({ object: 'list', source: s.hook, data: hits.map((h) => ({ source: s.hook, index: h.feature, ...h })) });
      } catch (err) {
        if (err instanceof UsageError) throw ApiError.badRequest(err.message, 'q');
        throw err;
      }
    })
    .get('/features/:source/:index', async (c) => {
      const e = engines.get();
      const s = saeOf(e, c.req.param('source'), 'source', 404);
      const feature = featureOf(c.req.param('index'), s);
      const index = await e.features.get(s);
      return c.json({ source: s.hook, index: feature, ...index.show(feature) });
    })
    .post('/features/:source/:index/label', async (c) => {
      const e = engines.get();
      const s = saeOf(e, c.req.param('source'), 'source', 404);
      const feature = featureOf(c.req.param('index'), s);
      const { label } = await parseBody(c, featureLabelRequestSchema);
      const index = await e.features.get(s);
      index.setLabel(feature, label);
      return c.json({ source: s.hook, index: feature, ...index.summary(feature) });
    })
    .post('/features/explain-text', async (c) => {
      const e = engines.get();
      const body = await parseBody(c, explainTextRequestSchema);
      const s = saeOf(e, body.source ?? undefined, 'source', 400);
      const features = body.features ?? undefined;
      const wide = features?.find((f) => f >= s.sae.config.d_sae);
      if (wide !== undefined) throw ApiError.badRequest(`features: ${wide} is not a feature of ${s.hook} (0..${s.sae.config.d_sae - 1})`, 'features', 'feature_not_found');
      const [r, index] = await Promise.all([
        e.analysis.run({ kind: 'explain', saeDir: s.id, text: body.text, perToken: body.per_token ?? 5, top: body.top ?? 10, features }).catch(inField('text')),
        e.features.get(s),
      ]);
      const labels = index.labels([...r.top.map((f) => f.feature), ...r.tokens.flatMap((t) => t.features.map((f) => f.feature)), ...(features ?? [])]);
      return c.json({ source: s.hook, ...r, labels: Object.fromEntries(labels) });
    })
    .post('/features/contrast', async (c) => {
      const e = engines.get();
      const body = await parseBody(c, contrastRequestSchema);
      const s = saeOf(e, body.source ?? undefined, 'source', 400);
      const [r, index] = await Promise.all([e.analysis.run({ kind: 'contrast', saeDir: s.id, a: body.a, b: body.b, top: body.top ?? 10 }).catch(inField('a')), e.features.get(s)]);
      const labels = index.labels([...r.towardA, ...r.towardB].map((f) => f.feature));
      return c.json({ source: s.hook, ...r, labels: Object.fromEntries(labels) });
    });
}

/** A user mistake found by the model run as a 400 naming `param`; anything else as it is. */
export function inField(param: string): (e: unknown) => never {
  return (e) => {
    throw e instanceof TinymorphError ? ApiError.badRequest(e.message, param, e.code) : e;
  };
}
