/**
 * One pass of the model and the SAE over a corpus, keeping for every feature what its dashboard
 * shows: firing count, sum and maximum of its activations, a histogram of the non-zero ones, and its
 * top-activating contexts. Contexts are built as SAELens builds training contexts (token-contexts.ts:
 * BOS + 127 stream tokens), one batched forward per batch that stops after the SAE's block; BOS and
 * EOS positions are not scored (SAELens `exclude_special_tokens`: their residuals are outliers that
 * carry no content), but they stay in the windows as context.
 */
import type { HookName } from '../../model/hook-points.js';
import type { LlamaModel } from '../../model/llama-model.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import { UsageError } from '../../errors.js';
import { hookActivations } from '../activation-store/hook-activations.js';
import { contextSettings, tokenContexts } from '../activation-store/token-contexts.js';
import { encode } from '../sae-forward.js';
import type { Sae } from '../sae.js';
import { HistogramAccumulator } from './activation-histogram.js';
import { TopContexts } from './top-contexts.js';

export interface ActivityOptions {
  hook: HookName;
  /** Stop after this many tokens (whole contexts; BOS included). */
  tokens: number;
  contextSize: number;
  batchContexts: number;
  topContexts: number;
  /** Window kept around a context's maximum: tokens before and after it. */
  windowBefore: number;
  windowAfter: number;
  onProgress?: (tokensDone: number) => void;
}

export interface FeatureActivity {
  /** Forward positions seen, and those scored (special tokens left out); densities divide by `scoredTokens`. */
  contexts: number;
  tokens: number;
  scoredTokens: number;
  fireCount: Float64Array; // [d_sae]
  sum: Float64Array; // [d_sae]
  max: Float32Array; // [d_sae]
  histogram: HistogramAccumulator;
  top: TopContexts;
}

export function featureActivity(model: LlamaModel, tokenizer: Tokenizer, sae: Sae, documents: Iterable<string>, o: ActivityOptions): FeatureActivity {
  const d = sae.config.d_sae;
  const settings = contextSettings({ contextSize: o.contextSize }, model.config.seqLen);
  const wanted = Math.max(1, Math.floor(o.tokens / settings.contextSize));
  const a: FeatureActivity = {
    contexts: 0,
    tokens: 0,
    scoredTokens: 0,
    fireCount: new Float64Array(d),
    sum: new Float64Array(d),
    max: new Float32Array(d),
    histogram: new HistogramAccumulator(d),
    top: new TopContexts(d, o.topContexts),
  };
  // hookActivations consumes the contexts lazily; this queue hands each batch its token ids.
  const pending: Int32Array[] = [];
  function* counted(): Generator<Int32Array> {
    let n = 0;
    for (const ctx of tokenContexts(tokenizer, documents, settings)) {
      if (n++ === wanted) return;
      pending.push(ctx);
      yield ctx;
    }
  }
  const special = (id: number): boolean => id === tokenizer.bosId || id === tokenizer.eosId;
  // Per-context maxima of each feature, reset through the `touched` list after every context.
  const ctxMax = new Float32Array(d);
  const ctxPos = new Int32Array(d);
  const touched: number[] = [];
  for (const batch of hookActivations(model, counted(), { hook: o.hook, batchContexts: o.batchContexts })) {
    const rows = pending.splice(0, batch.perContext.length);
    const acts = encode(sae, batch.data, batch.n, model.backend);
    let base = 0;
    for (const ids of rows) {
      for (let t = 0; t < ids.length; t++) {
        if (special(ids[t])) continue;
        a.scoredTokens++;
        const off = (base + t) * d;
        for (let j = 0; j < d; j++) {
          const v = acts[off + j];
          if (!(v > 0)) continue;
          a.fireCount[j]++;
          a.sum[j] += v;
          if (v > a.max[j]) a.max[j] = v;
          a.histogram.add(j, v);
          if (ctxMax[j] === 0) touched.push(j);
          if (v > ctxMax[j]) {
            ctxMax[j] = v;
            ctxPos[j] = t;
          }
        }
      }
      for (const j of touched) {
        if (a.top.admits(j, ctxMax[j])) {
          const start = Math.max(0, ctxPos[j] - o.windowBefore);
          const end = Math.min(ids.length, ctxPos[j] + o.windowAfter + 1);
          const windowActs = new Float32Array(end - start);
          for (let t = start; t < end; t++) if (!special(ids[t])) windowActs[t - start] = acts[(base + t) * d + j];
          a.top.add(j, { maxAct: ctxMax[j], contextIndex: a.contexts, start, maxPos: ctxPos[j] - start, tokenIds: ids.slice(start, end), prevId: start > 0 ? ids[start - 1] : -1, acts: windowActs });
        }
        ctxMax[j] = 0;
      }
      touched.length = 0;
      base += ids.length;
      a.contexts++;
      a.tokens += ids.length;
    }
    o.onProgress?.(a.tokens);
  }
  if (a.contexts === 0) throw new UsageError(`the corpus is shorter than one context of ${settings.contextSize} tokens`);
  return a;
}
