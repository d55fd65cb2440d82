/**
 * Full-text search over the vault: an SQLite FTS5 table (better-sqlite3) in `.tinymorph/search.sqlite`.
 * The index is derived data: it is brought up to date with the notes on disk when the vault opens
 * (files whose size, mtime or content hash changed are re-read) and by every save and every change
 * the watcher sees; a corrupt or foreign file is deleted and rebuilt rather than reported.
 *   files(id, path, hash, size, mtime)     what was indexed, to skip unchanged notes at startup
 *   notes_fts(title, body)                  rowid = files.id; FTS5 with unicode61 and diacritics folded
 */
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { SNIPPET_MARK_END, SNIPPET_MARK_START, type SearchHit } from './vault-api.js';
import { noteTitle } from './note-names.js';

const SCHEMA_VERSION = 1;
const SCHEMA = `
CREATE TABLE IF NOT EXISTS files (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, hash TEXT NOT NULL, size INTEGER NOT NULL, mtime REAL NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS notes_fts USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2');
`;
/** bm25 column weights: a word in the note's name counts five times one in its text. */
const BM25 = 'bm25(notes_fts, 5.0, 1.0)';

export interface IndexedFile {
  path: string;
  size: number;
  mtimeMs: number;
}

export class VaultSearchIndex {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = openOrRebuild(file);
  }

  /**
   * Make the index match `files` (every note now on disk): drop notes that are gone, and (re)index
   * those that are new or whose size or mtime changed and whose content hash then differs.
   */
  sync(files: IndexedFile[], read: (path: string) => { text: string; hash: string } | undefined): void {
    const known = new Map<string, { id: number; hash: string; size: number; mtime: number }>();
    for (const r of this.db.prepare('SELECT id, path, hash, size, mtime FROM files').all() as { id: number; path: string; hash: string; size: number; mtime: number }[]) known.set(r.path, r);
    const onDisk = new Set(files.map((f) => f.path));
    this.db.transaction(() => {
      for (const [path] of known) if (!onDisk.has(path)) this.remove(path);
      for (const f of files) {
        const k = known.get(f.path);
        if (k && k.size === f.size && k.mtime === f.mtimeMs) continue;
        const note = read(f.path);
        if (note === undefined) continue;
        if (k && k.hash === note.hash) this.db.prepare('UPDATE files SET size = ?, mtime = ? WHERE id = ?').run(f.size, f.mtimeMs, k.id);
        else this.upsert(f.path, note.text, note.hash, f.size, f.mtimeMs);
      }
    })();
  }

  upsert(path: string, text: string, hash: string, size = Buffer.byteLength(text), mtimeMs = Date.now()): void {
    this.db.transaction(() => {
      this.remove(path);
      const { lastInsertRowid } = this.db.prepare('INSERT INTO files (path, hash, size, mtime) VALUES (?, ?, ?, ?)').run(path, hash, size, mtimeMs);
      this.db.prepare('INSERT INTO notes_fts (rowid, title, body) VALUES (?, ?, ?)').run(lastInsertRowid, noteTitle(path), text);
    })();
  }

  remove(path: string): void {
    const row = this.db.prepare('SELECT id FROM files WHERE path = ?').get(path) as { id: number } | undefined;
    if (!row) return;
    this.db.prepare('DELETE FROM notes_fts WHERE rowid = ?').run(row.id);
    this.db.prepare('DELETE FROM files WHERE id = ?').run(row.id);
  }

  /**
   * Notes matching every word of `query` (each word also as a prefix, so results follow typing),
   * best first, each with a snippet whose matches sit between the SNIPPET_MARK characters.
   */
  search(query: string, limit = 50): SearchHit[] {
    const words = query.match(/[\p{L}\p{N}_]+/gu);
    if (!words) return [];
    // Each word quoted: FTS5 operators (AND, NEAR, -, :) in the writer's text stay plain words.
    const match = words.map((w) => `"${w}"*`).join(' ');
    const rows = this.db
      .prepare(
        `SELECT f.path AS path, snippet(notes_fts, 1, ?, ?, '…', 14) AS snippet FROM notes_fts JOIN files f ON f.id = notes_fts.rowid
         WHERE notes_fts MATCH ? ORDER BY ${BM25} LIMIT ?`,
      )
      .all(SNIPPET_MARK_START, SNIPPET_MARK_END, match, limit) as { path: string; snippet: string }[];
    return rows.map((r) => ({ path: r.path, title: noteTitle(r.path), snippet: r.snippet }));
  }

  close(): void {
    this.db.close();
  }
}

function openOrRebuild(file: string): Database.Database {
  try {
    return open(file);
  } catch {
    // Derived data: a damaged or foreign index is thrown away and rebuilt from the notes.
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    return open(file);
  }
}

function open(file: string): Database.Database {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version !== 0 && version !== SCHEMA_VERSION) throw new Error(`search index schema ${version}`);
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}
