import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { splitDocuments } from '../../model/documents.js';
import { trainSampleTextPath } from '../../model/embedded.js';
import type { LoadedModel } from '../../model/load-model.js';
import { DEFAULT_CONTEXT_SIZE } from '../../sae/activation-store/token-contexts.js';
import { buildFeatureIndex, DEFAULT_INDEX_TOKENS } from '../../sae/feature-index/build-feature-index.js';
import type { BuildSummary } from '../../sae/feature-index/build-feature-index.js';
import { contrastTexts } from '../../sae/feature-index/contrast-texts.js';
import type { ContrastFeature } from '../../sae/feature-index/contrast-texts.js';
import { explainText } from '../../sae/feature-index/explain-text.js';
import { FeatureIndex } from '../../sae/feature-index/feature-index.js';
import { DEFAULT_SAE_HOOK, parseFeatureRef, shippedSaeDir } from '../../sae/feature-index/feature-ref.js';
import { findIndex, newIndexPath } from '../../sae/feature-index/index-location.js';
import { readSaeLensFolder } from '../../sae/saelens-format.js';
import type { Sae } from '../../sae/sae.js';
import { READ_LIMITS, readTextBounded } from '../../util/bounded-read.js';
import type { ModelOptions } from '../options.js';
import { addModelOptions, loadFromOptions, positiveFlag } from '../options.js';
import { startProgress } from '../progress.js';
import { textFromArgOrFile } from '../text-input.js';
import { formatBytes } from './activations.js';
import { formatDashboard, useColour } from './feature-dashboard.js';
import { checkOutputFile } from '../../util/output-target.js';

interface IndexOptions extends ModelOptions {
  sae?: string;
  db?: string;
  json?: boolean;
}

const saeDirOf = (o: IndexOptions): string => o.sae ?? shippedSaeDir(DEFAULT_SAE_HOOK);

/** Builds the index of `saeDir` at `db` with a progress bar. */
function buildWithProgress(loaded: LoadedModel, sae: Sae, saeDir: string, db: string, corpus: string, tokens: number, topContexts?: number): BuildSummary {
  const progress = startProgress('indexing features', Math.max(1, Math.floor(tokens / DEFAULT_CONTEXT_SIZE)) * DEFAULT_CONTEXT_SIZE, 'tokens');
  try {
    return buildFeatureIndex(loaded.model, loaded.tokenizer, sae, corpus, { db, saePath: saeDir, tokens, topContexts, onProgress: (done) => progress.update(done) });
  } finally {
    progress.stop();
  }
}

/** Which index a query command reads. */
interface IndexRequest {
  saeDir: string;
  /** Check that the index was built from this SAE: always when it is found through the SAE, and with --db when the SAE was named or is used. */
  checkSae: boolean;
  writable?: boolean;
}

/**
 * The index of the SAE in `saeDir`: --db if given, else the one beside the SAE or in the cache;
 * when none is built yet, builds it there now with the default settings (seconds for the shipped
 * SAEs) and says so on stderr. An index built from other weights than the SAE's is an error.
 */
function openIndex(req: IndexRequest, o: IndexOptions): FeatureIndex {
  const { saeDir, writable } = req;
  if (o.db) return FeatureIndex.open(o.db, { writable, sae: req.checkSae ? readSaeLensFolder(saeDir) : undefined });
  const sae = readSaeLensFolder(saeDir);
  const existing = findIndex(saeDir);
  if (existing) return FeatureIndex.open(existing, { writable, sae });
  const path = newIndexPath(saeDir);
  process.stderr.write(`tinymorph: ${saeDir} has no feature index yet; building one at ${path} (\`tinymorph features build\` takes other settings)\n`);
  const loaded = loadFromOptions(o);
  buildWithProgress(loaded, readSaeLensFolder(saeDir, { model: loaded.model.config }), saeDir, path, trainSampleTextPath(), DEFAULT_INDEX_TOKENS);
  return FeatureIndex.open(path, { writable, sae });
}

function withIndex<T>(req: IndexRequest, o: IndexOptions, body: (index: FeatureIndex) => T): T {
  const index = openIndex(req, o);
  try {
    return body(index);
  } finally {
    index.close();
  }
}

