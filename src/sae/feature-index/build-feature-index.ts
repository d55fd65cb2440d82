/**
 * Builds a feature index (feature-index-db.ts) for an SAE over a corpus: one model + SAE pass for
 * activation statistics and top contexts (feature-activity.ts), then the weight-only parts (output
 * tokens, decoder neighbours), automatic labels, and the full-text index. The database is written
 * to a temp file beside the target and renamed over it when complete (POSIX rename is atomic), so
 * readers see the old index or the new one, never half of one.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { FeatureIndexError, TinymorphError, UsageError } from '../../errors.js';
import type { HookName } from '../../model/hook-points.js';
import type { LlamaModel } from '../../model/llama-model.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import { corpusDocuments } from '../activation-store/activation-store.js';
import { DEFAULT_CONTEXT_SIZE } from '../activation-store/token-contexts.js';
import { TINYMORPH_VERSION } from '../../util/version.js';
import type { Sae } from '../sae.js';
import { AUTO_LABEL_SOURCE, autoLabel, wordAt } from './auto-label.js';
import { decoderNeighbours } from './decoder-neighbours.js';
import { featureActivity } from './feature-activity.js';
import type { Db } from './feature-index-db.js';
import { createIndexDb, refreshSearchText, SCHEMA_VERSION } from './feature-index-db.js';
import { saeFingerprint } from './sae-fingerprint.js';
import { tokenStrings } from './token-strings.js';
import { topOutputTokens } from './output-tokens.js';
import { saeHook } from './text-activations.js';

export interface BuildOptions {
  /** Where the index goes (replaced atomically). */
  db: string;
  /** Recorded in meta: where the SAE and the corpus came from. */
  saePath?: string;
  /** Hook the SAE reads; default its cfg.json metadata.hook_name. */
  hook?: HookName;
  /** Corpus tokens to run (whole contexts); default 200k. */
  tokens?: number;
  contextSize?: number;
  batchContexts?: number;
  /** Top-activating contexts kept per feature; default 20. */
  topContexts?: number;
  /** Tokens kept before and after each context's maximum; default 24 and 8. */
  windowBefore?: number;
  windowAfter?: number;
  /** Positive and negative output tokens kept per feature; default 10. */
  outputTokens?: number;
  /** Nearest features kept per feature; default 10. */
  neighbours?: number;
  /** Bins of the activation histogram; default 24. */
  histogramBins?: number;
  onProgress?: (tokensDone: number, tokensTotal: number) => void;
}

export interface BuildSummary {
  db: string;
  contexts: number;
  tokens: number;
  scoredTokens: number;
  deadFeatures: number;
  seconds: number;
}

export const DEFAULT_INDEX_TOKENS = 200_000;

