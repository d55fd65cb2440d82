/**
 * A vault: a folder of markdown notes, kept the way Obsidian keeps one (notes are plain `.md` files
 * in nested folders, deleted notes go to `.trash/`, `[[wikilinks]]` follow renames) plus the app's
 * own folder `.tinymorph/` (settings, saved versions, the search index). No HTTP here: the server's
 * routes and the CLI call these methods, and every refusal is a VaultError.
 *
 * Saves are atomic (src/util/atomic-write.ts) and conditional: the caller names the hash of the
 * version it edited from, and a save over anything else is a NoteConflictError carrying the disk
 * version, so nothing another program wrote is ever silently overwritten.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NoteConflictError, VaultError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { cardsPathOf, moveCards, readCards, writeCards } from './note-cards.js';
import type { NoteCards } from './note-cards-api.js';
import { NoteHistory, type VersionSource } from './note-history.js';
import { textHash } from './text-hash.js';
import type { HistoryVersion, Note, Renamed, SearchHit, Settings, TrashEntry, TreeFolder, TreeNote } from './vault-api.js';
import { NOTE_EXTENSION } from './note-names.js';
import { checkNotePath, isInside, pathSegments, resolveInVault } from './vault-path.js';
import { VaultSearchIndex, type IndexedFile } from './vault-search-index.js';
import { readSettings, writeSettings } from './vault-settings.js';
import { numbered, TRASH_FOLDER, VaultTrash } from './vault-trash.js';
import { rewriteMarkdownLinks } from './markdown-links.js';
import { LinkResolver, rewriteWikilinks } from './wikilinks.js';

export const APP_FOLDER = '.tinymorph';
/** Larger notes are refused (4 MiB is several novels of markdown; beyond it a browser editor struggles). */
export const DEFAULT_MAX_NOTE_BYTES = 4 * 1024 * 1024;

/** Names as a person sorts them: "Note 2" before "Note 10", case and accents aside (one collator: building one per comparison is slow). */
const NAME_ORDER = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

export interface VaultOptions {
  maxNoteBytes?: number;
  /** App saves closer together than this share one history entry (default one minute). */
  historyCoalesceMs?: number;
}

export class Vault {
  /** The vault folder with symlinks resolved: every path it serves must stay under it. */
  readonly root: string;
  readonly maxNoteBytes: number;
  private readonly history: NoteHistory;
  private readonly index: VaultSearchIndex;
  private readonly settingsFile: string;
  private readonly bin: VaultTrash;
  /**
   * The last few hashes this app wrote, read or announced for each note: the watcher's test for "our
   * own write". Several, because the watcher may read the file a moment late, after the next autosave.
   */
  private readonly seen = new Map<string, string[]>();

