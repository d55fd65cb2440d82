import { UsageError } from '../../errors.js';
import { describeValue } from '../../util/describe-value.js';

/**
 * How one request picks its next token. Names follow the OpenAI / vLLM request fields
 * (camelCase here; the server maps `top_p` → `topP` and so on). Each filter has an "off" value,
 * so a plain request costs only the softmax and one draw.
 */
export interface SamplingParams {
  /** Divides the logits before the softmax; 0 = greedy (argmax, no random draw). */
  temperature: number;
  /** Keep only the k highest logits (Fan et al. 2018); 0 = off. */
  topK: number;
  /** Nucleus: keep the smallest most-probable set with mass ≥ topP (Holtzman et al. 2020); 1 = off. */
  topP: number;
  /** Keep tokens with p ≥ minP · p_max (Nguyen et al. 2024); 0 = off. */
  minP: number;
  /** OpenAI: subtract count × frequencyPenalty from each generated token's logit; 0 = off. */
  frequencyPenalty: number;
  /** OpenAI: subtract presencePenalty once from each token generated so far; 0 = off. */
  presencePenalty: number;
  /** CTRL (Keskar et al. 2019): shrink logits of seen tokens by this factor; 1 = off. */
  repetitionPenalty: number;
  /** How many most likely alternatives to report per step (OpenAI allows 0..20); 0 = none. */
  logprobs: number;
}

/** OpenAI's defaults: plain softmax sampling at temperature 1, every filter and penalty off. */
export const defaultSamplingParams: Readonly<SamplingParams> = Object.freeze({
  temperature: 1,
  topK: 0,
  topP: 1,
  minP: 0,
  frequencyPenalty: 0,
  presencePenalty: 0,
  repetitionPenalty: 1,
  logprobs: 0,
});

/** The most alternatives OpenAI's `top_logprobs` allows. */
export const MAX_LOGPROBS = 20;

type Rule = (v: number) => boolean;

// One rule per field: the test, and the words the error uses for it.
const rules: { [K in keyof SamplingParams]: [Rule, string] } = {
  temperature: [(v) => Number.isFinite(v) && v >= 0, 'a finite number ≥ 0'],
  topK: [(v) => Number.isSafeInteger(v) && v >= 0, 'an integer ≥ 0'],
  topP: [(v) => v > 0 && v <= 1, 'a number in (0, 1]'],
  minP: [(v) => v >= 0 && v <= 1, 'a number in [0, 1]'],
  frequencyPenalty: [(v) => v >= -2 && v <= 2, 'a number in [-2, 2]'],
  presencePenalty: [(v) => v >= -2 && v <= 2, 'a number in [-2, 2]'],
  repetitionPenalty: [(v) => Number.isFinite(v) && v > 0, 'a finite number > 0'],
  logprobs: [(v) => Number.isInteger(v) && v >= 0 && v <= MAX_LOGPROBS, `an integer in [0, ${MAX_LOGPROBS}]`],
};

/**
 * Fills missing fields from `defaultSamplingParams` and checks every field, throwing a
 * `UsageError` that names the first bad field and its value. Input may come straight from a
 * parsed HTTP body, so non-numbers are rejected too (range checks are written so NaN fails).
 */
export function validateSamplingParams(p: Partial<SamplingParams>): SamplingParams {
  const out: SamplingParams = { ...defaultSamplingParams };
  for (const field of Object.keys(rules) as (keyof SamplingParams)[]) {
    const value: unknown = p[field];
    if (value === undefined) continue;
    const [ok, expected] = rules[field];
    if (typeof value !== 'number' || !ok(value)) {
      throw new UsageError(`sampling parameter ${field} must be ${expected}, got ${describeValue(value)}`);
    }
    out[field] = value;
  }
  return out;
}
