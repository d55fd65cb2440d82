/**
 * Reading and editing a built feature index: full-text search over labels, output tokens and
 * context text; everything a feature's dashboard shows; user labels. The CLI and the server both
 * query through this class.
 */
import Database from 'better-sqlite3';
import { FeatureIndexError, UsageError } from '../../errors.js';
import type { Sae } from '../sae.js';
import type { ActivationHistogram } from './activation-histogram.js';
import { AUTO_LABEL_SOURCE, USER_LABEL_SOURCE } from './auto-label.js';
import type { Db } from './feature-index-db.js';
import { CorruptColumn, oneLine, openIndexDb, readMeta, refreshSearchText, storedArray } from './feature-index-db.js';
import type { Neighbour } from './decoder-neighbours.js';
import type { OutputToken } from './output-tokens.js';
import { saeFingerprint } from './sae-fingerprint.js';

export interface FeatureSummary {
  feature: number;
  label: string;
  labelSource: string;
  /** Fraction of scored corpus tokens where the feature is > 0. */
  density: number;
  fireCount: number;
  /** Mean over all scored tokens (the mean-ablation value) and over the tokens where it fires. */
  meanAct: number;
  meanNonZeroAct: number;
  maxAct: number;
}

export interface SearchHit extends FeatureSummary {
  /** FTS5 bm25 relevance (lower is better, as SQLite reports it). */
  score: number;
}

export interface DashboardContext {
  rank: number;
  maxAct: number;
  /** Position of the maximum in `tokens`. */
  maxPos: number;
  /** The corpus context (0-based) and the window's start in it. */
  contextIndex: number;
  contextStart: number;
  tokens: string[];
  acts: number[];
}

export interface FeatureDashboard extends FeatureSummary {
  autoLabel: string;
  histogram: ActivationHistogram;
  positive: OutputToken[];
  negative: OutputToken[];
  contexts: DashboardContext[];
  neighbours: (Neighbour & { label: string })[];
}

/** bm25 weights of the FTS columns: a word in the label counts most, then in the top tokens, then in the contexts. */
const BM25_WEIGHTS = '10.0, 4.0, 1.0';

interface FeatureRow {
  feature: number;
  fire_count: number;
  density: number;
  mean_act: number;
  mean_nonzero_act: number;
  max_act: number;
  label: string;
  label_source: string;
  auto_label: string;
}

export class FeatureIndex {
  readonly meta: Record<string, string>;
  readonly dSae: number;

  private constructor(
    readonly path: string,
    private readonly db: Db,
  ) {
    this.meta = readMeta(db);
    this.dSae = Number(this.meta.d_sae);
  }

  /** Opens the index at `path`; with `sae`, also checks that it was built from exactly these weights. */
  static open(path: string, o: { writable?: boolean; sae?: Sae } = {}): FeatureIndex {
    const index = new FeatureIndex(path, openIndexDb(path, o));
    if (o.sae && saeFingerprint(o.sae) !== index.meta.sae_fingerprint) {
      index.close();
      throw new FeatureIndexError(path, 'was built from other SAE weights; rebuild it with `tinymorph features build`');
    }
    return index;
  }

  close(): void {
    this.db.close();
  }

  /** Features whose label, top tokens or top contexts contain every word of `query` (prefixes match), best first. */
  search(query: string, limit = 20): SearchHit[] {
    const words = query.match(/[\p{L}\p{N}_]+/gu) ?? [];
    if (words.length === 0) throw new UsageError(`search query "${query}" has no words to look for`);
    // Each word quoted (so FTS5 operators typed by a user are plain text) and prefix-matched.
    const match = words.map((w) => `"${w}"*`).join(' ');
    const rows = this.query(
      () =>
        this.db
          .prepare(
            `SELECT f.*, bm25(features_fts, ${BM25_WEIGHTS}) AS score FROM features_fts JOIN features f ON f.feature = features_fts.rowid
         WHERE features_fts MATCH ? ORDER BY score, f.feature LIMIT ?`,
          )
          .all(match, limit) as (FeatureRow & { score: number })[],
    );
    return rows.map((r) => ({ ...summary(r), score: r.score }));
  }

  summary(feature: number): FeatureSummary {
    return summary(this.row(feature));
  }

  /** Labels of several features at once (for lists of features found by other means). */
  labels(features: readonly number[]): Map<number, string> {
    return this.query(() => {
      const get = this.db.prepare('SELECT label FROM features WHERE feature = ?').pluck();
      return new Map(features.map((f) => [f, (get.get(f) as string | undefined) ?? '']));
    });
  }

