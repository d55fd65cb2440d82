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
import { z } from 'zod';
import { SteeringError } from '../errors.js';
import { describeValue } from '../util/describe-value.js';
import type { FieldPath } from '../util/validate-json.js';
import { joinFieldPath, mustBe, nonNegativeInt, validateJson } from '../util/validate-json.js';
import type { LatentEditMethod } from '../sae/sae-splice.js';
import { LATENT_EDIT_METHODS } from '../sae/sae-splice.js';

export const STEER_METHODS = ['SIMPLE_ADDITIVE', 'ORTHOGONAL_DECOMP', 'PROJECTION_CAP'] as const;
export type SteerMethod = (typeof STEER_METHODS)[number];
/** The SAE-space methods are latent edits spliced with the error term (sae/sae-splice.ts). */
export const SAE_SPACE_METHODS = LATENT_EDIT_METHODS;
export type SaeSpaceMethod = LatentEditMethod;
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
  /** How errors name this spec's fields, as its author wrote them (default `steering.features[0].index`); not part of the request. */
  fieldName?: SpecFieldNamer;
}

/** Names a field of a steering request from its path in the request (['features', 0, 'index']): a spec file's field, a CLI flag, a request body's field. */
export type SpecFieldNamer = (path: FieldPath) => string;

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

/**
 * Validates a steering request (parsed JSON) and fills in defaults. Every problem is a
 * SteeringError naming the field as `name` says (a root such as "steering", or a namer), e.g.
 * `steering.features[1].strength must be a finite number, got Infinity`.
 */
export function parseSteeringSpec(raw: unknown, name: string | SpecFieldNamer = 'steering'): SteeringSpec {
  if (raw === undefined || raw === null) return EMPTY_STEERING;
  const fieldName = typeof name === 'string' ? (path: FieldPath) => joinFieldPath(name, path) : name;
  const spec = validateJson(SPEC_SCHEMA, raw, (path, problem) => new SteeringError(`${fieldName(path)} ${problem}`));
  return { ...spec, fieldName };
}

// zod 4's number() refuses Infinity and NaN, which JSON.parse gives for 1e400 and which JS callers can pass.
const finite = z.number(mustBe('a finite number'));
const strength = finite.nullish().transform((s) => s ?? 0);
// Neuronpedia sends feature indices as strings.
const index = z.union([nonNegativeInt, z.string().regex(/^\d+$/).transform(Number).pipe(nonNegativeInt)], mustBe('a non-negative integer'));

const oneOf = <T extends readonly [string, ...string[]]>(values: T) => z.enum(values, mustBe(`one of ${values.join(', ')}`));

const sourceError = { error: (issue: { input?: unknown }) => `(or .layer) must name an SAE: a hook name such as "blocks.2.hook_resid_post", a layer number, or an SAE folder, got ${describeValue(issue.input)}` };
/** An SAE named by `source`, or by Neuronpedia's `layer` (a layer number means that layer's shipped residual-stream SAE). */
function saeFeature<S extends z.ZodRawShape>(shape: S) {
  const source = z.union([z.int(sourceError).min(0, sourceError).transform(String), z.string(sourceError).min(1, sourceError)], sourceError);
  return z.preprocess(
    (o) => (isRecord(o) && o.source == null ? { ...o, source: o.layer } : o),
    z.object({ source, index, strength, ...shape }, mustBe('an object')),
  );
}

const vectorError = mustBe('a non-empty array of numbers, or the name of a preset or vector file');
const inlineVector = z
  .array(z.unknown(), vectorError)
  .min(1, vectorError)
  .superRefine((xs, ctx) => {
    // Checked here rather than as array(finite) so that the error names the element (a union hides it).
    const i = xs.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x));
    if (i >= 0) ctx.addIssue({ code: 'custom', path: [i], message: `must be a finite number, got ${describeValue(xs[i])}` });
  });

const vectorEdit = z
  .object(
    {
      hook: z.string(mustBe('a string')).optional(),
      vector: z.union([z.string(vectorError).min(1, vectorError), inlineVector], vectorError),
      strength,
      method: oneOf(STEER_METHODS).optional(),
    },
    mustBe('an object'),
  )
  .superRefine((v, ctx) => {
    if (typeof v.vector !== 'string' && v.hook === undefined) ctx.addIssue({ code: 'custom', path: ['hook'], message: 'is required for an inline vector' });
  })
  .transform((v) => v as VectorEdit);

const scopeForms = mustBe('"all", "prompt", "generated", {"start": i, "end": j} (token positions) or {"after": "marker text"}');
const scope = z.union(
  [
    z.enum(['all', 'prompt', 'generated']).transform((kind) => ({ kind })),
    z.object({ after: z.string().min(1) }).transform(({ after }) => ({ kind: 'after' as const, marker: after })),
    z
      .object({ start: index.optional(), end: index.optional() })
      .refine((r) => r.start !== undefined || r.end !== undefined, scopeForms)
      .transform(({ start = 0, end = Number.MAX_SAFE_INTEGER }) => ({ kind: 'range' as const, start, end }))
      .superRefine((r, ctx) => {
        if (r.end <= r.start) ctx.addIssue({ code: 'custom', path: ['end'], message: `must be greater than start (${r.start}), got ${r.end}` });
      }),
  ],
  scopeForms,
);

const listOf = <T extends z.ZodType>(item: T) => z.array(item, mustBe('an array')).default([]);
const specFields = {
  features: listOf(saeFeature({ method: oneOf([...STEER_METHODS, ...SAE_SPACE_METHODS]).optional() })),
  vectors: listOf(vectorEdit),
  strength_multiplier: finite.default(1),
  steer_method: oneOf(STEER_METHODS).default('SIMPLE_ADDITIVE'),
  normalize_steering: z.boolean(mustBe('true or false')).default(false),
  scope: scope.default({ kind: 'all' }),
  guide: listOf(saeFeature({})),
};
/** The fields a steering request may have (the server spots spec field names in messages by these). */
export const SPEC_KEYS = Object.keys(specFields);
const knownFields = SPEC_KEYS.join(', ');
const SPEC_SCHEMA: z.ZodType<Omit<SteeringSpec, 'fieldName'>> = z.strictObject(specFields, {
  error: (issue) => (issue.code === 'unrecognized_keys' ? `is not a steering field (known: ${knownFields})` : `must be an object, got ${describeValue(issue.input)}`),
});

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
