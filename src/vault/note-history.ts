/**
 * Saved versions of each note, under `.tinymorph/history/<key>/`, one file per version named
 * `<savedAt ms>-<hash prefix>-<source>.md`, so listing the folder is the whole index and a crash
 * can at worst lose the version being written (each file goes through the atomic writer).
 * Autosave writes every couple of seconds while the writer types, so consecutive app saves less
 * than `coalesceMs` apart replace each other: the history keeps one version per pause in the
 * writing, plus every version another program put on disk, every restore and every refused save.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { VaultError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { HistoryVersion } from './vault-api.js';
import { textHash } from './text-hash.js';

export type VersionSource = HistoryVersion['source'];

const VERSION_FILE = /^(\d{13,})-([0-9a-f]{16})-(save|disk|restore|conflict)\.md$/;

export interface NoteHistoryOptions {
  /** App saves closer together than this replace the previous app save (default one minute). */
  coalesceMs?: number;
  /** Versions kept per note; the oldest go first (default 200). */
  keep?: number;
}

export class NoteHistory {
  private readonly coalesceMs: number;
  private readonly keep: number;

  constructor(
    private readonly dir: string,
    options: NoteHistoryOptions = {},
  ) {
    this.coalesceMs = options.coalesceMs ?? 60_000;
    this.keep = options.keep ?? 200;
  }

  /** Record `text` as the note's newest version, unless it already is. */
  record(notePath: string, text: string, source: VersionSource, now = Date.now()): void {
    const hash = textHash(text);
    const versions = this.list(notePath);
    const newest = versions[0];
    if (newest?.hash.startsWith(hash.slice(0, 16))) return;
    const folder = this.folderOf(notePath);
    mkdirSync(folder, { recursive: true });
    // One version per pause: a save right after another save replaces it.
    if (newest && source === 'save' && newest.source === 'save' && now - newest.savedAt < this.coalesceMs) {
      rmSync(join(folder, `${newest.id}.md`), { force: true });
      versions.shift();
    }
    const savedAt = Math.max(now, (versions[0]?.savedAt ?? 0) + 1);
    writeFileAtomic(join(folder, `${savedAt}-${hash.slice(0, 16)}-${source}.md`), text);
    for (const old of versions.slice(this.keep - 1)) rmSync(join(folder, `${old.id}.md`), { force: true });
  }

  /** The note's versions, newest first. */
  list(notePath: string): HistoryVersion[] {
    const folder = this.folderOf(notePath);
    if (!existsSync(folder)) return [];
    const versions: HistoryVersion[] = [];
    for (const name of readdirSync(folder)) {
      const m = VERSION_FILE.exec(name);
      if (!m) continue;
      versions.push({ id: name.slice(0, -3), savedAt: Number(m[1]), hash: m[2], bytes: statSync(join(folder, name)).size, source: m[3] as VersionSource });
    }
    return versions.sort((a, b) => b.savedAt - a.savedAt);
  }

  read(notePath: string, id: string): string {
    if (!VERSION_FILE.test(`${id}.md`)) throw new VaultError('not_found', notePath, `no saved version "${id}"`);
    const file = join(this.folderOf(notePath), `${id}.md`);
    if (!existsSync(file)) throw new VaultError('not_found', notePath, `no saved version "${id}"`);
    return readFileSync(file, 'utf8');
  }

  /**
   * A renamed, trashed or restored note keeps its history. Versions already kept under `to` (a note
   * that lived there before, deleted by another program) stay too: the two histories merge by time.
   */
  move(from: string, to: string): void {
    const src = this.folderOf(from);
    if (!existsSync(src)) return;
    const dst = this.folderOf(to);
    if (!existsSync(dst)) {
      renameSync(src, dst);
      return;
    }
    for (const name of readdirSync(src)) renameSync(join(src, name), join(dst, name));
    rmSync(src, { recursive: true, force: true });
  }

  /** Forget the note's versions (it was deleted for good). */
  remove(notePath: string): void {
    rmSync(this.folderOf(notePath), { recursive: true, force: true });
  }

  // Keyed by a hash of the path: note names may hold any characters and nest folders.
  private folderOf(notePath: string): string {
    return join(this.dir, textHash(notePath).slice(0, 32));
  }
}