const json = (v: unknown): void => void process.stdout.write(JSON.stringify(v, null, 2) + '\n');
const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

function readTexts(flag: string, path: string): string[] {
  const docs = splitDocuments(readTextBounded(path, READ_LIMITS.text, (problem) => new UsageError(`${flag} ${path}: ${problem}`)));
  if (docs.length === 0) throw new UsageError(`${flag} ${path}: has no texts (separate texts by blank lines or <|endoftext|>)`);
  return docs;
}

function contrastTable(rows: readonly ContrastFeature[], labels: Map<number, string>): string {
  return rows.map((r) => `${String(r.feature).padStart(7)}  ${r.diff >= 0 ? '+' : ''}${r.diff.toFixed(4)}  d=${r.effectSize.toFixed(2).padStart(6)}  ${labels.get(r.feature) ?? ''}`).join('\n');
}

/** `tinymorph features <subcommand>`: build, search and browse an SAE's feature index; which features fire on text. */
export function registerFeatures(program: Command): void {
  const features = program
    .command('features')
    .description('find features: build an SAE feature index, search it, show dashboards, label features, explain text, contrast two sets of texts');
  const common = (cmd: Command): Command =>
    addModelOptions(cmd)
      .option('--sae <folder>', `SAELens SAE folder (default: the shipped assets/saes/${DEFAULT_SAE_HOOK})`)
      .option('--db <file>', 'feature index file (default: features.sqlite beside the SAE, or in ~/.cache/tinymorph/features when that folder is read-only)');

  common(features.command('build'))
    .description('run the model and SAE over a corpus and write the feature index (SQLite with full-text search)')
    .option('--corpus <file>', 'text corpus, documents separated by <|endoftext|> or blank lines (default: the TinyStories train sample)')
    .option('--tokens <n>', 'corpus tokens to run', String(DEFAULT_INDEX_TOKENS))
    .option('--top-contexts <n>', 'top-activating contexts kept per feature', '20')
    .action((o: IndexOptions & { corpus?: string; tokens: string; topContexts: string }) => {
      if (o.db !== undefined) checkOutputFile(o.db, '--db');
      const tokens = positiveFlag('--tokens', o.tokens, true);
      const topContexts = positiveFlag('--top-contexts', o.topContexts, true);
      const saeDir = saeDirOf(o);
      const loaded = loadFromOptions(o);
      const sae = readSaeLensFolder(saeDir, { model: loaded.model.config });
      const db = o.db ?? newIndexPath(saeDir);
      const s = buildWithProgress(loaded, sae, saeDir, db, o.corpus ?? trainSampleTextPath(), tokens, topContexts);
      process.stdout.write(
        `indexed ${sae.config.d_sae} features (${s.deadFeatures} dead) over ${s.scoredTokens} tokens in ${s.contexts} contexts in ${s.seconds.toFixed(1)} s → ${db} (${formatBytes(statSync(db).size)})\n`,
      );
    });

  common(features.command('search <query>'))
    .description('features whose label, top output tokens or top contexts contain the words of <query>')
    .option('--limit <n>', 'features to list', '20')
    .option('--json', 'print JSON')
    .action((query: string, o: IndexOptions & { limit: string }) => {
      const limit = positiveFlag('--limit', o.limit, true);
      const hits = withIndex({ saeDir: saeDirOf(o), checkSae: o.sae !== undefined }, o, (index) => index.search(query, limit));
      if (o.json) return json(hits);
      if (hits.length === 0) return void process.stdout.write(`no feature matches "${query}"\n`);
      process.stdout.write(hits.map((h) => `${String(h.feature).padStart(7)}  ${pct(h.density).padStart(7)}  ${h.label}`).join('\n') + '\n');
    });

  common(features.command('show <feature>'))
    .description('the dashboard of a feature: <hook>:<index> (blocks.2.hook_resid_post:123), <layer>:<index> (2:123), or <index> with --sae')
    .option('--json', 'print JSON')
    .action((ref: string, o: IndexOptions) => {
      const { saeDir, feature, named } = parseFeatureRef(ref, o.sae);
      withIndex({ saeDir, checkSae: named }, o, (index) => {
        const d = index.show(feature);
        if (o.json) return json(d);
        process.stdout.write(formatDashboard(d, `${index.meta.hook} · ${index.meta.model} · ${index.meta.scored_tokens} tokens`, useColour()));
      });
    });

  common(features.command('label <feature> <text>'))
    .description('set a feature\'s label (searchable at once); an empty text restores the automatic label')
    .action((ref: string, text: string, o: IndexOptions) => {
      const { saeDir, feature, named } = parseFeatureRef(ref, o.sae);
      withIndex({ saeDir, checkSae: named, writable: true }, o, (index) => {
        index.setLabel(feature, text);
        process.stdout.write(`${feature}: ${index.summary(feature).label}\n`);
      });
    });

  common(features.command('explain-text [text]'))
    .description('which features fire on a text: the top features of each token, and over the whole text')
    .option('--text-file <file>', 'read the text from a file ("-": standard input; one trailing newline dropped)')
    .option('-k, --per-token <n>', 'features per token', '5')
    .option('--top <n>', 'features over the whole text', '10')
    .option('--json', 'print JSON')
    .action((arg: string | undefined, o: IndexOptions & { textFile?: string; perToken: string; top: string }) => {
      const text = textFromArgOrFile(arg, o.textFile, '--text-file', 'text');
      const perToken = positiveFlag('--per-token', o.perToken, true);
      const top = positiveFlag('--top', o.top, true);
      const saeDir = saeDirOf(o);
      const loaded = loadFromOptions(o);
      const sae = readSaeLensFolder(saeDir, { model: loaded.model.config });
      const r = explainText(loaded.model, loaded.tokenizer, sae, text, { perToken, top });
      const labels = withIndex({ saeDir, checkSae: true }, o, (index) => index.labels([...r.top.map((f) => f.feature), ...r.tokens.flatMap((t) => t.features.map((f) => f.feature))]));
      if (o.json) return json({ ...r, labels: Object.fromEntries(labels) });
      const w = Math.min(16, Math.max(...r.tokens.map((t) => JSON.stringify(t.token).length)));
      const lines = r.tokens.map((t) => `${JSON.stringify(t.token).padEnd(w)}  ${t.features.map((f) => `${f.feature}:${f.act.toFixed(2)}`).join('  ')}`);
      lines.push('', 'top features over the text (sum, max, tokens fired):');
      lines.push(...r.top.map((f) => `${String(f.feature).padStart(7)}  ${f.sum.toFixed(2).padStart(7)}  ${f.max.toFixed(2).padStart(6)}  ${String(f.tokens).padStart(3)}  ${labels.get(f.feature)}`));
      process.stdout.write(lines.join('\n') + '\n');
    });

  common(features.command('contrast'))
    .description('features that separate two sets of texts (mean activation per text, ranked by difference, with Cohen\'s d)')
    .requiredOption('--a <file>', 'texts of set A, separated by blank lines or <|endoftext|>')
    .requiredOption('--b <file>', 'texts of set B')
    .option('--top <n>', 'features listed per side', '10')
    .option('--json', 'print JSON')
    .action((o: IndexOptions & { a: string; b: string; top: string }) => {
      const top = positiveFlag('--top', o.top, true);
      const a = readTexts('--a', o.a);
      const b = readTexts('--b', o.b);
      const saeDir = saeDirOf(o);
      const loaded = loadFromOptions(o);
      const sae = readSaeLensFolder(saeDir, { model: loaded.model.config });
      const r = contrastTexts(loaded.model, loaded.tokenizer, sae, a, b, { top });
      const labels = withIndex({ saeDir, checkSae: true }, o, (index) => index.labels([...r.towardA, ...r.towardB].map((f) => f.feature)));
      if (o.json) return json({ ...r, labels: Object.fromEntries(labels) });
      process.stdout.write(
        `more active in A (${a.length} texts):\n${contrastTable(r.towardA, labels)}\n\nmore active in B (${b.length} texts):\n${contrastTable(r.towardB, labels)}\n`,
      );
    });

  features.exitOverride();
  for (const cmd of features.commands) cmd.exitOverride();
}
