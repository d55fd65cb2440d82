/**
 * The feature index file: one SQLite database per SAE (better-sqlite3, whose bundled SQLite has
 * FTS5 compiled in). Tables:
 *   meta(key, value)                      model, SAE, hook, corpus, token counts, build settings, schema version
 *   features(feature, …)                  firing statistics and the label (auto or user)
 *   histograms(feature, max_act, counts)  non-zero activations in equal-width bins over (0, max_act]
 *   contexts(feature, rank, …)            top-activating windows: tokens and activations as JSON arrays
 *   output_tokens(feature, sign, rank, …) top positive (+) and negative (−) direct logit effects
 *   neighbours(feature, rank, other, cosine)  nearest features by decoder cosine
 *   features_fts                          FTS5 over label, top tokens and top-context text
 * The FTS table is contentless (content='': it holds only the inverted index, not a second copy of
 * the text; SQLite FTS5 §4.4.3) with contentless_delete=1 so a relabelled feature's row can be replaced.
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import Database from 'better-sqlite3';
import { FeatureIndexError } from '../../errors.js';
import { describeFsError } from '../../util/fs-error.js';
import { wordAt } from './auto-label.js';

export type Db = Database.Database;

/** Bumped whenever a table changes shape; an index with another version must be rebuilt. */
export const SCHEMA_VERSION = 1;
/** Top contexts whose text goes into the full-text index (the strongest ones say the most). */
const FTS_CONTEXTS = 5;

const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE features (
  feature INTEGER PRIMARY KEY,
  fire_count INTEGER NOT NULL,
  density REAL NOT NULL,
  mean_act REAL NOT NULL,
  mean_nonzero_act REAL NOT NULL,
  max_act REAL NOT NULL,
  label TEXT NOT NULL,
  label_source TEXT NOT NULL,
  auto_label TEXT NOT NULL
);
CREATE TABLE histograms (feature INTEGER PRIMARY KEY, max_act REAL NOT NULL, counts TEXT NOT NULL);
CREATE TABLE contexts (
  feature INTEGER NOT NULL,
  rank INTEGER NOT NULL,
  max_act REAL NOT NULL,
  max_pos INTEGER NOT NULL,
  context_index INTEGER NOT NULL,
  context_start INTEGER NOT NULL,
  tokens TEXT NOT NULL,
  acts TEXT NOT NULL,
  PRIMARY KEY (feature, rank)
) WITHOUT ROWID;
CREATE TABLE output_tokens (
  feature INTEGER NOT NULL,
  sign TEXT NOT NULL CHECK (sign IN ('+', '-')),
  rank INTEGER NOT NULL,
  token_id INTEGER NOT NULL,
  token TEXT NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (feature, sign, rank)
) WITHOUT ROWID;
CREATE TABLE neighbours (
  feature INTEGER NOT NULL,
  rank INTEGER NOT NULL,
  other INTEGER NOT NULL,
  cosine REAL NOT NULL,
  PRIMARY KEY (feature, rank)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE features_fts USING fts5(label, top_tokens, context_text, content='', contentless_delete=1);
`;

/** A new, empty index at `path` (the caller writes a temp file and renames it into place). */
export function createIndexDb(path: string): Db {
  const db = new Database(path);
  // A temp file that is renamed only when complete needs no journal: a crash leaves only the temp file.
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.exec(SCHEMA);
  return db;
}

/** Recomputes feature j's full-text row from its label, output tokens and top contexts. */
export function refreshSearchText(db: Db, feature: number): void {
  const label = (db.prepare('SELECT label FROM features WHERE feature = ?').get(feature) as { label: string }).label;
  const tokens = db.prepare("SELECT token FROM output_tokens WHERE feature = ? AND sign = '+' ORDER BY rank").pluck().all(feature) as string[];
  const contexts = db.prepare('SELECT tokens, max_pos FROM contexts WHERE feature = ? ORDER BY rank LIMIT ?').all(feature, FTS_CONTEXTS) as { tokens: string; max_pos: number }[];
  const windows = contexts.map((c) => storedArray<string>(c.tokens));
  const firesOn = contexts.map((c, i) => wordAt(windows[i], c.max_pos));
  db.prepare('DELETE FROM features_fts WHERE rowid = ?').run(feature);
  db.prepare('INSERT INTO features_fts (rowid, label, top_tokens, context_text) VALUES (?, ?, ?, ?)').run(
    feature,
    label,
    [...tokens, ...firesOn].join(' '),
    windows.map((w) => w.join('')).join('\n'),
  );
}

/** A stored JSON column that is not the array it should be (a damaged file). */
export class CorruptColumn extends Error {}

/** A JSON array stored in a column (contexts' tokens and activations, histogram counts). */
export function storedArray<T>(text: unknown): T[] {
  let value: unknown;
  try {
    value = JSON.parse(String(text));
  } catch {
    throw new CorruptColumn(`a stored JSON column does not parse: ${String(text).slice(0, 40)}`);
  }
  if (!Array.isArray(value)) throw new CorruptColumn(`a stored JSON column is not an array: ${String(text).slice(0, 40)}`);
  return value as T[];
}

export interface OpenOptions {
  /** Open for writing (setLabel); default read-only. */
  writable?: boolean;
}

/**
 * Opens an index, failing with a FeatureIndexError that names the file when it is missing, not a
 * SQLite database, truncated or corrupt (SQLite's own quick_check, a few ms on an index this size),
 * or of another schema version.
 */
export function openIndexDb(path: string, o: OpenOptions = {}): Db {
  if (!existsSync(path)) throw new FeatureIndexError(path, 'no such feature index (build it with `tinymorph features build`)');
  checkHeader(path);
  let db: Db | undefined;
  try {
    db = new Database(path, { readonly: !o.writable, fileMustExist: true });
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new FeatureIndexError(path, `corrupt database (${oneLine(String(check))}); rebuild it`);
    const version = Number(readMeta(db).schema_version);
    if (version !== SCHEMA_VERSION) throw new FeatureIndexError(path, `schema version ${version} is not ${SCHEMA_VERSION}; rebuild it with \`tinymorph features build\``);
    return db;
  } catch (e) {
    db?.close();
    if (e instanceof FeatureIndexError) throw e;
    throw new FeatureIndexError(path, `not a readable feature index (${oneLine(e instanceof Error ? e.message : String(e))})`);
  }
}

