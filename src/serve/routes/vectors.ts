/**
 * Steering vectors over HTTP:
 *   GET  /v1/vectors          the presets (with the strength each is tuned for) and the vectors built here
 *   POST /v1/vectors/style    {"name", "texts": [...], "stream"?}: a style vector from the texts
 *                             (style-vector.ts, against the shipped TinyStories text, as `tinymorph
 *                             vector style`), kept in memory under `name` for `steering.vectors[].vector`
 *                             to name, with its measured effect (style-effect.ts: the clean model's CE on
 *                             the texts without and with the vector at the strength that lowers it most, which becomes the
 *                             vector's `strength`). With `stream: true`
 *                             the answer is server-sent events: `{"object": "vector.progress", "phase":
 *                             "vector" | "effect", "done", "total"}` as the analysis thread reports, then
 *                             the vector's entry, then `[DONE]` (errors as OpenAI streams them).
 * A request never names a file: built vectors live in this server's memory until it stops, at most
 * MAX_BUILT_VECTORS of them (building under an existing name replaces that vector). The embedder
 * (the writing app) may keep them somewhere of its own through `onBuilt`.
 */
import { Hono } from 'hono';
import { PRESETS, presetByName } from '../../steer/presets.js';
import type { SteeringVectorSet } from '../../steer/steering-vector-set.js';
import type { StyleEffect } from '../../steer/vectors/style-effect.js';
import { ApiError } from '../api-error.js';
import { styleVectorRequestSchema } from '../api-schemas.js';
import { openAiStream } from '../openai-stream.js';
import { parseBody } from '../parse-body.js';
import type { EngineRef } from '../serve-engine.js';
import { inField } from './features.js';

export const MAX_BUILT_VECTORS = 32;

/** Strength of a built vector without a measured effect (one defined from a file): the mean difference itself (CAA's unit). */
export const BUILT_STRENGTH = 1;

/** The strengths a style vector's effect is measured at; the one that lowers the texts' CE most becomes its strength (style-effect.ts). */
export const STYLE_STRENGTHS = [0.1, 0.15, 0.2, 0.3, 0.5, 1];

export interface VectorsRouteOptions {
  /** Called with each vector built (after it is defined), e.g. to persist it. */
  onBuilt?: (name: string, set: SteeringVectorSet) => void;
}

/** The effect, kept in the set's metadata so that a vector saved and loaded again still reports it. */
export function withEffectMetadata(set: SteeringVectorSet, e: StyleEffect): SteeringVectorSet {
  return { ...set, metadata: { ...set.metadata, effect_strength: String(e.strength), effect_clean_nats: String(e.cleanNats), effect_steered_nats: String(e.steeredNats), effect_tokens: String(e.tokens) } };
}

function effectOf(set: SteeringVectorSet): { strength: number; clean_nats: number; steered_nats: number; tokens: number } | null {
  const m = set.metadata;
  const nums = [m.effect_strength, m.effect_clean_nats, m.effect_steered_nats, m.effect_tokens].map(Number);
  if (m.effect_clean_nats === undefined || !nums.every(Number.isFinite)) return null;
  return { strength: nums[0], clean_nats: nums[1], steered_nats: nums[2], tokens: nums[3] };
}

const built = (name: string, set: SteeringVectorSet) => {
  const effect = effectOf(set);
  return { name, kind: 'built' as const, strength: effect?.strength ?? BUILT_STRENGTH, hooks: [...set.vectors.keys()], metadata: set.metadata, effect };
};

export function vectorsRoute(engines: EngineRef, o: VectorsRouteOptions = {}): Hono {
  return new Hono()
    .get('/vectors', (c) => {
      const { steering } = engines.get();
      const presets = PRESETS.map((p) => ({ name: p.name, kind: 'preset' as const, strength: p.strength, description: p.description, measure: p.measure.name, hooks: [...steering.vectorSet(p.name).vectors.keys()] }));
      return c.json({ object: 'list', data: [...presets, ...[...steering.definedVectorSets()].map(([name, set]) => built(name, set))] });
    })
    .post('/vectors/style', async (c) => {
      const e = engines.get();
      const { name, texts, stream } = await parseBody(c, styleVectorRequestSchema);
      if (presetByName(name)) throw ApiError.badRequest(`name "${name}" is a preset's; give the vector another name`, 'name', 'name_taken');
      const defined = e.steering.definedVectorSets();
      if (!defined.has(name) && defined.size >= MAX_BUILT_VECTORS) {
        throw ApiError.badRequest(`${defined.size} vectors are built already (${[...defined.keys()].join(', ')}); reuse one of their names to replace it`, 'name', 'too_many_vectors');
      }
      const build = async (onProgress?: (p: { phase: string; done: number; total: number }) => void) => {
        const r = await e.analysis.run({ kind: 'style', texts, strengths: STYLE_STRENGTHS }, onProgress).catch(inField('texts'));
        const set = withEffectMetadata(r.set, r.effect);
        e.steering.defineVectorSet(name, set);
        o.onBuilt?.(name, set);
        return built(name, set);
      };
      if (!stream) return c.json(await build());
      return openAiStream(c, async (send) => {
        let sent = Promise.resolve();
        const result = await build((p) => void (sent = sent.then(() => send({ object: 'vector.progress', ...p }))));
        await sent;
        await send(result);
      });
    });
}