/** Indexes `sae` over the corpus text file `corpusPath` (documents split as corpusDocuments does). */
export function buildFeatureIndex(model: LlamaModel, tokenizer: Tokenizer, sae: Sae, corpusPath: string, o: BuildOptions): BuildSummary {
  const started = Date.now();
  const hook = saeHook(sae, o.hook);
  if (!existsSync(dirname(resolve(o.db)))) throw new FeatureIndexError(o.db, 'cannot write the index: its folder does not exist');
  const settings = {
    tokens: positive('tokens', o.tokens ?? DEFAULT_INDEX_TOKENS),
    contextSize: positive('context size', o.contextSize ?? DEFAULT_CONTEXT_SIZE),
    batchContexts: positive('batch contexts', o.batchContexts ?? 32),
    topContexts: positive('top contexts', o.topContexts ?? 20),
    windowBefore: nonNegative('window before', o.windowBefore ?? 24),
    windowAfter: nonNegative('window after', o.windowAfter ?? 8),
    outputTokens: positive('output tokens', o.outputTokens ?? 10),
    neighbours: nonNegative('neighbours', o.neighbours ?? 10),
    histogramBins: positive('histogram bins', o.histogramBins ?? 24),
  };
  const tokensTotal = Math.max(1, Math.floor(settings.tokens / settings.contextSize)) * settings.contextSize;
  const activity = featureActivity(model, tokenizer, sae, corpusDocuments(corpusPath), {
    ...settings,
    hook,
    onProgress: (done) => o.onProgress?.(done, tokensTotal),
  });
  const outputs = topOutputTokens(model, tokenizer, sae, settings.outputTokens);
  const neighbours = decoderNeighbours(sae, settings.neighbours, model.backend);

  const meta: Record<string, string | number> = {
    schema_version: SCHEMA_VERSION,
    tinymorph_version: TINYMORPH_VERSION,
    model: String(sae.config.metadata.model_name ?? 'unknown'),
    model_config: JSON.stringify(model.config),
    sae_path: o.saePath ?? '',
    sae_fingerprint: saeFingerprint(sae),
    architecture: sae.config.architecture,
    d_in: sae.config.d_in,
    d_sae: sae.config.d_sae,
    hook,
    corpus: corpusPath,
    contexts: activity.contexts,
    tokens: activity.tokens,
    scored_tokens: activity.scoredTokens,
    settings: JSON.stringify(settings),
    built_at: new Date().toISOString(),
  };
  let dead = 0;
  writeAtomically(o.db, (db) => {
    const insMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    for (const [k, v] of Object.entries(meta)) insMeta.run(k, String(v));
    const insFeature = db.prepare(
      'INSERT INTO features (feature, fire_count, density, mean_act, mean_nonzero_act, max_act, label, label_source, auto_label) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insHist = db.prepare('INSERT INTO histograms (feature, max_act, counts) VALUES (?, ?, ?)');
    const insCtx = db.prepare('INSERT INTO contexts (feature, rank, max_act, max_pos, context_index, context_start, tokens, acts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const insOut = db.prepare('INSERT INTO output_tokens (feature, sign, rank, token_id, token, value) VALUES (?, ?, ?, ?, ?, ?)');
    const insNb = db.prepare('INSERT INTO neighbours (feature, rank, other, cosine) VALUES (?, ?, ?, ?)');
    for (let j = 0; j < sae.config.d_sae; j++) {
      const fired = activity.fireCount[j];
      if (fired === 0) dead++;
      const contexts = activity.top.sorted(j);
      const windows = contexts.map((c) => tokenStrings(tokenizer, c.tokenIds, c.prevId));
      const label = autoLabel(
        outputs[j].positive,
        contexts.map((c, i) => wordAt(windows[i], c.maxPos)),
        fired,
        activity.scoredTokens,
      );
      const max = activity.max[j];
      insFeature.run(j, fired, fired / activity.scoredTokens, activity.sum[j] / activity.scoredTokens, fired > 0 ? activity.sum[j] / fired : 0, max, label, AUTO_LABEL_SOURCE, label);
      insHist.run(j, max, JSON.stringify(activity.histogram.histogram(j, max, settings.histogramBins).counts));
      contexts.forEach((c, rank) => {
        insCtx.run(j, rank, c.maxAct, c.maxPos, c.contextIndex, c.start, JSON.stringify(windows[rank]), JSON.stringify(Array.from(c.acts, round4)));
      });
      outputs[j].positive.forEach((t, rank) => insOut.run(j, '+', rank, t.tokenId, t.token, t.value));
      outputs[j].negative.forEach((t, rank) => insOut.run(j, '-', rank, t.tokenId, t.token, t.value));
      neighbours[j].forEach((n, rank) => insNb.run(j, rank, n.feature, n.cosine));
      refreshSearchText(db, j);
    }
    db.prepare("INSERT INTO features_fts (features_fts) VALUES ('optimize')").run();
  });
  return { db: o.db, contexts: activity.contexts, tokens: activity.tokens, scoredTokens: activity.scoredTokens, deadFeatures: dead, seconds: (Date.now() - started) / 1000 };
}

/** Four significant digits: the dashboard's resolution, and a third of the JSON of full floats. */
const round4 = (v: number): number => (v === 0 ? 0 : Number(v.toPrecision(4)));

function writeAtomically(path: string, fill: (db: Db) => void): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const db = createIndexDb(tmp);
    try {
      db.transaction(() => fill(db))();
    } finally {
      db.close();
    }
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    if (e instanceof TinymorphError) throw e;
    throw new FeatureIndexError(path, `cannot write the index (${e instanceof Error ? e.message : String(e)})`);
  }
}

function positive(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${what} must be a positive integer, got ${n}`);
  return n;
}

function nonNegative(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${what} must be a non-negative integer, got ${n}`);
  return n;
}
