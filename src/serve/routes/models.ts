/** GET /v1/models and /v1/models/{id}: the one model this server serves, in OpenAI's list shape. */
import { Hono } from 'hono';
import type { EngineRef, ServeEngine } from '../serve-engine.js';

const modelObject = (e: ServeEngine) => ({ id: e.modelId, object: 'model' as const, created: e.created, owned_by: 'tinymorph', max_model_len: e.model.config.seqLen });

export function modelsRoute(engines: EngineRef): Hono {
  return new Hono()
    .get('/models', (c) => c.json({ object: 'list', data: [modelObject(engines.get())] }))
    .get('/models/:id', (c) => c.json(modelObject(engines.forModel(c.req.param('id')))));
}
