/**
 * "Which features fire on this text": per token, its k strongest features; over the whole text,
 * the features with the largest summed activation (with their maximum and how many tokens they
 * fired on) — the two views of Neuronpedia's search-by-text and Goodfire's `features.inspect`.
 */
import type { HookName } from '../../model/hook-points.js';
import type { LlamaModel } from '../../model/llama-model.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import { UsageError } from '../../errors.js';
import type { Sae } from '../sae.js';
import { textActivations } from './text-activations.js';
import { tokenOffsets, type TextSpan } from './token-offsets.js';

export interface FeatureActivation {
  feature: number;
  act: number;
}

export interface TokenFeatures extends TextSpan {
  tokenId: number;
  token: string;
  features: FeatureActivation[];
  /** The activations of the features asked for (ExplainOptions.features), in their order: 0 where one does not fire. */
  chosen?: number[];
}

export interface AggregateFeature {
  feature: number;
  sum: number;
  max: number;
  /** Tokens it fired on (activation > 0). */
  tokens: number;
}

export interface TextExplanation {
  tokens: TokenFeatures[];
  /** Top features by summed activation over the text. */
  top: AggregateFeature[];
}

export interface ExplainOptions {
  /** Features listed per token; default 5. */
  perToken?: number;
  /** Features listed for the whole text; default 10. */
  top?: number;
  /** Features whose activation at every token is reported too, whether or not they are among its strongest. */
  features?: readonly number[];
  hook?: HookName;
}

export function explainText(model: LlamaModel, tokenizer: Tokenizer, sae: Sae, text: string, o: ExplainOptions = {}): TextExplanation {
  const perToken = o.perToken ?? 5;
  const topN = o.top ?? 10;
  const [{ tokenIds, tokens, acts }] = textActivations(model, tokenizer, sae, [text], o.hook);
  if (tokenIds.length === 0) throw new UsageError('the text to explain has no tokens');
  const d = sae.config.d_sae;
  const chosen = o.features;
  for (const f of chosen ?? []) if (!Number.isInteger(f) || f < 0 || f >= d) throw new UsageError(`feature ${f} is outside 0..${d - 1}`);
  const spans = tokenOffsets(tokenizer, text, tokenIds);
  const sum = new Float64Array(d);
  const max = new Float32Array(d);
  const fired = new Int32Array(d);
  const perTokenFeatures = tokenIds.map((tokenId, t) => {
    const active: FeatureActivation[] = [];
    for (let j = 0; j < d; j++) {
      const a = acts[t * d + j];
      if (!(a > 0)) continue;
      active.push({ feature: j, act: a });
      sum[j] += a;
      fired[j]++;
      if (a > max[j]) max[j] = a;
    }
    active.sort((x, y) => y.act - x.act || x.feature - y.feature);
    const at: TokenFeatures = { tokenId, token: tokens[t], ...spans[t], features: active.slice(0, perToken) };
    if (chosen) at.chosen = chosen.map((f) => Math.max(0, acts[t * d + f]));
    return at;
  });
  const top: AggregateFeature[] = [];
  for (let j = 0; j < d; j++) if (fired[j] > 0) top.push({ feature: j, sum: sum[j], max: max[j], tokens: fired[j] });
  top.sort((x, y) => y.sum - x.sum || x.feature - y.feature);
  return { tokens: perTokenFeatures, top: top.slice(0, topN) };
}
