import { isQ80 } from '../tensor/weight-matrix.js';
import type { LlamaConfig } from './llama-config.js';
import type { LlamaWeights } from './llama-weights.js';
import { namedWeights } from './llama-weights.js';

export interface NonFiniteReport {
  count: number;
  /** Tensors holding NaN or ±Inf, with how many and the first flat index. */
  tensors: { name: string; count: number; firstIndex: number }[];
}

/** Finds NaN / ±Inf weights (a corrupt or badly converted file loads but generates garbage). */
export function scanNonFinite(w: LlamaWeights, c: LlamaConfig): NonFiniteReport {
  const tensors: NonFiniteReport['tensors'] = [];
  let count = 0;
  for (const [name, m] of namedWeights(w, c)) {
    // Q8_0 values are integers; only their scales can be non-finite.
    const a = isQ80(m) ? m.scales : m;
    let n = 0;
    let first = -1;
    for (let i = 0; i < a.length; i++) {
      // x - x is 0 for finite x and NaN for NaN/±Inf: one test covers both.
      if (a[i] - a[i] !== 0) {
        if (first < 0) first = i;
        n++;
      }
    }
    if (n > 0) tensors.push({ name, count: n, firstIndex: first });
    count += n;
  }
  return { count, tensors };
}
