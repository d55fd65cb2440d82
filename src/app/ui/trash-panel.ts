/**
 * The vault's trash: what was deleted, where it was and when, newest first. "Restore" puts an entry
 * back where it was (or, when something lives there now and the writer agrees, beside it under a
 * free name); deleting one for good, or emptying the trash, asks first, since it cannot be undone.
 */
import type { TrashEntry } from '../../vault/vault-api.js';
import { api, ApiError } from '../api/vault-client.js';
import { confirmAction } from './dialogs.js';
import { h } from './dom.js';
import { size, when } from './format.js';
import type { PanelContent } from './side-panel.js';

export interface TrashActions {
  /** An entry came back as `path` (a note or a folder): show it to the writer. */
  restored(path: string, kind: TrashEntry['kind']): Promise<void>;
  /** Draw the panel again (after a restore or a delete). */
  refresh(): void;
  announce(message: string): void;
}

export class TrashPanel implements PanelContent {
  readonly title = 'Trash';
  private first: HTMLElement | null = null;

  constructor(private readonly actions: TrashActions) {}

  async render(): Promise<HTMLElement> {
    const { entries } = await api.trashList();
    this.first = null;
    if (entries.length === 0) return h('p', { class: 'panel-empty' }, 'The trash is empty. Notes and folders you delete wait here until you empty it.');
    const list = h('ul', { class: 'trash-list', 'aria-label': 'Deleted notes and folders' });
    for (const e of entries) {
      // Notes by name, as the tree shows them ("Ideas/First draft", not "Ideas/First draft.md").
      const name = e.kind === 'note' ? e.path.replace(/\.md$/i, '') : e.path;
      const restore = h('button', { type: 'button', class: 'trash-restore', 'aria-label': `Restore ${name}` }, 'Restore');
      const remove = h('button', { type: 'button', class: 'quiet trash-delete', 'aria-label': `Delete ${name} for good` }, 'Delete…');
      restore.addEventListener('click', () => void this.restore(e, name));
      remove.addEventListener('click', () => void this.remove(e));
      this.first ??= restore;
      const what = e.kind === 'folder' ? `folder · ${e.notes} ${e.notes === 1 ? 'note' : 'notes'} · ${size(e.bytes)}` : size(e.bytes);
      list.append(
        h(
          'li',
          { class: 'trash-item' },
          h('span', { class: 'trash-path' }, name),
          h('span', { class: 'trash-what' }, `${when(e.trashedAt)} · ${what}`),
          h('span', { class: 'trash-buttons' }, restore, remove),
        ),
      );
    }
    const empty = h('button', { type: 'button', class: 'trash-empty' }, 'Empty trash…');
    empty.addEventListener('click', () => void this.empty(entries.length));
    return h('div', { class: 'trash-panel' }, list, empty);
  }

  initialFocus(): HTMLElement | null {
    return this.first;
  }

  private async restore(e: TrashEntry, name: string): Promise<void> {
    try {
      const r = await api.trashRestore(e.id).catch(async (err: unknown) => {
        if (!(err instanceof ApiError && err.status === 409)) throw err;
        const ok = await confirmAction({
          title: `“${name}” is taken`,
          message: `Another ${e.kind} now lives where this one was. Restore it beside that one, with “(restored)” added to its name?`,
          okLabel: 'Restore beside it',
        });
        return ok ? api.trashRestore(e.id, true) : null;
      });
      if (!r) return this.actions.refresh();
      await this.actions.restored(r.path, e.kind);
      this.actions.announce(`Restored as “${r.path.replace(/\.md$/i, '')}”.`);
    } catch (err) {
      this.actions.announce(err instanceof ApiError ? err.message : String(err));
    }
    this.actions.refresh();
  }

  private async remove(e: TrashEntry): Promise<void> {
    const what = e.kind === 'folder' ? `The folder “${e.path}”, its ${e.notes === 1 ? 'note' : `${e.notes} notes`} and their saved versions` : `“${e.path}” and its saved versions`;
    const ok = await confirmAction({ title: 'Delete for good?', message: `${what} will be deleted from disk. This cannot be undone.`, okLabel: 'Delete for good', destructive: true });
    if (ok) await this.run(() => api.trashDelete(e.id), `Deleted “${e.path}” for good.`);
    this.actions.refresh();
  }

  private async empty(count: number): Promise<void> {
    const ok = await confirmAction({
      title: 'Empty the trash?',
      message: `${count === 1 ? 'The one item' : `All ${count} items`} in the trash and their saved versions will be deleted from disk. This cannot be undone.`,
      okLabel: 'Empty trash',
      destructive: true,
    });
    if (ok) await this.run(() => api.trashEmpty(), 'The trash is empty.');
    this.actions.refresh();
  }

  private async run(call: () => Promise<unknown>, done: string): Promise<void> {
    try {
      await call();
      this.actions.announce(done);
    } catch (err) {
      this.actions.announce(err instanceof ApiError ? err.message : String(err));
    }
  }
}
