/**
 * The vault's related-notes index: each note's SAE feature profile (feature-profile.ts), kept in
 * `.tinymorph/related-notes.json` with the note's hash, size and mtime. It is brought up to date
 * whenever it is asked (notes whose size or mtime changed are read again, and profiled again if
 * their text changed — so a save, or another program's edit the watcher saw, is reflected at the
 * next question) and in the background after the watcher reports a change. A new vault is profiled
 * in batches, with progress, and the file is written after each batch so a restart resumes. The
 * model runs on the analysis thread (through `profile`), never in the way of suggestions.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FeatureProfile } from '../../sae/feature-index/feature-profile.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { APP_FOLDER, type Vault } from '../../vault/vault.js';
import { rankWeighted, vaultIdf, weighProfile, type Idf, type NoteProfile, type RelatedNote, type WeightedProfile } from './related-ranking.js';

export type ProfileTexts = (texts: string[], onProgress: (done: number) => void) => Promise<FeatureProfile[]>;

interface Entry extends NoteProfile {
  hash: string;
  size: number;
  mtimeMs: number;
}

interface IndexFile {
  version: 1;
  /** What made the profiles (the SAE's folder): profiles from another SAE are not comparable. */
  sae: string;
  notes: Record<string, Entry>;
}

export interface IndexProgress {
  done: number;
  total: number;
}

/** Notes profiled per analysis job: small enough that progress moves and other analysis jobs get a turn. */
const NOTES_PER_JOB = 16;

export class RelatedNotesIndex {
  private readonly file: string;
  private entries = new Map<string, Entry>();
  private running: Promise<void> | undefined;
  private again = false;
  private progressNow: IndexProgress | null = null;
  /** The profiles weighed for ranking, made again after the profiles change. */
  private weighted: Map<string, WeightedProfile> | undefined;

  constructor(
    private readonly vault: Vault,
    private readonly sae: string,
    private readonly profile: ProfileTexts,
    /** The SAE's corpus idf (related-ranking.ts); without one, the vault's own document frequencies. */
    private readonly idf?: Idf,
  ) {
    this.file = join(vault.root, APP_FOLDER, 'related-notes.json');
    this.load();
  }

  /** Notes profiled so far of those that need it, while an update runs; null when none runs. */
  get progress(): IndexProgress | null {
    return this.progressNow;
  }

  /** Brings the index up to date; one update runs at a time, and a call during one runs another after it. */
  update(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = (async () => {
      do {
        this.again = false;
        await this.updateOnce();
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
      this.progressNow = null;
    });
    this.running = run;
    return run;
  }

  /** The notes related to `path` by the profiles indexed now. */
  related(path: string, limit: number): RelatedNote[] {
    if (!this.weighted) {
      const idf = this.idf ?? vaultIdf(this.entries.values());
      this.weighted = new Map([...this.entries].map(([p, e]) => [p, weighProfile(e, idf)]));
    }
    return rankWeighted(path, this.weighted, limit);
  }

  private async updateOnce(): Promise<void> {
    const files = this.vault.noteFiles();
    const onDisk = new Set(files.map((f) => f.path));
    let changed = false;
    // A note renamed or moved keeps its profile: found again by its hash among the notes gone.
    const gone = new Map<string, Entry>();
    for (const [p, e] of [...this.entries]) {
      if (onDisk.has(p)) continue;
      gone.set(e.hash, e);
      changed = this.entries.delete(p);
    }
    const todo: { path: string; text: string; hash: string; size: number; mtimeMs: number }[] = [];
    for (const f of files) {
      const e = this.entries.get(f.path);
      if (e && e.size === f.size && e.mtimeMs === f.mtimeMs) continue;
      const note = this.vault.peek(f.path);
      if (!note) continue;
      const same = e?.hash === note.hash ? e : gone.get(note.hash);
      if (same) {
        this.entries.set(f.path, { ...same, size: f.size, mtimeMs: f.mtimeMs });
        changed = true;
      } else todo.push({ path: f.path, text: note.text, hash: note.hash, size: f.size, mtimeMs: f.mtimeMs });
    }
    this.progressNow = { done: 0, total: todo.length };
    for (let from = 0; from < todo.length; from += NOTES_PER_JOB) {
      const batch = todo.slice(from, from + NOTES_PER_JOB);
      const profiles = await this.profile(
        batch.map((n) => n.text),
        (done) => (this.progressNow = { done: from + done, total: todo.length }),
      );
      batch.forEach((n, i) => this.entries.set(n.path, { hash: n.hash, size: n.size, mtimeMs: n.mtimeMs, features: profiles[i].features.map((f) => [f.feature, round(f.mean)] as const) }));
      this.progressNow = { done: from + batch.length, total: todo.length };
      this.save();
      changed = false;
    }
    if (changed) this.save();
  }

  private load(): void {
    if (!existsSync(this.file)) return;
    try {
      const f = JSON.parse(readFileSync(this.file, 'utf8')) as IndexFile;
      // Another SAE's (or a damaged file's) profiles are rebuilt rather than compared.
      if (f.version === 1 && f.sae === this.sae && typeof f.notes === 'object') this.entries = new Map(Object.entries(f.notes).filter(([, e]) => validEntry(e)));
    } catch {
      this.entries = new Map();
    }
  }

  /** Every change to the profiles is saved: the weighed copy is made again on the next question. */
  private save(): void {
    this.weighted = undefined;
    const f: IndexFile = { version: 1, sae: this.sae, notes: Object.fromEntries(this.entries) };
    writeFileAtomic(this.file, JSON.stringify(f));
  }
}

/** Four significant digits: the ranking does not need more, and the file stays a fraction of the size. */
const round = (x: number): number => Number(x.toPrecision(4));

function validEntry(e: Entry): boolean {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.hash === 'string' &&
    typeof e.size === 'number' &&
    typeof e.mtimeMs === 'number' &&
    Array.isArray(e.features) &&
    e.features.every((f) => Array.isArray(f) && f.length === 2 && Number.isInteger(f[0]) && Number.isFinite(f[1]))
  );
}
