/**
 * The HTTP app: middleware in the order a request meets it, then one route module per endpoint
 * group. Built as a function returning the Hono app so that the editor (static files, vault API)
 * can mount its own routes on the same app and inherit the same guards:
 *   request guard (Host allow-list on loopback binds, Origin check) → CORS (only the
 *   --cors-origin list) → API key (everything but /health) → body size limit → routes.
 * Every error, thrown anywhere, leaves as OpenAI's error JSON through onError.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { ApiError, errorHandler, errorResponse } from './api-error.js';
import { bearerAuth } from './middleware/bearer-auth.js';
import { requestGuard } from './middleware/request-guard.js';
import { chatCompletionsRoute } from './routes/chat-completions.js';
import { completionsRoute } from './routes/completions.js';
import { featuresRoute } from './routes/features.js';
import { healthRoute } from './routes/health.js';
import { metricsRoute } from './routes/metrics.js';
import { modelsRoute } from './routes/models.js';
import { steerCompletionRoute } from './routes/steer-completion.js';
import { tokenizeRoute } from './routes/tokenize.js';
import { vectorsRoute, type VectorsRouteOptions } from './routes/vectors.js';
import type { EngineRef } from './serve-engine.js';

export const DEFAULT_MAX_BODY_BYTES = 1 << 20;

export interface AppOptions {
  engines: EngineRef;
  /** Host names the Host header may carry (DNS-rebinding guard); undefined: any (a non-loopback bind, guarded by its API key). */
  allowedHosts?: readonly string[];
  /** Required as `Authorization: Bearer <key>` on every path but /health. */
  apiKey?: string;
  /** Origins allowed to read responses (CORS) and send requests from a page; none by default. */
  corsOrigins?: readonly string[];
  maxBodyBytes?: number;
  /** Told of each style vector built (the writing app keeps them in the vault). */
  onVectorBuilt?: VectorsRouteOptions['onBuilt'];
}

export function createApp(o: AppOptions): Hono {
  const corsOrigins = o.corsOrigins ?? [];
  const maxBodyBytes = o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const app = new Hono();
  app.onError(errorHandler());
  app.notFound((c) => errorResponse(c, new ApiError(404, `no route for ${c.req.method} ${c.req.path}`, 'not_found_error', null, 'unknown_url')));
  app.use('*', requestGuard({ allowedHosts: o.allowedHosts, corsOrigins }));
  if (corsOrigins.length > 0) app.use('*', cors({ origin: [...corsOrigins], allowMethods: ['GET', 'POST', 'OPTIONS'], allowHeaders: ['Authorization', 'Content-Type'], maxAge: 600 }));
  if (o.apiKey !== undefined) app.use('*', bearerAuth(o.apiKey, ['/health']));
  app.use('*', bodyLimit({ maxSize: maxBodyBytes, onError: () => {
    throw new ApiError(413, `the request body is larger than ${maxBodyBytes} bytes`, 'invalid_request_error', null, 'request_too_large');
  } }));
  app.route('/', healthRoute(o.engines));
  app.route('/', metricsRoute(o.engines));
  for (const route of [modelsRoute, completionsRoute, chatCompletionsRoute, tokenizeRoute, steerCompletionRoute, featuresRoute]) app.route('/v1', route(o.engines));
  app.route('/v1', vectorsRoute(o.engines, { onBuilt: o.onVectorBuilt }));
  return app;
}
