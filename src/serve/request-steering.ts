/**
 * A request's steering spec: validated by parseSteeringSpec (the engine's one parser), confined
 * to what a client may name, and compiled once for the request. A spec may name SAE folders and
 * vector files by path, which is right on the command line but not from the network: a request
 * must not make the server open files of the client's choosing. So a request names only shipped
 * SAEs (a hook name or layer number), shipped presets, vectors built through this server
 * (POST /v1/vectors/style), or inline numbers; steering is data only.
 */
import { SteeringError } from '../errors.js';
import type { CompiledSteering } from '../steer/compile-steering.js';
import { compileIfAny } from '../steer/compile-steering.js';
import { presetByName, PRESETS } from '../steer/presets.js';
import type { SteeringContext } from '../steer/steering-context.js';
import type { SteeringSpec } from '../steer/steering-spec.js';
import { parseSteeringSpec } from '../steer/steering-spec.js';
import { describeValue } from '../util/describe-value.js';
import type { FieldPath } from '../util/validate-json.js';
import { joinFieldPath } from '../util/validate-json.js';
import type { ServeEngine } from './serve-engine.js';
import { shippedSaeFolder, shippedSaeHooks } from './shipped-sae.js';

/**
 * `field`: where the spec sits in the request body (`steering`), or '' when its fields are the
 * body's own. The feature means the spec needs (guidance, MEAN_ABLATE) are computed on the
 * analysis thread the first time an SAE needs them, so running streams keep decoding meanwhile.
 */
export async function compileRequestSteering(raw: unknown, e: Pick<ServeEngine, 'steering' | 'analysis'>, field = 'steering'): Promise<CompiledSteering | undefined> {
  if (raw === undefined || raw === null) return undefined;
  const ctx = e.steering;
  const spec = parseSteeringSpec(raw, field);
  confine(spec, ctx);
  for (const source of meansSources(spec)) {
    const src = ctx.sae(source);
    await ctx.loadFeatureMeans(src, () => e.analysis.run({ kind: 'feature-means', saeDir: src.id }));
  }
  return compileIfAny(spec, ctx);
}

/** The SAEs whose feature means compiling `spec` reads (compile-steering.ts): guide sources and MEAN_ABLATE features'. */
function meansSources(spec: SteeringSpec): Set<string> {
  const ablated = spec.features.filter((f) => (f.method ?? spec.steer_method) === 'MEAN_ABLATE');
  return new Set([...spec.guide, ...ablated].map((x) => x.source));
}

function confine(spec: SteeringSpec, ctx: SteeringContext): void {
  const name = spec.fieldName ?? ((path: FieldPath) => joinFieldPath('steering', path));
  const sources = [...spec.features.map((f, i) => [f.source, name(['features', i, 'source'])]), ...spec.guide.map((g, i) => [g.source, name(['guide', i, 'source'])])];
  for (const [source, at] of sources) {
    if (!shippedSaeFolder(source)) {
      throw new SteeringError(`${at} ${describeValue(source)} is not a shipped SAE (${shippedSaeHooks().join(', ')}, or their layer numbers); a request names an SAE by its hook or layer, not by a path on the server`);
    }
  }
  spec.vectors.forEach((v, i) => {
    if (typeof v.vector === 'string' && !presetByName(v.vector) && !ctx.definedVectorSets().has(v.vector)) {
      const built = [...ctx.definedVectorSets().keys()];
      throw new SteeringError(
        `${name(['vectors', i, 'vector'])} ${describeValue(v.vector)} is not a preset (${PRESETS.map((p) => p.name).join(', ')}) nor a vector built on this server (${built.length ? built.join(', ') : 'none yet'}); a request gives one of those or the numbers themselves, not a file on the server`,
      );
    }
  });
}
