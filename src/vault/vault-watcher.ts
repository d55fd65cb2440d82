/**
 * Notices changes other programs make to the vault (chokidar) and tells subscribers. A change is
 * judged by content hash, never by mtime, and versions this app wrote or has already announced are
 * no news (Vault.changedOnDisk), so the writer is never asked about the app's own saves.
 */
import { relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { VaultEvent } from './vault-api.js';
import type { Vault } from './vault.js';
import { NOTE_EXTENSION } from './note-names.js';

export type VaultEventListener = (event: VaultEvent) => void;

export class VaultWatcher {
  private readonly listeners = new Set<VaultEventListener>();

  private constructor(
    private readonly vault: Vault,
    private readonly watcher: FSWatcher,
  ) {
    watcher.on('all', (kind, abs) => this.handle(kind, abs));
  }

  /** Start watching `vault`; resolves once the initial scan is done, so later changes are all reported. */
  static async start(vault: Vault): Promise<VaultWatcher> {
    const watcher = watch(vault.root, {
      ignoreInitial: true,
      // The app's own folders (.tinymorph, .trash), version control and editors' temp files.
      ignored: (abs: string) => relative(vault.root, abs).split(sep).some((s) => s.startsWith('.')),
      // A program that writes in place (no rename) would otherwise be seen half-way through.
      awaitWriteFinish: { stabilityThreshold: 120, pollInterval: 40 },
    });
    await new Promise<void>((resolve, reject) => {
      watcher.once('ready', resolve);
      watcher.once('error', reject);
    });
    return new VaultWatcher(vault, watcher);
  }

  /** Call `listener` for every change; returns the unsubscribe function. */
  subscribe(listener: VaultEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.watcher.close();
  }

  private handle(kind: string, abs: string): void {
    const path = relative(this.vault.root, abs).split(sep).join('/');
    const isNote = path.toLowerCase().endsWith(NOTE_EXTENSION);
    if (kind === 'addDir' || kind === 'unlinkDir') this.emit({ type: 'tree' });
    if (!isNote) return;
    if (kind === 'add' || kind === 'change') {
      const note = this.vault.changedOnDisk(path);
      if (!note) return;
      if (kind === 'add') this.emit({ type: 'tree' });
      this.emit({ type: 'changed', path, hash: note.hash });
    } else if (kind === 'unlink') {
      if (this.vault.removedOnDisk(path)) this.emit({ type: 'removed', path });
      this.emit({ type: 'tree' });
    }
  }

  private emit(event: VaultEvent): void {
    for (const l of this.listeners) l(event);
  }
}