  /** Everything the dashboard of `feature` shows. */
  show(feature: number): FeatureDashboard {
    return this.query(() => this.dashboard(feature));
  }

  private dashboard(feature: number): FeatureDashboard {
    const r = this.row(feature);
    const hist = this.db.prepare('SELECT max_act, counts FROM histograms WHERE feature = ?').get(feature) as { max_act: number; counts: string } | undefined;
    if (!hist) throw new FeatureIndexError(this.path, `has no histogram for feature ${feature}; rebuild it`);
    const outputs = this.db.prepare('SELECT sign, token_id, token, value FROM output_tokens WHERE feature = ? ORDER BY sign, rank').all(feature) as {
      sign: string;
      token_id: number;
      token: string;
      value: number;
    }[];
    const output = (sign: string): OutputToken[] => outputs.filter((o) => o.sign === sign).map((o) => ({ tokenId: o.token_id, token: o.token, value: o.value }));
    const contexts = this.db.prepare('SELECT * FROM contexts WHERE feature = ? ORDER BY rank').all(feature) as {
      rank: number;
      max_act: number;
      max_pos: number;
      context_index: number;
      context_start: number;
      tokens: string;
      acts: string;
    }[];
    const neighbours = this.db
      .prepare('SELECT n.other, n.cosine, f.label FROM neighbours n JOIN features f ON f.feature = n.other WHERE n.feature = ? ORDER BY n.rank')
      .all(feature) as { other: number; cosine: number; label: string }[];
    return {
      ...summary(r),
      autoLabel: r.auto_label,
      histogram: { max: hist.max_act, counts: storedArray<number>(hist.counts) },
      positive: output('+'),
      negative: output('-'),
      contexts: contexts.map((c) => ({
        rank: c.rank,
        maxAct: c.max_act,
        maxPos: c.max_pos,
        contextIndex: c.context_index,
        contextStart: c.context_start,
        tokens: storedArray<string>(c.tokens),
        acts: storedArray<number>(c.acts),
      })),
      neighbours: neighbours.map((n) => ({ feature: n.other, cosine: n.cosine, label: n.label })),
    };
  }

  /** Sets a user label (searchable at once); an empty text restores the automatic label. */
  setLabel(feature: number, text: string): void {
    const r = this.row(feature);
    const label = text.trim();
    this.query(() =>
      this.db.transaction(() => {
        this.db.prepare('UPDATE features SET label = ?, label_source = ? WHERE feature = ?').run(label || r.auto_label, label ? USER_LABEL_SOURCE : AUTO_LABEL_SOURCE, feature);
        refreshSearchText(this.db, feature);
      })(),
    );
  }

  private row(feature: number): FeatureRow {
    if (!Number.isSafeInteger(feature) || feature < 0 || feature >= this.dSae) throw new UsageError(`feature ${feature} is outside 0..${this.dSae - 1} (${this.path})`);
    const r = this.query(() => this.db.prepare('SELECT * FROM features WHERE feature = ?').get(feature) as FeatureRow | undefined);
    if (!r) throw new FeatureIndexError(this.path, `has no row for feature ${feature}`);
    return r;
  }

  /**
   * Runs `body` against the database, reporting what a damaged file makes SQLite or a stored JSON
   * column fail with — a schema or full-text index broken in ways quick_check does not look at —
   * as this index's corruption rather than an internal error.
   */
  private query<T>(body: () => T): T {
    try {
      return body();
    } catch (e) {
      if ((e as { code?: string }).code?.startsWith('SQLITE_READONLY')) throw new FeatureIndexError(this.path, 'is read-only (open it writable, or copy it somewhere writable and pass --db)');
      if (e instanceof Database.SqliteError || e instanceof CorruptColumn) {
        throw new FeatureIndexError(this.path, `is corrupt (${oneLine(e.message)}); rebuild it with \`tinymorph features build\``);
      }
      throw e;
    }
  }
}

function summary(r: FeatureRow): FeatureSummary {
  return {
    feature: r.feature,
    label: r.label,
    labelSource: r.label_source,
    density: r.density,
    fireCount: r.fire_count,
    meanAct: r.mean_act,
    meanNonZeroAct: r.mean_nonzero_act,
    maxAct: r.max_act,
  };
}
