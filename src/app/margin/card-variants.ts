/**
 * Which continuations the margin cards show, and how each is labelled. With the vault steering
 * something: two steered cards (seeds s and s+1) and the unsteered one at seed s, so the writer sees
 * what the steering changed against the same draw of the sampler. Unsteered: seeds s, s+1, s+2.
 * A label names exactly what made its card: "seed 5 · happy +4 · feature 123 +6".
 */
import { activeSteering, featureEntries, vectorEntries, type SteeringSpecJson } from '../steer/steering-spec-edit.js';

export const DEFAULT_CARD_COUNT = 3;

export interface CardVariant {
  seed: number;
  /** The request's `steering` field; undefined: the plain, unsteered request. */
  steering?: SteeringSpecJson;
  label: string;
}

const MAX_SEED = 2 ** 31 - 1;

/** `count` variants from the vault's spec, seed and feature labels ("source#index" → label). */
export function cardVariants(spec: SteeringSpecJson, seed: number, labels: Record<string, string> = {}, count = DEFAULT_CARD_COUNT): CardVariant[] {
  const steering = activeSteering(spec);
  const seedAt = (i: number): number => (seed + i) % (MAX_SEED + 1);
  const out: CardVariant[] = [];
  for (let i = 0; i < count; i++) {
    // The last card of a steered set is the unsteered one, at the first card's seed.
    const unsteered = !steering || (count > 1 && i === count - 1);
    const s = steering && unsteered ? seedAt(0) : seedAt(i);
    out.push(unsteered ? { seed: s, label: `seed ${s} · unsteered` } : { seed: s, steering, label: `seed ${s} · ${steeringLabel(spec, labels)}` });
  }
  return out;
}

/** "happy +4 · feature 123 +6 · guided": the spec's parts in the order the server applies them. */
export function steeringLabel(spec: SteeringSpecJson, labels: Record<string, string> = {}): string {
  const parts = [
    ...vectorEntries(spec).map((v) => `${v.vector} ${amount(v.strength, v.method)}`),
    ...featureEntries(spec).map((f) => `${labels[`${f.source}#${f.index}`] ?? `feature ${f.index}`} ${amount(f.strength, f.method)}`),
  ];
  if (Array.isArray(spec.guide) && spec.guide.length > 0) parts.push('guided');
  return parts.join(' · ') || 'steered';
}

/** The strength as the method uses it (src/steer/steering-spec.ts): added, clamped to, multiplied by, capped at, or ablated. */
function amount(strength: number, method?: string): string {
  const signed = `${strength >= 0 ? '+' : '−'}${Math.abs(strength)}`;
  switch (method) {
    case 'ABLATE':
      return 'ablated';
    case 'MEAN_ABLATE':
      return 'mean-ablated';
    case 'CLAMP':
      return `clamped to ${strength}`;
    case 'MULTIPLY':
      return `×${strength}`;
    case 'PROJECTION_CAP':
      return `capped at ${strength}`;
    case 'ORTHOGONAL_DECOMP':
      return `set to ${signed}`;
    default:
      return signed;
  }
}
