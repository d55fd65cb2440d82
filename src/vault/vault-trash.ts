/**
 * The vault's `.trash/` folder (Obsidian's vault trash): what was trashed keeps its folders there,
 * and a manifest in `.tinymorph/trash.json` remembers, for each trashed note or folder, where it
 * came from and when. Items another program put in `.trash/` (Obsidian, a file manager) have no
 * manifest entry: each of their notes is listed on its own, its original place read from its path
 * inside `.trash/` and its time from the file's ctime (which a move into the trash sets).
 *
 * Entries never nest: a note trashed from a folder that is itself already in the trash goes to a
 * numbered copy of the top folder ("F 2/note.md"), so restoring one entry never brings back another.
 * This class knows names and the manifest only; moving notes, their history and the search index
 * is the Vault's job.
 */
import { existsSync, lstatSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { VaultError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { TrashEntry } from './vault-api.js';
import { NOTE_EXTENSION } from './note-names.js';
import { isInside, pathSegments } from './vault-path.js';

export const TRASH_FOLDER = '.trash';

const Manifest = z.record(z.string(), z.object({ from: z.string(), trashedAt: z.number() }));
type Manifest = z.infer<typeof Manifest>;

export class VaultTrash {
  readonly dir: string;

  constructor(
    private readonly root: string,
    private readonly manifestFile: string,
  ) {
    this.dir = join(root, TRASH_FOLDER);
  }

  /** Where trashing `path` puts it, as an id (its path inside `.trash/`): free, and neither inside nor around another entry. */
  targetFor(path: string): string {
    const ids = this.list().map((e) => e.id);
    const segments = path.split('/');
    const nested = ids.some((id) => path.startsWith(`${id}/`));
    // The top folder takes the number when an entry already holds this path; otherwise the name itself does.
    const at = nested ? 0 : segments.length - 1;
    const candidate = (n: number): string => segments.map((s, i) => (i === at && n > 1 ? numbered(s, ` ${n}`) : s)).join('/');
    const taken = (id: string): boolean => existsSync(join(this.dir, id)) || ids.some((e) => e === id || id.startsWith(`${e}/`) || e.startsWith(`${id}/`));
    let n = 1;
    while (taken(candidate(n))) n++;
    return candidate(n);
  }

  record(id: string, from: string, trashedAt = Date.now()): void {
    this.writeManifest({ ...this.readManifest(), [id]: { from, trashedAt } });
  }

  forget(ids: string[]): void {
    const m = this.readManifest();
    for (const id of ids) delete m[id];
    this.writeManifest(m);
  }

  /** Everything in the trash, newest first. */
  list(): TrashEntry[] {
    if (!existsSync(this.dir)) return [];
    this.checkFolder();
    const manifest = this.readManifest();
    const entries: TrashEntry[] = [];
    for (const [id, m] of Object.entries(manifest)) {
      const abs = join(this.dir, id);
      if (!existsSync(abs)) continue;
      const notes = this.notesIn(id);
      entries.push({ id, path: m.from, trashedAt: m.trashedAt, kind: statSync(abs).isDirectory() ? 'folder' : 'note', notes: notes.length, bytes: sum(notes.map((n) => n.bytes)) });
    }
    const ids = entries.map((e) => e.id);
    for (const n of this.notesIn('')) {
      if (ids.some((id) => n.id === id || n.id.startsWith(`${id}/`))) continue;
      entries.push({ id: n.id, path: n.id, trashedAt: statSync(join(this.dir, n.id)).ctimeMs, kind: 'note', notes: 1, bytes: n.bytes });
    }
    return entries.sort((a, b) => b.trashedAt - a.trashedAt || a.id.localeCompare(b.id));
  }

  /** The entry `id` names, or a VaultError('not_found') naming it. */
  entry(id: string): TrashEntry {
    pathSegments(id);
    const e = this.list().find((x) => x.id === id);
    if (!e) throw new VaultError('not_found', id, 'is not in the trash');
    return e;
  }

  /** Notes under `id` (a note or a folder inside `.trash/`), as paths relative to `.trash/`; symlinks are skipped. */
  notesIn(id: string): { id: string; bytes: number }[] {
    const out: { id: string; bytes: number }[] = [];
    const walk = (rel: string): void => {
      const abs = rel === '' ? this.dir : join(this.dir, rel);
      const st = lstatSync(abs);
      if (st.isDirectory()) {
        for (const name of readdirSync(abs).sort()) if (!name.startsWith('.')) walk(rel === '' ? name : `${rel}/${name}`);
      } else if (st.isFile() && rel.toLowerCase().endsWith(NOTE_EXTENSION)) out.push({ id: rel, bytes: st.size });
    };
    walk(id);
    return out;
  }

  /** `.trash` itself must be a plain folder of this vault, never a link out of it. */
  private checkFolder(): void {
    if (lstatSync(this.dir).isSymbolicLink() && !isInside(this.root, realpathSync(this.dir))) throw new VaultError('outside_vault', TRASH_FOLDER, 'is a symlink that leads out of the vault');
  }

  private readManifest(): Manifest {
    if (!existsSync(this.manifestFile)) return {};
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(this.manifestFile, 'utf8'));
    } catch (e) {
      throw new VaultError('bad_file', this.manifestFile, `is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    const r = Manifest.safeParse(json);
    if (!r.success) throw new VaultError('bad_file', this.manifestFile, `${r.error.issues[0].path.join('.') || '(top level)'}: ${r.error.issues[0].message}`);
    return r.data;
  }

  /** Written without the entries whose files are gone (emptied by another program, or Obsidian). */
  private writeManifest(m: Manifest): void {
    const kept = Object.fromEntries(Object.entries(m).filter(([id]) => existsSync(join(this.dir, id))));
    writeFileAtomic(this.manifestFile, `${JSON.stringify(kept, null, 2)}\n`);
  }
}

/** `name` with `suffix` before its `.md` (notes) or at its end (folders): "Note.md" → "Note 2.md". */
export function numbered(name: string, suffix: string): string {
  const dot = name.toLowerCase().endsWith(NOTE_EXTENSION) && name.length > NOTE_EXTENSION.length ? name.length - NOTE_EXTENSION.length : name.length;
  return `${name.slice(0, dot)}${suffix}${name.slice(dot)}`;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