  constructor(dir: string, options: VaultOptions = {}) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new VaultError('not_found', dir, 'the vault folder does not exist');
    this.root = realpathSync(dir);
    this.maxNoteBytes = options.maxNoteBytes ?? DEFAULT_MAX_NOTE_BYTES;
    const app = join(this.root, APP_FOLDER);
    mkdirSync(app, { recursive: true });
    this.settingsFile = join(app, 'settings.json');
    readSettings(this.settingsFile);
    this.bin = new VaultTrash(this.root, join(app, 'trash.json'));
    this.history = new NoteHistory(join(app, 'history'), { coalesceMs: options.historyCoalesceMs });
    this.index = new VaultSearchIndex(join(app, 'search.sqlite'));
    this.index.sync(this.noteFiles(), (p) => this.tryRead(p));
  }

  tree(): TreeFolder {
    const walk = (abs: string, rel: string, name: string): TreeFolder => {
      const children: (TreeFolder | TreeNote)[] = [];
      for (const e of this.entries(abs)) {
        const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
        if (e.isDirectory()) children.push(walk(join(abs, e.name), childRel, e.name));
        else children.push({ kind: 'note', path: childRel, name: e.name.slice(0, -NOTE_EXTENSION.length) });
      }
      children.sort((a, b) => (a.kind === b.kind ? NAME_ORDER.compare(a.name, b.name) : a.kind === 'folder' ? -1 : 1));
      return { kind: 'folder', path: rel, name, children };
    };
    return walk(this.root, '', '');
  }

  read(path: string): Note {
    const abs = this.notePath(path);
    const bytes = this.readBytes(path, abs);
    const hash = textHash(bytes);
    this.remember(path, hash);
    return { path, text: bytes.toString('utf8'), hash };
  }

  /** Save `text` if the note on disk is still the version `baseHash` names (null: the note must not exist yet). */
  save(path: string, text: string, baseHash: string | null, source: VersionSource = 'save'): { path: string; hash: string } {
    const abs = this.notePath(path);
    this.checkSize(path, Buffer.byteLength(text));
    const hash = textHash(text);
    const disk = existsSync(abs) ? this.read(path) : undefined;
    if (disk && disk.hash !== baseHash) {
      // Both versions stay restorable whichever one the writer keeps.
      this.history.record(path, disk.text, 'disk');
      this.history.record(path, text, 'conflict');
      throw new NoteConflictError(path, { text: disk.text, hash: disk.hash }, { text }, baseHash);
    }
    if (disk?.hash === hash) return { path, hash };
    // Keep the version being replaced restorable, whoever wrote it.
    if (disk) this.history.record(path, disk.text, 'disk');
    this.write(path, abs, text, hash);
    this.history.record(path, text, source);
    return { path, hash };
  }

  create(path: string, text = ''): { path: string; hash: string } {
    if (existsSync(this.notePath(path))) throw new VaultError('exists', path, 'a note with this name already exists');
    return this.save(path, text, null);
  }

  createFolder(path: string): void {
    const abs = resolveInVault(this.root, path);
    if (existsSync(abs)) throw new VaultError('exists', path, 'already exists');
    mkdirSync(abs, { recursive: true });
  }

  /** Rename or move a note or folder, and rewrite the [[wikilinks]] and markdown links that pointed to the notes that moved. */
  rename(from: string, to: string): Renamed {
    const absFrom = resolveInVault(this.root, from);
    if (!existsSync(absFrom)) throw new VaultError('not_found', from, 'no such note or folder');
    const isFolder = statSync(absFrom).isDirectory();
    if (isFolder) pathSegments(to);
    else {
      checkNotePath(from);
      checkNotePath(to);
    }
    const absTo = resolveInVault(this.root, to);
    if (existsSync(absTo)) throw new VaultError('exists', to, 'a note or folder with this name already exists');
    if (isFolder && to.startsWith(`${from}/`)) throw new VaultError('bad_path', to, `cannot move the folder "${from}" into itself`);

    const notes = this.noteFiles().map((f) => f.path);
    const moves = new Map<string, string>();
    for (const p of notes) {
      if (p === from) moves.set(p, to);
      else if (isFolder && p.startsWith(`${from}/`)) moves.set(p, to + p.slice(from.length));
    }
    const before = new LinkResolver(notes);
    const after = new LinkResolver(notes.map((p) => moves.get(p) ?? p));
    // Images and other files move with their folder; markdown links to them follow.
    const movedFiles = new Map(isFolder ? this.otherFiles(absFrom, from).map((p) => [p, to + p.slice(from.length)]) : []);
    const fileExists = (p: string): boolean => this.isOtherFile(p);
    mkdirSync(dirname(absTo), { recursive: true });
    renameSync(absFrom, absTo);
    // A folder's sidecars moved with it; a note's is beside it and moves now.
    if (!isFolder) moveCards(absFrom, absTo);
    for (const [oldPath, newPath] of moves) {
      this.seen.delete(oldPath);
      this.index.remove(oldPath);
      this.history.move(oldPath, newPath);
    }
    const updated: string[] = [];
    for (const oldPath of notes) {
      const p = moves.get(oldPath) ?? oldPath;
      const note = this.tryRead(p);
      if (!note) continue;
      this.remember(p, note.hash);
      const rewritten = rewriteMarkdownLinks(rewriteWikilinks(note.text, moves, before, after), { oldPath, newPath: p, moves, before, after, movedFiles, fileExists });
      if (rewritten !== note.text) {
        this.save(p, rewritten, note.hash);
        updated.push(p);
      } else if ([...moves.values()].includes(p)) {
        this.index.upsert(p, note.text, note.hash);
      }
    }
    return { path: to, moved: [...moves].map(([f, t]) => ({ from: f, to: t })), updated };
  }

  /**
   * Move a note or folder to `.trash/` (Obsidian's vault trash), keeping its folders, and remember
   * where it came from; returns where it went. Its notes' history moves with it (so a new note
   * created in its place starts a history of its own) and comes back with a restore.
   */
  trash(path: string): string {
    const abs = resolveInVault(this.root, path);
    if (!existsSync(abs)) throw new VaultError('not_found', path, 'no such note or folder');
    const gone = this.noteFiles()
      .map((f) => f.path)
      .filter((p) => p === path || p.startsWith(`${path}/`));
    const id = this.bin.targetFor(path);
    const dest = join(this.bin.dir, id);
    mkdirSync(dirname(dest), { recursive: true });
    renameSync(abs, dest);
    // A trashed note takes its sidecar along; a trashed folder holds its notes' sidecars already.
    if (gone.includes(path)) moveCards(abs, dest);
    this.bin.record(id, path);
    for (const p of gone) {
      this.seen.delete(p);
      this.index.remove(p);
      this.history.move(p, trashKey(id + p.slice(path.length)));
    }
    return `${TRASH_FOLDER}/${id}`;
  }

  trashList(): TrashEntry[] {
    return this.bin.list();
  }

  /**
   * Put a trash entry back where it was. When something lives there now the restore is refused
   * (VaultError 'exists', naming the path and a free name), unless `freeName`: then it comes back
   * beside it as "Note (restored).md" ("Folder (restored)").
   */
  restoreFromTrash(id: string, freeName = false): { id: string; path: string; moved: { from: string; to: string }[] } {
    const entry = this.bin.entry(id);
    let to = entry.path;
    // An empty folder left where a trashed folder was (its notes all moved or trashed) is no obstacle.
    const absOriginal = resolveInVault(this.root, to);
    if (entry.kind === 'folder' && existsSync(absOriginal) && lstatSync(absOriginal).isDirectory() && readdirSync(absOriginal).length === 0) rmSync(absOriginal, { recursive: true });
    if (existsSync(absOriginal)) {
      const free = this.freeName(to);
      if (!freeName) throw new VaultError('exists', to, `something now lives there; restore the trashed ${entry.kind} as "${free}" instead`);
      to = free;
    }
    if (entry.kind === 'note') checkNotePath(to);
    const absTo = resolveInVault(this.root, to);
    const notes = this.bin.notesIn(id);
    mkdirSync(dirname(absTo), { recursive: true });
    renameSync(join(this.bin.dir, id), absTo);
    // A note's margin-note sidecar sits beside it in the trash and comes back with it.
    if (entry.kind === 'note') moveCards(join(this.bin.dir, id), absTo);
    this.bin.forget([id]);
    const moved = notes.map((n) => ({ from: entry.path + n.id.slice(id.length), to: to + n.id.slice(id.length) }));
    for (const [i, n] of notes.entries()) {
      const p = moved[i].to;
      this.history.move(trashKey(n.id), p);
      const note = this.tryRead(p);
      if (note) {
        this.remember(p, note.hash);
        this.index.upsert(p, note.text, note.hash);
      }
    }
    return { id, path: to, moved };
  }

  /** Delete a trash entry for good, with its notes' history; returns the ids deleted. */
  deleteFromTrash(id: string): string[] {
    this.bin.entry(id);
    const notes = this.bin.notesIn(id);
    rmSync(join(this.bin.dir, id), { recursive: true, force: true });
    rmSync(cardsPathOf(join(this.bin.dir, id)), { force: true });
    for (const n of notes) this.history.remove(trashKey(n.id));
    this.bin.forget([id]);
    return [id];
  }

  emptyTrash(): string[] {
    return this.bin.list().flatMap((e) => this.deleteFromTrash(e.id));
  }

  versions(path: string): HistoryVersion[] {
    checkNotePath(path);
    return this.history.list(path);
  }

  version(path: string, id: string): string {
    checkNotePath(path);
    return this.history.read(path, id);
  }

  /** Put a saved version back as the note's text (itself a new version, so the restore can be undone). */
  restore(path: string, id: string, baseHash: string | null): Note {
    const text = this.version(path, id);
    const { hash } = this.save(path, text, baseHash, 'restore');
    return { path, text, hash };
  }

  /** The margin-note cards kept beside the note (src/vault/note-cards.ts). */
  cards(path: string): NoteCards {
    const abs = this.notePath(path);
    // Only a note that exists (a regular file) has cards: the same refusals as reading it.
    this.readBytes(path, abs);
    return readCards(path, abs);
  }

  saveCards(path: string, cards: NoteCards): void {
    const abs = this.notePath(path);
    this.readBytes(path, abs);
    writeCards(path, abs, cards);
  }

  search(query: string, limit?: number): SearchHit[] {
    return this.index.search(query, limit);
  }

  settings(): Settings {
    return readSettings(this.settingsFile);
  }

  saveSettings(settings: Settings): void {
    writeSettings(this.settingsFile, settings);
  }

  /** Whether this app wrote, read or already announced this version of `path` (a watcher event for it is no news). */
  hasSeen(path: string, hash: string): boolean {
    return this.seen.get(path)?.includes(hash) ?? false;
  }

  /**
   * The note as it is now on disk when another program changed or created it, after recording that
   * version in its history and the search index; undefined when it is a version this app already has.
   */
  changedOnDisk(path: string): Note | undefined {
    const note = this.tryRead(path);
    if (!note || this.hasSeen(path, note.hash)) return undefined;
    this.remember(path, note.hash);
    this.history.record(path, note.text, 'disk');
    this.index.upsert(path, note.text, note.hash);
    return note;
  }

  /** Another program removed a note; true when this app had known it. */
  removedOnDisk(path: string): boolean {
    this.index.remove(path);
    return this.seen.delete(path);
  }

  close(): void {
    this.index.close();
  }

  /**
   * The note as it is on disk, or undefined when it cannot be read — without counting as this app's
   * read, so an index reading behind the page's back never hides another program's change from the watcher.
   */
  peek(path: string): Note | undefined {
    return this.tryRead(path);
  }

  /** Every note (recursively, hidden folders and symlinked folders skipped) with what the index compares. */
  noteFiles(): IndexedFile[] {
    const out: IndexedFile[] = [];
    const walk = (abs: string, rel: string): void => {
      for (const e of this.entries(abs)) {
        const childAbs = join(abs, e.name);
        const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
        if (e.isDirectory()) walk(childAbs, childRel);
        else {
          const st = statSync(childAbs);
          out.push({ path: childRel, size: st.size, mtimeMs: st.mtimeMs });
        }
      }
    };
    walk(this.root, '');
    return out;
  }

  /** A folder's visible entries: folders (not symlinked ones, which could loop) and `.md` notes that stay inside the vault. */
  private entries(abs: string): { name: string; isDirectory(): boolean }[] {
    const out: { name: string; isDirectory(): boolean }[] = [];
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      if (e.isDirectory()) out.push(e);
      else if (e.name.toLowerCase().endsWith(NOTE_EXTENSION) && e.name.length > NOTE_EXTENSION.length) {
        if (e.isFile()) out.push(e);
        else if (e.isSymbolicLink() && this.linksInside(join(abs, e.name))) out.push({ name: e.name, isDirectory: () => false });
      }
    }
    return out;
  }

  private linksInside(abs: string): boolean {
    try {
      return isInside(this.root, realpathSync(abs)) && statSync(abs).isFile();
    } catch {
      return false;
    }
  }

  /** Files other than notes under the folder `rel` (at `abs`), hidden ones and symlinks left out. */
  private otherFiles(abs: string, rel: string): string[] {
    const out: string[] = [];
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      if (e.isDirectory()) out.push(...this.otherFiles(join(abs, e.name), `${rel}/${e.name}`));
      else if (e.isFile() && !e.name.toLowerCase().endsWith(NOTE_EXTENSION)) out.push(`${rel}/${e.name}`);
    }
    return out;
  }

  private isOtherFile(path: string): boolean {
    try {
      return statSync(resolveInVault(this.root, path)).isFile();
    } catch {
      return false;
    }
  }

  /** `path` with " (restored)", then " (restored 2)", ... added to its name until nothing lives there. */
  private freeName(path: string): string {
    const slash = path.lastIndexOf('/') + 1;
    for (let n = 1; ; n++) {
      const candidate = path.slice(0, slash) + numbered(path.slice(slash), n === 1 ? ' (restored)' : ` (restored ${n})`);
      if (!existsSync(resolveInVault(this.root, candidate))) return candidate;
    }
  }

  private notePath(path: string): string {
    return resolveInVault(this.root, path, checkNotePath(path));
  }

  private readBytes(path: string, abs: string): Buffer {
    let st;
    try {
      st = statSync(abs);
    } catch {
      throw new VaultError('not_found', path, 'no such note');
    }
    // Only regular files: opening a FIFO or device would block or never end.
    if (!st.isFile()) throw new VaultError('not_found', path, lstatSync(abs).isDirectory() ? 'is a folder, not a note' : 'is not a regular file');
    this.checkSize(path, st.size);
    return readFileSync(abs);
  }

  private checkSize(path: string, bytes: number): void {
    if (bytes > this.maxNoteBytes) throw new VaultError('too_large', path, `is ${bytes} bytes; notes are limited to ${this.maxNoteBytes} bytes`);
  }

  private write(path: string, abs: string, text: string, hash: string): void {
    // Remembered before the rename lands, so the watcher's event for this write is recognised as ours.
    this.remember(path, hash);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileAtomic(abs, text);
    this.index.upsert(path, text, hash);
  }

  private remember(path: string, hash: string): void {
    const hashes = this.seen.get(path) ?? [];
    if (!hashes.includes(hash)) this.seen.set(path, [hash, ...hashes].slice(0, 4));
  }

  /** The note, or undefined when it cannot be read (gone, too large, not a file): such notes are left out of the index. */
  private tryRead(path: string): Note | undefined {
    try {
      const abs = this.notePath(path);
      const bytes = this.readBytes(path, abs);
      return { path, text: bytes.toString('utf8'), hash: textHash(bytes) };
    } catch {
      return undefined;
    }
  }
}

/** The key a trashed note's history is kept under: its place in the trash, which no note of the vault can have. */
function trashKey(trashId: string): string {
  return `${TRASH_FOLDER}/${trashId}`;
}