/** SQLite's multi-line reports (quick_check lists every damaged page) as one short line. */
export function oneLine(report: string): string {
  const text = report.split('\n').map((l) => l.trim()).filter(Boolean).join('; ');
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

/** The meta table as a record. */
export function readMeta(db: Db): Record<string, string> {
  const rows = db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[];
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}

/**
 * SQLite's 100-byte header (sqlite.org/fileformat.html §1.3): the magic string, the page size, and
 * the page count that a truncated file no longer covers. Checked before SQLite sees the file, so
 * a text file or a half-copied index fails with a message that says which.
 */
function checkHeader(path: string): void {
  const header = Buffer.alloc(100);
  let got: number;
  let size: number;
  try {
    // Non-blocking, so that a FIFO is refused below instead of waiting forever for a writer.
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) throw new FeatureIndexError(path, stat.isDirectory() ? describeFsError({ code: 'EISDIR' }) : `is ${stat.isFIFO() ? 'a pipe' : 'not a file'}; a feature index must be a regular file`);
      got = readSync(fd, header, 0, 100, 0);
      size = stat.size;
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (e instanceof FeatureIndexError) throw e;
    throw new FeatureIndexError(path, describeFsError(e));
  }
  if (got < 100 || header.toString('latin1', 0, 16) !== 'SQLite format 3\0') throw new FeatureIndexError(path, 'not a SQLite database');
  const rawPageSize = header.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  const pages = header.readUInt32BE(28);
  // The in-header page count is valid when its "version-valid-for" number matches the change counter.
  if (header.readUInt32BE(92) === header.readUInt32BE(24) && pages * pageSize > size) {
    throw new FeatureIndexError(path, `truncated: ${size} bytes, the header says ${pages} pages of ${pageSize} bytes`);
  }
}
