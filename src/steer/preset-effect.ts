/**
 * The measured effect of a preset: the same seeded generations with and without it, scored by the
 * preset's text measure, and the clean model's cross-entropy on the text (how far from its own
 * distribution steering pushed it — the price paid in fluency).
 */
import { meanCrossEntropy } from '../model/perplexity.js';
import { generateSteered } from './generate-steered.js';
import type { SteeredRequest } from './generate-steered.js';
import type { SteeringPreset } from './presets.js';
import type { SteeringContext } from './steering-context.js';
import { parseSteeringSpec } from './steering-spec.js';

export interface PresetEffect {
  strength: number;
  /** Mean of the preset's measure over the generations. */
  score: number;
  /** Mean cross-entropy (nats/token) of the generated tokens under the unsteered model. */
  cleanModelNats: number;
}

export interface EffectOptions {
  generations?: number;
  maxTokens?: number;
  prompt?: string;
  seed?: number;
}

/**
 * Runs `generations` seeded samples (batched) at each strength; strength 0 is the unsteered baseline.
 * 200 by default: with 50, the word-count measures of two seed ranges differ by as much as the
 * weaker presets' effects.
 */
export function presetEffect(ctx: SteeringContext, preset: SteeringPreset, strengths: readonly number[], o: EffectOptions = {}): PresetEffect[] {
  const n = o.generations ?? 200;
  const prompt = o.prompt ?? 'Once upon a time';
  const promptIds = ctx.tokenizer.encode(prompt);
  return strengths.map((strength) => {
    const steering = parseSteeringSpec(strength === 0 ? {} : { vectors: [{ vector: preset.name, strength }] });
    const requests: SteeredRequest[] = Array.from({ length: n }, (_, i) => ({ prompt: promptIds, maxTokens: o.maxTokens ?? 96, seed: (o.seed ?? 1000) + i, sampling: { temperature: 1, topP: 0.9 }, steering }));
    const results = generateSteered(ctx, requests);
    const score = results.reduce((s, r) => s + preset.measure.score(r.text), 0) / n;
    const { meanNats } = meanCrossEntropy(ctx.model, results.map((r) => [...promptIds, ...r.tokens]));
    return { strength, score, cleanModelNats: meanNats };
  });
}
