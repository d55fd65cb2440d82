import { NumericError, UsageError } from '../../errors.js';

/**
 * Log-probabilities as OpenAI and vLLM report them: the log-softmax of the model's raw logits,
 * before penalties, temperature and truncation, so they describe the model rather than the
 * sampling settings.
 */

export interface TokenLogprob {
  token: number;
  logprob: number;
}

/**
 * log Σ exp(logits), shifted by the maximum so nothing overflows. Throws when the result is not
 * finite — a NaN or +∞ logit, or every logit −∞ — since no distribution can be drawn from that.
 * (−∞ on some tokens is fine: it is how callers ban them.)
 */
export function logSumExp(logits: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  const lse = max + Math.log(sum);
  if (!Number.isFinite(lse)) {
    throw new NumericError(`the logits hold NaN or infinite values (log-sum-exp ${lse})`);
  }
  return lse;
}

/**
 * The `n` most likely tokens (n ≤ best.length) by raw logit, most likely first, equal logits in
 * id order. `best` is caller-owned scratch; one insertion pass is O(vocab) when n is small
 * (OpenAI caps it at 20), and only the returned array is allocated.
 */
export function topLogprobs(logits: Float32Array, lse: number, n: number, best: Int32Array): TokenLogprob[] {
  if (n > best.length) throw new UsageError(`at most ${best.length} top logprobs can be returned, asked for ${n}`);
  if (n === 0) return [];
  let filled = 0;
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i];
    // Strictly greater to displace, so the earlier id keeps its place on ties.
    if (filled === n && !(x > logits[best[n - 1]])) continue;
    let j = filled < n ? filled++ : n - 1;
    for (; j > 0 && x > logits[best[j - 1]]; j--) best[j] = best[j - 1];
    best[j] = i;
  }
  const top: TokenLogprob[] = new Array(filled);
  for (let j = 0; j < filled; j++) top[j] = { token: best[j], logprob: logits[best[j]] - lse };
  return top;
}

/**
 * How likely `token` was under `logits`, with the `n` most likely tokens there: one prompt token
 * scored (OpenAI's echo with logprobs, vLLM's prompt_logprobs), from the raw logits as above.
 */
export function scoreToken(logits: Float32Array, token: number, n: number, best: Int32Array): TokenLogprob & { top: TokenLogprob[] } {
  const lse = logSumExp(logits);
  return { token, logprob: logits[token] - lse, top: topLogprobs(logits, lse, n, best) };
}
