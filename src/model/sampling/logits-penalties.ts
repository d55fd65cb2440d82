import { ShapeError } from '../../errors.js';
import type { SamplingParams } from './sampling-params.js';
import type { TokenCounts } from './token-counts.js';

/**
 * Penalties on repeated tokens, applied in place to a row's logits and only at the ids in
 * `counts.touchedIds`: O(distinct tokens seen), never O(vocab). Order as in vLLM: repetition
 * penalty first, then frequency and presence.
 */

function checkShape(logits: Float32Array, counts: TokenCounts): void {
  if (logits.length !== counts.vocabSize) {
    throw new ShapeError(`logits have ${logits.length} entries but token counts cover a vocab of ${counts.vocabSize}`);
  }
}

/**
 * CTRL's repetition penalty (Keskar et al. 2019) as HF transformers implements it: for every seen
 * token, a positive logit is divided by `penalty` and a negative one multiplied, so penalty > 1
 * always makes the token less likely (CTRL's plain division would raise a negative logit).
 */
export function applyRepetitionPenalty(logits: Float32Array, counts: TokenCounts, penalty: number): void {
  checkShape(logits, counts);
  const ids = counts.touchedIds;
  for (let i = 0; i < counts.distinct; i++) {
    const id = ids[i];
    const x = logits[id];
    logits[id] = x > 0 ? x / penalty : x * penalty;
  }
}

/**
 * OpenAI's frequency and presence penalties: logit −= count·frequency + (count > 0)·presence,
 * where count is how often the token has been generated (prompt tokens have count 0).
 */
export function applyFrequencyPresencePenalties(
  logits: Float32Array,
  counts: TokenCounts,
  frequency: number,
  presence: number,
): void {
  checkShape(logits, counts);
  const ids = counts.touchedIds;
  const generated = counts.counts;
  for (let i = 0; i < counts.distinct; i++) {
    const id = ids[i];
    const count = generated[id];
    if (count > 0) logits[id] -= count * frequency + presence;
  }
}

/** Both penalties in order, skipping whichever is off. */
export function applyPenalties(
  logits: Float32Array,
  counts: TokenCounts,
  params: Pick<SamplingParams, 'repetitionPenalty' | 'frequencyPenalty' | 'presencePenalty'>,
): void {
  if (params.repetitionPenalty !== 1) applyRepetitionPenalty(logits, counts, params.repetitionPenalty);
  if (params.frequencyPenalty !== 0 || params.presencePenalty !== 0) {
    applyFrequencyPresencePenalties(logits, counts, params.frequencyPenalty, params.presencePenalty);
  }
}
