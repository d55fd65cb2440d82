/**
 * Steering vectors over HTTP:
 *   GET  /v1/vectors          the presets (with the strength each is tuned for) and the vectors built here
 *   POST /v1/vectors/style    {"name", "texts": [...]}: a style vector from the texts (style-vector.ts,
 *                             against the shipped TinyStories text, as `tinymorph vector style`), kept
 *                             in memory under `name` for `steering.vectors[].vector` to name
 * A request never names a file: built vectors live in this server's memory until it stops, at most
 * MAX_BUILT_VECTORS of them (building under an existing name replaces that vector).
 */
import { Hono } from 'hono';
import { PRESETS, presetByName } from '../../steer/presets.js';
import type { SteeringVectorSet } from '../../steer/steering-vector-set.js';
import { ApiError } from '../api-error.js';
import { styleVectorRequestSchema } from '../api-schemas.js';
import { parseBody } from '../parse-body.js';
import type { EngineRef } from '../serve-engine.js';
import { inField } from './features.js';

export const MAX_BUILT_VECTORS = 32;

/** Strength of a built vector when a client has no better idea: the mean difference itself (CAA's unit). */
const BUILT_STRENGTH = 1;

const built = (name: string, set: SteeringVectorSet) => ({ name, kind: 'built' as const, strength: BUILT_STRENGTH, hooks: [...set.vectors.keys()], metadata: set.metadata });

export function vectorsRoute(engines: EngineRef): Hono {
  return new Hono()
    .get('/vectors', (c) => {
      const { steering } = engines.get();
      const presets = PRESETS.map((p) => ({ name: p.name, kind: 'preset' as const, strength: p.strength, description: p.description, measure: p.measure.name, hooks: [...steering.vectorSet(p.name).vectors.keys()] }));
      return c.json({ object: 'list', data: [...presets, ...[...steering.definedVectorSets()].map(([name, set]) => built(name, set))] });
    })
    .post('/vectors/style', async (c) => {
      const e = engines.get();
      const { name, texts } = await parseBody(c, styleVectorRequestSchema);
      if (presetByName(name)) throw ApiError.badRequest(`name "${name}" is a preset's; give the vector another name`, 'name', 'name_taken');
      const defined = e.steering.definedVectorSets();
      if (!defined.has(name) && defined.size >= MAX_BUILT_VECTORS) {
        throw ApiError.badRequest(`${defined.size} vectors are built already (${[...defined.keys()].join(', ')}); reuse one of their names to replace it`, 'name', 'too_many_vectors');
      }
      const set = await e.analysis.run({ kind: 'style', texts }).catch(inField('texts'));
      e.steering.defineVectorSet(name, set);
      return c.json(built(name, set));
    });
}
