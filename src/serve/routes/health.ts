/** GET /health: 200 once the model is loaded, 503 (OpenAI error JSON, Retry-After) while it loads. */
import { Hono } from 'hono';
import type { EngineRef } from '../serve-engine.js';

export function healthRoute(engines: EngineRef): Hono {
  return new Hono().get('/health', (c) => {
    const { modelId } = engines.get();
    return c.json({ status: 'ok', model: modelId });
  });
}
