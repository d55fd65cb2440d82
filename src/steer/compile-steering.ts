/**
 * A validated spec resolved against the model: every edit becomes either a direction edit at a
 * hook (a vector, or an SAE feature's decoder row) or a latent edit of an SAE at its hook, with
 * strength_multiplier already applied. Compiling once per request keeps the per-token work of
 * steering-session.ts to arithmetic.
 */
import { SteeringError } from '../errors.js';
import { hookIndex } from '../model/hook-points.js';
import type { HookName } from '../model/hook-points.js';
import { hookWidth } from '../sae/hook-width.js';
import { architectureByName } from '../sae/architecture-registry.js';
import type { SaeSource, SteeringContext } from './steering-context.js';
import { inField } from './steering-context.js';
import type { SaeSpaceMethod, SteerMethod, SteeringScope, SteeringSpec } from './steering-spec.js';
import { isEmptySteering, SAE_SPACE_METHODS, specField } from './steering-spec.js';

/** x ↦ one of the three direction methods of steering-spec.ts, with d = `dir`. */
export interface DirectionEdit {
  method: SteerMethod;
  dir: Float32Array;
  /** d/‖d‖ (zeros for a zero vector). */
  unit: Float32Array;
  /** ‖d‖. */
  norm: number;
  /** strength × strength_multiplier. */
  s: number;
}

export interface LatentEdit {
  index: number;
  method: SaeSpaceMethod;
  /** Clamp target, multiplier, or (MEAN_ABLATE) the feature's mean activation; unused for ABLATE. */
  value: number;
}

export interface SaeEdits {
  source: SaeSource;
  edits: LatentEdit[];
}

/** Everything applied at one hook point, in this order: SAE latent edits (from the clean x), then direction edits. */
export interface HookSteering {
  hook: HookName;
  hookIndex: number;
  saeEdits: SaeEdits[];
  directions: DirectionEdit[];
}

export interface GuideTerm {
  index: number;
  /** Logits added to the feature's top output token at full push (strength × strength_multiplier). */
  s: number;
  /** The feature's typical activation when it fires: the push fades out as its activation reaches this. */
  tau: number;
  /** Its centred output-token direction, max |entry| = 1 [vocab]. */
  logits: Float32Array;
}

export interface CompiledGuide {
  source: SaeSource;
  terms: GuideTerm[];
}

export interface CompiledSteering {
  hooks: HookSteering[];
  scope: SteeringScope;
  normalize: boolean;
  guide: CompiledGuide | undefined;
}

export function compileSteering(spec: SteeringSpec, ctx: SteeringContext, field = 'steering'): CompiledSteering {
  const byHook = new Map<HookName, HookSteering>();
  const at = (hook: HookName): HookSteering => {
    let h = byHook.get(hook);
    if (!h) byHook.set(hook, (h = { hook, hookIndex: hookIndex(ctx.model.config.nLayers, hook), saeEdits: [], directions: [] }));
    return h;
  };
  const m = spec.strength_multiplier;

  spec.features.forEach((f, i) => {
    const where = specField(field, `features[${i}]`);
    const src = inField(`${where}.source`, () => ctx.sae(f.source));
    const { d_sae, d_in } = src.sae.config;
    if (f.index >= d_sae) throw new SteeringError(`${where}.index ${f.index} is outside 0..${d_sae - 1} (${src.id} has ${d_sae} features)`);
    const method = f.method ?? spec.steer_method;
    const s = f.strength * m;
    if ((SAE_SPACE_METHODS as readonly string[]).includes(method)) {
      const value = method === 'MEAN_ABLATE' ? ctx.featureMeans(src).mean[f.index] : s;
      const hook = at(src.hook);
      let group = hook.saeEdits.find((g) => g.source.sae === src.sae);
      if (!group) hook.saeEdits.push((group = { source: src, edits: [] }));
      group.edits.push({ index: f.index, method: method as SaeSpaceMethod, value });
      return;
    }
    const scale = architectureByName(src.sae.config.architecture).decodeScale?.(src.sae)?.[f.index] ?? 1;
    const dir = src.sae.weights.W_dec.slice(f.index * d_in, (f.index + 1) * d_in);
    if (scale !== 1) for (let k = 0; k < d_in; k++) dir[k] *= scale;
    addDirection(at(src.hook), method as SteerMethod, dir, s);
  });

  spec.vectors.forEach((v, i) => {
    const where = specField(field, `vectors[${i}]`);
    const method = v.method ?? spec.steer_method;
    const s = v.strength * m;
    for (const [hook, dir] of inField(where, () => resolveVector(ctx, v.vector, v.hook, where))) {
      addDirection(at(hook), method, dir, s);
    }
  });

  const hooks = [...byHook.values()].filter((h) => h.saeEdits.length > 0 || h.directions.length > 0);
  return { hooks, scope: spec.scope, normalize: spec.normalize_steering, guide: compileGuide(spec, ctx, field) };
}

