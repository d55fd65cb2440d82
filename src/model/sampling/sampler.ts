import { NumericError, ShapeError, UsageError } from '../../errors.js';
import type { ModelKernels } from '../../tensor/model-kernels.js';
import { applyPenalties } from './logits-penalties.js';
import { logSumExp, topLogprobs, type TokenLogprob } from './logprobs.js';
import type { Prng } from './prng.js';
import { MAX_LOGPROBS, type SamplingParams } from './sampling-params.js';
import type { TokenCounts } from './token-counts.js';
import { selectNucleus, selectTopK } from './token-ranking.js';

/**
 * The chosen token with its log-probability and the `params.logprobs` most likely alternatives.
 * Both are the log-softmax of the model's raw logits — before penalties, temperature and
 * truncation — as OpenAI and vLLM report them: they describe the model, not the settings.
 */
export interface SampledToken {
  token: number;
  logprob: number;
  top: TokenLogprob[];
}

/** First maximum wins on ties, as llama2.c's `sample_argmax`. */
function argmax(x: Float32Array): number {
  let best = 0;
  let bestValue = x[0];
  for (let i = 1; i < x.length; i++) {
    const v = x[i];
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/**
 * The argmax `token`, if its logit is a finite number. A row of NaN logits (NaN weights or
 * activations) has no maximum: argmax then points at any token, usually 0, and generation would go
 * on with garbage. One lookup, where a scan of the row would cost as much as the argmax.
 */
function checkedMax(logits: Float32Array, token: number): number {
  const v = logits[token];
  if (!Number.isFinite(v)) throw new NumericError(`the logits hold NaN or infinite values (the largest is ${v})`);
  return token;
}

function penalizes(params: SamplingParams, counts: TokenCounts | null): counts is TokenCounts {
  return counts !== null && (params.repetitionPenalty !== 1 || params.frequencyPenalty !== 0 || params.presencePenalty !== 0);
}

/**
 * Next-token sampling for one row of logits per call. One `Sampler` owns scratch sized to the
 * vocab and can serve every row of a batch in turn: a call allocates only its result, and the
 * result depends only on (logits, params, counts, rng state), never on earlier calls.
 *
 * Order: penalties → greedy argmax if temperature is 0 → top-k → softmax at the temperature →
 * top-p → min-p → one draw by inverse CDF over the renormalised survivors.
 */
export class Sampler {
  // Penalised logits, then softmax numerators of the candidates. Shape: (vocabSize).
  private readonly work: Float32Array;
  // Candidate token ids; each filter keeps a prefix. Shape: (vocabSize).
  private readonly ids: Int32Array;
  // Top-logprob ids, best first. Shape: (MAX_LOGPROBS).
  private readonly best = new Int32Array(MAX_LOGPROBS);

  private readonly argIdx = new Int32Array(1);
  private readonly argVal = new Float32Array(1);
  // argmaxRows' results, grown to the largest batch.
  private rowIdx = new Int32Array(0);
  private rowVal = new Float32Array(0);

  /** `backend`: kernels for the greedy argmax (its top-1, first maximum on ties); default plain TS. */
  constructor(
    readonly vocabSize: number,
    private readonly backend?: ModelKernels,
  ) {
    if (!Number.isSafeInteger(vocabSize) || vocabSize < 1) {
      throw new UsageError(`vocabSize must be a positive integer, got ${vocabSize}`);
    }
    this.work = new Float32Array(vocabSize);
    this.ids = new Int32Array(vocabSize);
  }

  /** A JS scan of 32k floats costs ~60 µs, a sizeable part of a decode step; the native top-1 a few. */
  private argmax(x: Float32Array): number {
    if (!this.backend) return argmax(x);
    this.backend.topKRows(this.argIdx, this.argVal, x, 1, x.length, 1);
    return this.argIdx[0];
  }

  /**
   * The argmax of each of `rows` rows of logits ([rows, vocab]) in one backend call, whose threads
   * share the rows; valid until the next call. For a batch of greedy rows, pass row s's entry to
   * `sample` as its `argmax`.
   */
  argmaxRows(logits: Float32Array, rows: number): Int32Array {
    if (logits.length < rows * this.vocabSize) throw new ShapeError(`${rows} rows of logits need ${rows * this.vocabSize} entries, got ${logits.length}`);
    if (this.rowIdx.length < rows) [this.rowIdx, this.rowVal] = [new Int32Array(rows), new Float32Array(rows)];
    const out = this.rowIdx.subarray(0, rows);
    if (this.backend) this.backend.topKRows(out, this.rowVal.subarray(0, rows), logits, rows, this.vocabSize, 1);
    else for (let s = 0; s < rows; s++) out[s] = argmax(logits.subarray(s * this.vocabSize, (s + 1) * this.vocabSize));
    return out;
  }

  /** Whether `sample` with these settings is the plain argmax of the raw logits (no draw, no penalty). */
  static isPlainGreedy(params: SamplingParams, counts: TokenCounts | null): boolean {
    return params.temperature === 0 && !penalizes(params, counts);
  }

  /**
   * Picks the next token from one row of raw logits, which are left untouched. `params` should
   * come from `validateSamplingParams`; `counts` (or null for no penalties) is the row's history.
   * Greedy calls (temperature 0) draw nothing from `rng`; all others draw exactly one float.
   * `argmax`: this row's entry of `argmaxRows`, used when the call is plain greedy.
   */
  sample(logits: Float32Array, params: SamplingParams, counts: TokenCounts | null, rng: Prng, withLogprob = true, argmax?: number): SampledToken {
    if (logits.length !== this.vocabSize) {
      throw new ShapeError(`logits have ${logits.length} entries, the sampler's vocab is ${this.vocabSize}`);
    }
    // The normaliser is a full pass of exp() over the vocabulary — most of a greedy step's cost at
    // 32k tokens — so it is skipped when nobody asked for log-probabilities (logprob is then NaN).
    const lse = withLogprob || params.logprobs > 0 ? logSumExp(logits) : NaN;
    const penalize = penalizes(params, counts);
    let token: number;
    if (params.temperature === 0 && !penalize) token = checkedMax(logits, argmax ?? this.argmax(logits)); // plain greedy: no copy of the vocabulary
    else {
      this.work.set(logits);
      if (penalize) applyPenalties(this.work, counts, params);
      token = params.temperature === 0 ? checkedMax(this.work, this.argmax(this.work)) : this.draw(params, rng);
    }
    return { token, logprob: logits[token] - lse, top: topLogprobs(logits, lse, params.logprobs, this.best) };
  }

  private draw(params: SamplingParams, rng: Prng): number {
    const { work, ids } = this;
    let n = this.vocabSize;
    for (let i = 0; i < n; i++) ids[i] = i;

    // Top-k (Fan et al. 2018) on the logits: dividing by T > 0 keeps their order, so the same k
    // survive as after the temperature. Quickselect, not a sort: O(vocab) expected.
    if (params.topK > 0 && params.topK < n) {
      selectTopK(ids, n, params.topK, work);
      n = params.topK;
    }

    // Softmax numerators at temperature T, relative to the best candidate, which gets exactly 1:
    // min-p's p_max in the same units. Divide by T: for a subnormal T, 1/T is ∞ and 0·∞ is NaN.
    let max = -Infinity;
    for (let j = 0; j < n; j++) if (work[ids[j]] > max) max = work[ids[j]];
    const temperature = params.temperature;
    let mass = 0;
    for (let j = 0; j < n; j++) {
      const id = ids[j];
      const e = Math.fround(Math.exp((work[id] - max) / temperature));
      work[id] = e;
      mass += e;
    }

    // The best candidate alone weighs 1: a NaN or +∞ logit (max − max is NaN), or a row of −∞, spoils the sum.
    if (!(mass >= 1 && mass < Infinity)) throw new NumericError(`the logits hold NaN or infinite values (softmax mass ${mass})`);

    const nucleus = params.topP < 1 && n > 1;
    if (nucleus) n = this.keepNucleus(n, mass, params.topP);
    if (params.minP > 0) n = this.keepAboveMinP(n, params.minP);
    // Renormalising is scaling the draw by the survivors' mass, summed in the order walked below.
    if (nucleus || params.minP > 0) mass = this.massOf(n);
    return this.inverseCdf(n, rng.nextFloat() * mass);
  }

  /**
   * Top-p (Holtzman et al. 2020): the smallest set of most probable candidates whose mass is
   * ≥ topP of `mass`. First llama2.c's shortcut: tokens below (1 − p)/(n − 1) of the mass hold
   * < 1 − p between them (at most n − 1 of them: the best is always kept, capping the cutoff at
   * its weight 1), so the nucleus lies among the rest; then a quickselect-style search finds it.
   */
  private keepNucleus(n: number, mass: number, topP: number): number {
    const { work, ids } = this;
    const cutoff = Math.min(1, ((1 - topP) / (n - 1)) * mass);
    let kept = 0;
    for (let j = 0; j < n; j++) {
      const id = ids[j];
      if (work[id] >= cutoff) ids[kept++] = id;
    }
    return selectNucleus(ids, kept, work, topP * mass);
  }

  /**
   * Min-p (Nguyen et al. 2024): keep candidates with p ≥ minP · p_max. The weights are relative
   * to the best candidate (weight 1), so the threshold is minP itself, before or after top-p.
   */
  private keepAboveMinP(n: number, minP: number): number {
    const { work, ids } = this;
    let kept = 0;
    for (let j = 0; j < n; j++) {
      const id = ids[j];
      if (work[id] >= minP) ids[kept++] = id;
    }
    return kept;
  }

  private massOf(n: number): number {
    let mass = 0;
    for (let j = 0; j < n; j++) mass += this.work[this.ids[j]];
    return mass;
  }

  /**
   * The first candidate whose cumulative weight exceeds `target` (in [0, mass)). The sum walked
   * equals `mass` bit for bit, so the last candidate is reached only when it is the answer.
   */
  private inverseCdf(n: number, target: number): number {
    const { work, ids } = this;
    let cdf = 0;
    for (let j = 0; j < n - 1; j++) {
      cdf += work[ids[j]];
      if (target < cdf) return ids[j];
    }
    return ids[n - 1];
  }
}
