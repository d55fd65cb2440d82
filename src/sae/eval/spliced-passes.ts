/**
 * The forward passes of one eval batch and the per-position losses they give. Variants of the
 * activation at the SAE's hook, as SAELens' `get_recons_loss` (sae_lens/evals.py) plus the
 * pathology baselines of Gurnee 2024 ("SAE reconstruction errors are (empirically) pathological",
 * LessWrong):
 *  - clean: the model as it is;
 *  - sae: the SAE spliced into the non-special tokens (special tokens keep x, SAELens'
 *    `torch.where(mask, new, old)`), x replaced by SAE(x); with `errorTerm` it is spliced with its
 *    error term, which is the clean activation exactly (see sae-splice.ts), so the metrics must match
 *    the clean run;
 *  - zero: every position zeroed (SAELens' zero-ablation hook ignores the mask);
 *  - mean: every position replaced by the mean activation of the batch's non-special tokens;
 *  - random: x + ε on non-special tokens, ε a random Gaussian direction scaled to ‖x − SAE(x)‖ of
 *    that token, so it is as far from x as the SAE's reconstruction is.
 * Loss positions follow SAELens: CE at position i (predicting token i+1) counts when token i is not
 * special (its `mask[:, :-1]`), KL at position i counts when token i is not special.
 */
import type { HookActivation } from '../../model/hook-registry.js';
import type { HookName } from '../../model/hook-points.js';
import type { LlamaModel } from '../../model/llama-model.js';
import type { Prng } from '../../model/sampling/prng.js';
import { spliceSae } from '../sae-splice.js';
import type { Sae } from '../sae.js';
import { klRow, logSoftmaxRows, MeanAccumulator } from './logit-metrics.js';

export const VARIANTS = ['sae', 'zero', 'mean', 'random'] as const;
export type Variant = (typeof VARIANTS)[number];

export interface LossAccumulators {
  ceClean: MeanAccumulator;
  ce: Record<Variant, MeanAccumulator>;
  kl: Record<Variant, MeanAccumulator>;
}

export function newLossAccumulators(): LossAccumulators {
  const per = (): Record<Variant, MeanAccumulator> => Object.fromEntries(VARIANTS.map((v) => [v, new MeanAccumulator()])) as Record<Variant, MeanAccumulator>;
  return { ceClean: new MeanAccumulator(), ce: per(), kl: per() };
}

/** What the SAE pass saw on the batch's non-special tokens, for the reconstruction metrics. */
export interface SaeBatchView {
  x: Float32Array; // [n, d_in]
  xHat: Float32Array; // [n, d_in]
  acts: Float32Array; // [n, d_sae]
  n: number;
}

export interface BatchOptions {
  hook: HookName;
  special: ReadonlySet<number>;
  errorTerm: boolean;
  prng: Prng;
}