/** True when steering with `c` is exactly the clean model. */
export function isIdentity(c: CompiledSteering): boolean {
  return c.hooks.length === 0 && c.guide === undefined;
}

/** Zero-strength additions are dropped here, so a zero-strength spec is the clean model bit for bit. */
function addDirection(h: HookSteering, method: SteerMethod, dir: Float32Array, s: number): void {
  if (method === 'SIMPLE_ADDITIVE' && s === 0) return;
  let sq = 0;
  for (const x of dir) sq += x * x;
  const norm = Math.sqrt(sq);
  const unit = new Float32Array(dir.length);
  if (norm > 0) for (let k = 0; k < dir.length; k++) unit[k] = dir[k] / norm;
  h.directions.push({ method, dir, unit, norm, s });
}

/** The (hook, vector) pairs a vector edit names: inline numbers at `hook`, or one or all vectors of a set. */
function resolveVector(ctx: SteeringContext, vector: readonly number[] | Float32Array | string, hook: string | undefined, where: string): [HookName, Float32Array][] {
  const nLayers = ctx.model.config.nLayers;
  if (typeof vector !== 'string') {
    const name = hook as HookName; // parseSteeringSpec requires a hook for inline vectors
    const width = hookWidth(ctx.model.config, name);
    if (width !== vector.length) throw new SteeringError(`${where}.vector has ${vector.length} numbers but ${name} is ${width ?? 'not a fixed'} wide`);
    return [[name, Float32Array.from(vector)]];
  }
  const set = ctx.vectorSet(vector);
  if (hook === undefined) return [...set.vectors];
  hookIndex(nLayers, hook);
  const v = set.vectors.get(hook as HookName);
  if (!v) throw new SteeringError(`${where}: "${vector}" has no vector for ${hook} (it has ${[...set.vectors.keys()].join(', ')})`);
  return [[hook as HookName, v]];
}

function compileGuide(spec: SteeringSpec, ctx: SteeringContext, field: string): CompiledGuide | undefined {
  const active = spec.guide.filter((g) => g.strength * spec.strength_multiplier !== 0);
  if (active.length === 0) return undefined;
  const sources = new Set(active.map((g) => g.source));
  if (sources.size > 1) throw new SteeringError(`${specField(field, 'guide')}: all guide features must come from one SAE (got ${[...sources].join(', ')})`);
  const src = inField(specField(field, 'guide[0].source'), () => ctx.sae(active[0].source));
  spec.guide.forEach((g, i) => {
    if (g.index >= src.sae.config.d_sae) throw new SteeringError(`${specField(field, `guide[${i}].index`)} ${g.index} is outside 0..${src.sae.config.d_sae - 1}`);
  });
  const means = ctx.featureMeans(src);
  const terms = active.map((g) => ({
    index: g.index,
    s: g.strength * spec.strength_multiplier,
    tau: means.meanNonZero[g.index] > 0 ? means.meanNonZero[g.index] : 1,
    logits: ctx.featureLogitDirection(src, g.index),
  }));
  return { source: src, terms };
}

/** A spec with nothing in it needs no compile: the clean model. */
export function compileIfAny(spec: SteeringSpec, ctx: SteeringContext, field?: string): CompiledSteering | undefined {
  if (isEmptySteering(spec)) return undefined;
  const c = compileSteering(spec, ctx, field);
  return isIdentity(c) ? undefined : c;
}
