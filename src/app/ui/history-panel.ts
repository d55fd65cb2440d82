/**
 * The open note's saved versions, newest first. Choosing one shows its text; "Restore" puts it
 * back as the note's text (the server keeps the current version too, so a restore can be undone).
 */
import type { HistoryVersion } from '../../vault/vault-api.js';
import { api } from '../api/vault-client.js';
import { h } from './dom.js';
import { size, when } from './format.js';
import type { PanelContent } from './side-panel.js';

const SOURCE_LABEL: Record<HistoryVersion['source'], string> = {
  save: 'saved',
  disk: 'as found on disk',
  restore: 'restored',
  conflict: 'your version in a conflict',
};

export class HistoryPanel implements PanelContent {
  readonly title = 'History';
  private first: HTMLElement | null = null;

  constructor(
    private readonly notePath: () => string | null,
    private readonly restore: (path: string, id: string) => Promise<void>,
  ) {}

  async render(): Promise<HTMLElement> {
    const path = this.notePath();
    this.first = null;
    if (!path) return h('p', { class: 'panel-empty' }, 'Open a note to see its saved versions.');
    const { versions } = await api.history(path);
    if (versions.length === 0) return h('p', { class: 'panel-empty' }, 'No saved versions yet. A version is kept each time you pause writing.');
    const preview = h('div', { class: 'history-preview', 'aria-live': 'polite' });
    const list = h('ul', { class: 'history-list', 'aria-label': 'Versions' });
    for (const v of versions) {
      const b = h('button', { type: 'button', class: 'history-item' }, h('span', { class: 'history-when' }, when(v.savedAt)), h('span', { class: 'history-what' }, `${SOURCE_LABEL[v.source]} · ${size(v.bytes)}`));
      b.addEventListener('click', () => void this.showVersion(path, v, preview, b));
      this.first ??= b;
      list.append(h('li', {}, b));
    }
    return h('div', { class: 'history-panel' }, list, preview);
  }

  initialFocus(): HTMLElement | null {
    return this.first;
  }

  private async showVersion(path: string, v: HistoryVersion, preview: HTMLElement, button: HTMLElement): Promise<void> {
    const { text } = await api.version(path, v.id);
    for (const b of button.closest('ul')?.querySelectorAll('button') ?? []) b.removeAttribute('aria-pressed');
    button.setAttribute('aria-pressed', 'true');
    const restore = h('button', { type: 'button', class: 'primary' }, 'Restore this version');
    restore.addEventListener('click', () => void this.restore(path, v.id));
    preview.replaceChildren(h('h3', {}, `Version of ${when(v.savedAt)}`), h('pre', { class: 'history-text', tabindex: '0', 'aria-label': 'Text of this version' }, text), restore);
  }
}
