/**
 * The steering request, as a client sends it (JSON; Neuronpedia's steer API field names):
 *   features: [{ source | layer, index, strength, method? }]   SAE features
 *   vectors:  [{ hook?, vector, strength, method? }]            raw directions (numbers, a preset or a vector file)
 *   strength_multiplier (default 1), steer_method (default SIMPLE_ADDITIVE), normalize_steering (default false)
 *   scope: "all" | "prompt" | "generated" | { start, end } | { after: "marker text" }  (tinymorph's addition)
 *   guide: [{ source | layer, index, strength }]                SAE-guided decoding (sae-guided-decoding.ts)
 * What each method does to an activation x, with d the direction (a feature's decoder row or the
 * vector), d̂ = d/‖d‖, s = strength × strength_multiplier:
 *   SIMPLE_ADDITIVE    x + s·d                                 (ActAdd, Turner et al. 2023; CAA)
 *   ORTHOGONAL_DECOMP  x − (x·d̂)d̂ + s·d                        its component along d̂ is replaced by s·‖d‖
 *   PROJECTION_CAP     x − max(0, x·d̂ − s‖d‖)·d̂                 its component along d̂ is capped at s·‖d‖
 * and, for features only, in SAE space with the error term (so nothing else moves):
 *   CLAMP a_j ← s      MULTIPLY a_j ← a_j·s      ABLATE a_j ← 0      MEAN_ABLATE a_j ← mean a_j over text
 * normalize_steering rescales each steered activation back to its norm before steering, so a
 * strong edit turns the residual stream rather than inflating it.
 * Strength 0 with SIMPLE_ADDITIVE is the identity (bit for bit); for the other methods 0 is a value.
 */
import { SteeringError } from '../errors.js';

export const STEER_METHODS = ['SIMPLE_ADDITIVE', 'ORTHOGONAL_DECOMP', 'PROJECTION_CAP'] as const;
export type SteerMethod = (typeof STEER_METHODS)[number];
export const SAE_SPACE_METHODS = ['CLAMP', 'MULTIPLY', 'ABLATE', 'MEAN_ABLATE'] as const;
export type SaeSpaceMethod = (typeof SAE_SPACE_METHODS)[number];
export type FeatureMethod = SteerMethod | SaeSpaceMethod;

export interface FeatureEdit {
  /** Which SAE: a hook name of a shipped SAE (`blocks.2.hook_resid_post`), a layer number, or an SAE folder. */
  source: string;
  index: number;
  strength: number;
  /** Default: the spec's steer_method. */
  method?: FeatureMethod;
}

export interface VectorEdit {
  /** Hook point; optional when `vector` names a file or preset that says where its vectors go. */
  hook?: string;
  /** The direction itself, or the name of a preset / path of a vector file (.safetensors or .gguf). */
  vector: readonly number[] | Float32Array | string;
  strength: number;
  method?: SteerMethod;
}

export type SteeringScope =
  | { kind: 'all' }
  | { kind: 'prompt' }
  | { kind: 'generated' }
  | { kind: 'range'; start: number; end: number }
  | { kind: 'after'; marker: string };

export interface GuideFeature {
  source: string;
  index: number;
  /** Logit bias scale: > 0 toward the feature's output tokens, < 0 away from them. */
  strength: number;
}

export interface SteeringSpec {
  features: FeatureEdit[];
  vectors: VectorEdit[];
  strength_multiplier: number;
  steer_method: SteerMethod;
  normalize_steering: boolean;
  scope: SteeringScope;
  guide: GuideFeature[];
}

export const EMPTY_STEERING: SteeringSpec = {
  features: [],
  vectors: [],
  strength_multiplier: 1,
  steer_method: 'SIMPLE_ADDITIVE',
  normalize_steering: false,
  scope: { kind: 'all' },
  guide: [],
};

/** True when the spec changes nothing at all (no edits, no guidance). */
export function isEmptySteering(spec: SteeringSpec): boolean {
  return spec.features.length === 0 && spec.vectors.length === 0 && spec.guide.length === 0;
}

export const SPEC_KEYS = ['features', 'vectors', 'strength_multiplier', 'steer_method', 'normalize_steering', 'scope', 'guide'];

/** The name of a spec field for messages: `steering.features[0]`, or `features[0]` for a spec that is the request body itself (prefix ''). */
export const specField = (prefix: string, key: string): string => (prefix === '' ? key : `${prefix}.${key}`);

/**
 * Validates a steering request (parsed JSON) and fills in defaults. Every problem is a
 * SteeringError naming the field, e.g. `steering.features[1].strength must be a finite number`
 * (`features[1].strength …` with `field` '': a spec whose fields are the request's own).
 */