/** Runs the five passes over `contexts` (equal lengths), adds their losses to `acc`, returns the SAE's view. */
export function evalBatch(model: LlamaModel, sae: Sae, contexts: Int32Array[], o: BatchOptions, acc: LossAccumulators): SaeBatchView {
  const { d_in, d_sae } = sae.config;
  const vocab = model.config.vocabSize;
  const len = contexts[0].length;
  const T = contexts.length * len;

  /** Token id at each packed position of a hook or of the logits (segments in `rows` order). */
  const idsOf = (rows: Int32Array, rowStart: Int32Array): { ids: Int32Array; next: Int32Array } => {
    const ids = new Int32Array(rowStart[rowStart.length - 1]);
    const next = new Int32Array(ids.length).fill(-1);
    for (let s = 0; s < rows.length; s++) {
      const ctx = contexts[rows[s]];
      for (let i = 0; i < rowStart[s + 1] - rowStart[s]; i++) {
        ids[rowStart[s] + i] = ctx[i];
        if (i + 1 < ctx.length) next[rowStart[s] + i] = ctx[i + 1];
      }
    }
    return { ids, next };
  };
  const counts = (act: HookActivation): Uint8Array => {
    const { ids } = idsOf(act.rows, act.rowStart);
    return Uint8Array.from(ids, (id) => (o.special.has(id) ? 0 : 1));
  };
  const run = (fn?: (act: HookActivation) => Float32Array | void): Float32Array => {
    const go = (): Float32Array => {
      const r = model.withCache(contexts.length, len, (cache) => model.forward(cache, contexts, { allLogits: true }));
      const logProbs = logSoftmaxRows(r.logits, T, vocab);
      // Reorder to context-major packing so every pass lines up position by position.
      const out = new Float32Array(T * vocab);
      for (let s = 0; s < r.rows.length; s++) out.set(logProbs.subarray(r.rowStart[s] * vocab, r.rowStart[s + 1] * vocab), r.rows[s] * len * vocab);
      return out;
    };
    return fn ? model.hooks.with([{ name: o.hook, fn }], go) : go();
  };

  // Clean pass: the log-probabilities and the activations at the hook.
  let cleanX: Float32Array = new Float32Array(0);
  let cleanKeep: Uint8Array = new Uint8Array(0);
  const clean = run((act) => {
    cleanX = act.data.slice();
    cleanKeep = counts(act);
  });

  let n = 0;
  for (const k of cleanKeep) n += k;
  const mean = new Float32Array(d_in);
  for (let t = 0; t < cleanKeep.length; t++) if (cleanKeep[t]) for (let i = 0; i < d_in; i++) mean[i] += cleanX[t * d_in + i] / n;

  // SAE pass; it also records the error norm of each token for the random pass.
  const view: SaeBatchView = { x: new Float32Array(n * d_in), xHat: new Float32Array(n * d_in), acts: new Float32Array(n * d_sae), n };
  let errNorm = new Float64Array(0);
  const saeLp = run((act) => {
    const tokens = act.data.length / d_in;
    const keep = counts(act);
    const kept: number[] = [];
    for (let t = 0; t < tokens; t++) if (keep[t]) kept.push(t);
    kept.forEach((t, k) => view.x.set(act.data.subarray(t * d_in, (t + 1) * d_in), k * d_in));
    const { acts, reconstruction } = spliceSae(sae, act.data, { tokens: kept, errorTerm: o.errorTerm, reconstruction: true });
    const xHat = reconstruction as Float32Array;
    view.xHat.set(xHat);
    view.acts.set(acts);
    errNorm = new Float64Array(tokens);
    kept.forEach((t, k) => {
      let e = 0;
      for (let i = 0; i < d_in; i++) e += (view.x[k * d_in + i] - xHat[k * d_in + i]) ** 2;
      errNorm[t] = Math.sqrt(e);
    });
  });

  const zeroLp = run((act) => new Float32Array(act.data.length));
  const meanLp = run((act) => {
    const out = new Float32Array(act.data.length);
    for (let t = 0; t < out.length / d_in; t++) out.set(mean, t * d_in);
    return out;
  });
  const randomLp = run((act) => {
    const tokens = act.data.length / d_in;
    const keep = counts(act);
    const out = act.data.slice();
    const eps = new Float64Array(d_in);
    for (let t = 0; t < tokens; t++) {
      if (!keep[t] || errNorm[t] === 0) continue;
      let sq = 0;
      for (let i = 0; i < d_in; i++) {
        eps[i] = gaussian(o.prng);
        sq += eps[i] * eps[i];
      }
      const scale = errNorm[t] / Math.sqrt(sq);
      for (let i = 0; i < d_in; i++) out[t * d_in + i] += eps[i] * scale;
    }
    return out;
  });

  const passes: Record<Variant, Float32Array> = { sae: saeLp, zero: zeroLp, mean: meanLp, random: randomLp };
  for (let c = 0; c < contexts.length; c++) {
    const ctx = contexts[c];
    for (let i = 0; i < len; i++) {
      if (o.special.has(ctx[i])) continue;
      const row = c * len + i;
      const target = i + 1 < len ? ctx[i + 1] : -1;
      if (target >= 0) acc.ceClean.add(-clean[row * vocab + target]);
      for (const v of VARIANTS) {
        if (target >= 0) acc.ce[v].add(-passes[v][row * vocab + target]);
        acc.kl[v].add(klRow(clean, passes[v], row, vocab));
      }
    }
  }
  return view;
}

/** A standard normal draw (Box–Muller; 1 − u keeps the logarithm finite). */
function gaussian(prng: Prng): number {
  const u = 1 - prng.nextFloat();
  const v = prng.nextFloat();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
