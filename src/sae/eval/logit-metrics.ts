/**
 * Per-position losses from logits [T, vocab], as SAELens' `get_recons_loss` (sae_lens/evals.py):
 * cross-entropy of the next token, and KL(clean ‖ new) = Σ p_clean (log p_clean − log p_new)
 * (its `_kl`: torch.nn.functional.kl_div(log_softmax(new), softmax(clean)) summed over the vocabulary).
 */

/** Row-wise log-softmax of logits [rows, vocab] (a new array, in float64 arithmetic). */
export function logSoftmaxRows(logits: Float32Array, rows: number, vocab: number): Float32Array {
  const out = new Float32Array(rows * vocab);
  for (let r = 0; r < rows; r++) {
    const o = r * vocab;
    let max = -Infinity;
    for (let v = 0; v < vocab; v++) max = Math.max(max, logits[o + v]);
    let sum = 0;
    for (let v = 0; v < vocab; v++) sum += Math.exp(logits[o + v] - max);
    const lse = max + Math.log(sum);
    for (let v = 0; v < vocab; v++) out[o + v] = logits[o + v] - lse;
  }
  return out;
}

/** KL(p ‖ q) of one row of log-probabilities; terms with p = 0 contribute 0, as torch's kl_div. */
export function klRow(logP: Float32Array, logQ: Float32Array, row: number, vocab: number): number {
  const o = row * vocab;
  let kl = 0;
  for (let v = 0; v < vocab; v++) {
    const lp = logP[o + v];
    const p = Math.exp(lp);
    if (p > 0) kl += p * (lp - logQ[o + v]);
  }
  return kl;
}

/** Running mean of per-position values (SAELens concatenates them and takes `.mean()`). */
export class MeanAccumulator {
  private sum = 0;
  private n = 0;
  add(v: number): void {
    this.sum += v;
    this.n++;
  }
  get count(): number {
    return this.n;
  }
  mean(): number {
    return this.n ? this.sum / this.n : NaN;
  }
}