export function parseSteeringSpec(raw: unknown, field = 'steering'): SteeringSpec {
  if (raw === undefined || raw === null) return EMPTY_STEERING;
  const o = object(raw, field || 'the steering spec');
  for (const key of Object.keys(o)) {
    if (!SPEC_KEYS.includes(key)) throw new SteeringError(`${specField(field, key)} is not a steering field (known: ${SPEC_KEYS.join(', ')})`);
  }
  const steerMethod = o.steer_method === undefined ? 'SIMPLE_ADDITIVE' : oneOf(o.steer_method, STEER_METHODS, specField(field, 'steer_method'));
  return {
    features: list(o.features, specField(field, 'features')).map((f, i) => parseFeature(f, specField(field, `features[${i}]`))),
    vectors: list(o.vectors, specField(field, 'vectors')).map((v, i) => parseVector(v, specField(field, `vectors[${i}]`))),
    strength_multiplier: o.strength_multiplier === undefined ? 1 : finite(o.strength_multiplier, specField(field, 'strength_multiplier')),
    steer_method: steerMethod,
    normalize_steering: o.normalize_steering === undefined ? false : bool(o.normalize_steering, specField(field, 'normalize_steering')),
    scope: parseScope(o.scope, specField(field, 'scope')),
    guide: list(o.guide, specField(field, 'guide')).map((g, i) => parseGuide(g, specField(field, `guide[${i}]`))),
  };
}

function parseFeature(raw: unknown, field: string): FeatureEdit {
  const o = object(raw, field);
  const edit: FeatureEdit = { source: source(o, field), index: index(o.index, `${field}.index`), strength: strengthOf(o, field) };
  if (o.method !== undefined) edit.method = oneOf(o.method, [...STEER_METHODS, ...SAE_SPACE_METHODS], `${field}.method`);
  return edit;
}

function parseVector(raw: unknown, field: string): VectorEdit {
  const o = object(raw, field);
  let vector: VectorEdit['vector'];
  if (typeof o.vector === 'string' && o.vector !== '') vector = o.vector;
  else if (Array.isArray(o.vector) && o.vector.length > 0) vector = o.vector.map((x, i) => finite(x, `${field}.vector[${i}]`));
  else throw new SteeringError(`${field}.vector must be a non-empty array of numbers, or the name of a preset or vector file`);
  const edit: VectorEdit = { vector, strength: strengthOf(o, field) };
  if (o.hook !== undefined) edit.hook = str(o.hook, `${field}.hook`);
  else if (typeof vector !== 'string') throw new SteeringError(`${field}.hook is required for an inline vector`);
  if (o.method !== undefined) edit.method = oneOf(o.method, STEER_METHODS, `${field}.method`);
  return edit;
}

function parseGuide(raw: unknown, field: string): GuideFeature {
  const o = object(raw, field);
  return { source: source(o, field), index: index(o.index, `${field}.index`), strength: strengthOf(o, field) };
}

function parseScope(raw: unknown, field: string): SteeringScope {
  if (raw === undefined || raw === 'all') return { kind: 'all' };
  if (raw === 'prompt' || raw === 'generated') return { kind: raw };
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const o = raw as Record<string, unknown>;
    if (o.after !== undefined) {
      const marker = str(o.after, `${field}.after`);
      if (marker === '') throw new SteeringError(`${field}.after must not be empty`);
      return { kind: 'after', marker };
    }
    if (o.start !== undefined || o.end !== undefined) {
      const start = o.start === undefined ? 0 : index(o.start, `${field}.start`);
      const end = o.end === undefined ? Number.MAX_SAFE_INTEGER : index(o.end, `${field}.end`);
      if (end <= start) throw new SteeringError(`${field}: end (${end}) must be greater than start (${start})`);
      return { kind: 'range', start, end };
    }
  }
  throw new SteeringError(`${field} must be "all", "prompt", "generated", {"start": i, "end": j} (token positions) or {"after": "marker text"}`);
}

/** `source`, or Neuronpedia's `layer` (a layer number means that layer's shipped residual-stream SAE). */
function source(o: Record<string, unknown>, field: string): string {
  const v = o.source ?? o.layer;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  if (typeof v === 'string' && v !== '') return v;
  throw new SteeringError(`${field}.source (or .layer) must name an SAE: a hook name such as "blocks.2.hook_resid_post", a layer number, or an SAE folder`);
}

function strengthOf(o: Record<string, unknown>, field: string): number {
  return finite(o.strength ?? 0, `${field}.strength`);
}

function object(raw: unknown, field: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SteeringError(`${field} must be an object`);
  return raw as Record<string, unknown>;
}

function list(raw: unknown, field: string): unknown[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new SteeringError(`${field} must be an array`);
  return raw;
}

function finite(raw: unknown, field: string): number {
  if (typeof raw !== 'number' || !Number.isFinite(raw)) throw new SteeringError(`${field} must be a finite number, got ${JSON.stringify(raw)}`);
  return raw;
}

function index(raw: unknown, field: string): number {
  if (typeof raw === 'string' && /^\d+$/.test(raw)) return Number(raw); // Neuronpedia sends indices as strings
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 0) throw new SteeringError(`${field} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return raw;
}

function str(raw: unknown, field: string): string {
  if (typeof raw !== 'string') throw new SteeringError(`${field} must be a string, got ${JSON.stringify(raw)}`);
  return raw;
}

function bool(raw: unknown, field: string): boolean {
  if (typeof raw !== 'boolean') throw new SteeringError(`${field} must be true or false, got ${JSON.stringify(raw)}`);
  return raw;
}

function oneOf<T extends string>(raw: unknown, allowed: readonly T[], field: string): T {
  if (typeof raw !== 'string' || !(allowed as readonly string[]).includes(raw)) {
    throw new SteeringError(`${field} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return raw as T;
}
