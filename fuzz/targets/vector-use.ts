/**
 * Using a steering-vector file a reader accepted, as `steer --vector FILE` does: every vector
 * added at its hook while the embedded model generates a few tokens. A vector whose width is not
 * its hook's must be refused; steering with it anyway (cut short or read past) is a bug.
 */
import { generateSteered } from '../../src/steer/generate-steered.js';
import type { SteeringContext } from '../../src/steer/steering-context.js';
import { parseSteeringSpec } from '../../src/steer/steering-spec.js';
import type { SteeringVectorSet } from '../../src/steer/steering-vector-set.js';
import { hookWidth } from '../../src/sae/hook-width.js';
import { AcceptedBadInput } from '../outcome.js';

export function steerWithVectorFile(ctx: SteeringContext, path: string): void {
  const set: SteeringVectorSet = ctx.vectorSet(path);
  const spec = parseSteeringSpec({ vectors: [{ vector: path, strength: 2 }] });
  const base = { prompt: 'Once upon a time', maxTokens: 3, stopAtEndOfText: false, steering: spec };
  const results = generateSteered(ctx, [
    { ...base, sampling: { temperature: 0 }, seed: 1 },
    { ...base, sampling: { temperature: 1, topP: 0.9 }, seed: 2 },
  ]);
  for (const r of results) if (r.tokens.length !== 3) throw new AcceptedBadInput(`steered generation gave ${r.tokens.length} of 3 tokens without an error`);
  for (const [hook, v] of set.vectors) {
    const width = hookWidth(ctx.model.config, hook);
    if (width !== v.length) throw new AcceptedBadInput(`a vector of width ≠ its hook's was used (${v.length} values at ${hook}, ${width} wide)`);
  }
}
