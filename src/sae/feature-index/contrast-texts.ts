/**
 * Features that separate two sets of texts, as Goodfire's `features.contrast(dataset_1, dataset_2)`:
 * each text is summarised by its mean activation per feature over its tokens (so long and short
 * texts weigh the same), and features are ranked by the difference of the two sets' means, with a
 * standardised effect size (Cohen's d: the difference over the pooled standard deviation of the
 * per-text means) to tell a consistent difference from one text's outlier.
 */
import type { HookName } from '../../model/hook-points.js';
import type { LlamaModel } from '../../model/llama-model.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import { UsageError } from '../../errors.js';
import type { Sae } from '../sae.js';
import { textActivations } from './text-activations.js';

export interface ContrastFeature {
  feature: number;
  meanA: number;
  meanB: number;
  /** meanA − meanB. */
  diff: number;
  /** Cohen's d = diff / pooled SD, with the variance floored at VARIANCE_FLOOR so identical texts give a finite value. */
  effectSize: number;
}

export interface Contrast {
  /** Features more active in set A, largest difference first. */
  towardA: ContrastFeature[];
  /** Features more active in set B, largest difference first. */
  towardB: ContrastFeature[];
}

const VARIANCE_FLOOR = 1e-6;

export function contrastTexts(
  model: LlamaModel,
  tokenizer: Tokenizer,
  sae: Sae,
  textsA: readonly string[],
  textsB: readonly string[],
  o: { top?: number; hook?: HookName } = {},
): Contrast {
  const top = o.top ?? 20;
  const a = perTextMeans(model, tokenizer, sae, textsA, 'A', o.hook);
  const b = perTextMeans(model, tokenizer, sae, textsB, 'B', o.hook);
  const d = sae.config.d_sae;
  const rows: ContrastFeature[] = [];
  for (let j = 0; j < d; j++) {
    const sa = stats(a, j);
    const sb = stats(b, j);
    const dof = a.length + b.length - 2;
    const pooled = dof > 0 ? ((a.length - 1) * sa.variance + (b.length - 1) * sb.variance) / dof : 0;
    const diff = sa.mean - sb.mean;
    rows.push({ feature: j, meanA: sa.mean, meanB: sb.mean, diff, effectSize: diff / Math.sqrt(Math.max(pooled, VARIANCE_FLOOR)) });
  }
  const towardA = rows.filter((r) => r.diff > 0).sort((x, y) => y.diff - x.diff || x.feature - y.feature);
  const towardB = rows.filter((r) => r.diff < 0).sort((x, y) => x.diff - y.diff || x.feature - y.feature);
  return { towardA: towardA.slice(0, top), towardB: towardB.slice(0, top) };
}

/** [texts] of Float64Array [d_sae]: each text's mean activation per feature. */
function perTextMeans(model: LlamaModel, tokenizer: Tokenizer, sae: Sae, texts: readonly string[], set: string, hook?: HookName): Float64Array[] {
  if (texts.length === 0) throw new UsageError(`contrast: set ${set} has no texts`);
  const d = sae.config.d_sae;
  return textActivations(model, tokenizer, sae, texts, hook).map(({ tokenIds, acts }, i) => {
    if (tokenIds.length === 0) throw new UsageError(`contrast: text ${i + 1} of set ${set} has no tokens`);
    const m = new Float64Array(d);
    for (let t = 0; t < tokenIds.length; t++) for (let j = 0; j < d; j++) m[j] += acts[t * d + j];
    for (let j = 0; j < d; j++) m[j] /= tokenIds.length;
    return m;
  });
}

/** Mean and sample variance of feature j across texts. */
function stats(means: readonly Float64Array[], j: number): { mean: number; variance: number } {
  let s = 0;
  for (const m of means) s += m[j];
  const mean = s / means.length;
  let v = 0;
  for (const m of means) v += (m[j] - mean) ** 2;
  return { mean, variance: means.length > 1 ? v / (means.length - 1) : 0 };
}
