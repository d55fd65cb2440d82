/**
 * Edits to the vault's steering spec (the JSON the model server's `steering` field takes, see
 * src/steer/steering-spec.ts), as pure functions: the steering panel, the feature browser ("steer
 * with this") and style vectors ("use as a preset") all change the one spec through these, and the
 * page saves the result in the vault's settings.
 */

export type SteeringSpecJson = Record<string, unknown>;

export interface FeatureEntry {
  source: string;
  index: number;
  strength: number;
  method?: string;
}

export interface VectorEntry {
  vector: string;
  strength: number;
  method?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The spec's `features` entries that name a source and an index (others are left for the server to judge). */
export function featureEntries(spec: SteeringSpecJson): FeatureEntry[] {
  const list = Array.isArray(spec.features) ? spec.features : [];
  return list.filter((f): f is FeatureEntry => isRecord(f) && typeof f.source === 'string' && typeof f.index === 'number' && typeof f.strength === 'number');
}

/** The spec's `vectors` entries that name a vector (a preset or a built style vector). */
export function vectorEntries(spec: SteeringSpecJson): VectorEntry[] {
  const list = Array.isArray(spec.vectors) ? spec.vectors : [];
  return list.filter((v): v is VectorEntry => isRecord(v) && typeof v.vector === 'string' && typeof v.strength === 'number');
}

/** `spec` with the feature added at `strength` (or its entry's strength/method replaced when it is there already). */
export function withFeature(spec: SteeringSpecJson, f: FeatureEntry): SteeringSpecJson {
  const list = Array.isArray(spec.features) ? [...spec.features] : [];
  const at = list.findIndex((e) => isRecord(e) && e.source === f.source && e.index === f.index);
  if (at >= 0) list[at] = f;
  else list.push(f);
  return { ...spec, features: list };
}

export function withoutFeature(spec: SteeringSpecJson, source: string, index: number): SteeringSpecJson {
  const list = Array.isArray(spec.features) ? spec.features.filter((e) => !(isRecord(e) && e.source === source && e.index === index)) : [];
  return { ...spec, features: list };
}

/** `spec` with the named vector at `strength` (added, or its entry replaced). */
export function withVector(spec: SteeringSpecJson, v: VectorEntry): SteeringSpecJson {
  const list = Array.isArray(spec.vectors) ? [...spec.vectors] : [];
  const at = list.findIndex((e) => isRecord(e) && e.vector === v.vector);
  if (at >= 0) list[at] = v;
  else list.push(v);
  return { ...spec, vectors: list };
}

export function withoutVector(spec: SteeringSpecJson, name: string): SteeringSpecJson {
  const list = Array.isArray(spec.vectors) ? spec.vectors.filter((e) => !(isRecord(e) && e.vector === name)) : [];
  return { ...spec, vectors: list };
}

/**
 * The spec to send, or undefined when it steers nothing. An additive edit at strength 0 is the
 * identity on the server bit for bit, so such entries are left out (a slider back at zero), and a
 * spec with no features, vectors or guide left is no spec: the request is then exactly the plain
 * request a script would send. Entries the panel does not understand are kept for the server to judge.
 */
export function activeSteering(spec: SteeringSpecJson): SteeringSpecJson | undefined {
  const additive = (e: unknown): boolean => {
    const method = isRecord(e) && typeof e.method === 'string' ? e.method : spec.steer_method ?? 'SIMPLE_ADDITIVE';
    return method === 'SIMPLE_ADDITIVE';
  };
  const idle = (e: unknown): boolean => isRecord(e) && e.strength === 0 && additive(e);
  const kept = (k: string): unknown[] | undefined => (Array.isArray(spec[k]) ? (spec[k] as unknown[]).filter((e) => !idle(e)) : undefined);
  const features = kept('features');
  const vectors = kept('vectors');
  const guide = Array.isArray(spec.guide) ? spec.guide.filter((e) => !(isRecord(e) && e.strength === 0)) : undefined;
  if (!features?.length && !vectors?.length && !guide?.length) return undefined;
  const out: SteeringSpecJson = { ...spec };
  if (features) out.features = features;
  if (vectors) out.vectors = vectors;
  if (guide) out.guide = guide;
  return out;
}

/** "Steered · 2 features · 1 vector" for the status line (what activeSteering sends), or null when nothing is steered. */
export function describeSteering(spec: SteeringSpecJson): string | null {
  const active = activeSteering(spec);
  if (!active) return null;
  const count = (k: string, one: string, many: string): string | null => {
    const n = Array.isArray(active[k]) ? (active[k] as unknown[]).length : 0;
    return n === 0 ? null : `${n} ${n === 1 ? one : many}`;
  };
  return ['Steered', count('features', 'feature', 'features'), count('vectors', 'vector', 'vectors'), count('guide', 'guide', 'guides')].filter(Boolean).join(' · ');
}

/** The key `Settings.steering.labels` files a feature's label under. */
export const featureKey = (source: string, index: number): string => `${source}#${index}`;
