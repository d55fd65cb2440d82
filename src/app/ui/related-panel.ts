/**
 * Related notes: for the open note, the notes that share its strongest SAE features (the vault's
 * related-notes index on the server), best first, each with the features they share named. While a
 * new vault's notes are being read the panel shows how far that has got, and fills in when done.
 */
import type { RelatedNotes } from '../../vault/related-notes-api.js';
import { relatedWhenReady } from '../api/related-client.js';
import { ApiError } from '../api/vault-client.js';
import { h } from './dom.js';
import type { PanelContent } from './side-panel.js';

/** "Ideas/First draft.md" → ["First draft", "Ideas"]. */
function nameAndFolder(path: string): [string, string] {
  const parts = path.replace(/\.md$/i, '').split('/');
  return [parts.pop() ?? path, parts.join('/')];
}

export class RelatedPanel implements PanelContent {
  readonly title = 'Related notes';
  private first: HTMLElement | null = null;
  private abort: AbortController | undefined;

  constructor(
    private readonly notePath: () => string | null,
    private readonly open: (path: string) => void,
  ) {}

  render(): HTMLElement {
    this.abort?.abort();
    this.first = null;
    const path = this.notePath();
    if (!path) return h('p', { class: 'panel-empty' }, 'Open a note to see the notes related to it.');
    const status = h('p', { class: 'related-status', role: 'status' }, 'Finding related notes…');
    const bar = h('progress', { class: 'related-progress', 'aria-label': 'Notes read', hidden: true });
    const list = h('ul', { class: 'related-list', 'aria-label': `Notes related to ${nameAndFolder(path)[0]}` });
    const abort = (this.abort = new AbortController());
    const progress = (r: RelatedNotes | null): void => {
      // The panel was closed or shows another note: stop asking.
      if (!list.isConnected) abort.abort();
      else this.showProgress(r, status, bar);
    };
    void relatedWhenReady(path, progress, abort.signal)
      .then((r) => {
        bar.hidden = true;
        this.showList(r, status, list);
      })
      .catch((e: unknown) => {
        if (abort.signal.aborted) return;
        bar.hidden = true;
        status.textContent = e instanceof ApiError ? e.message : String(e);
      });
    return h(
      'div',
      { class: 'related-panel' },
      h('p', { class: 'related-intro' }, 'Notes that share the features the model sees in this one.'),
      status,
      bar,
      list,
    );
  }

  initialFocus(): HTMLElement | null {
    return this.first;
  }

  private showProgress(r: RelatedNotes | null, status: HTMLElement, bar: HTMLProgressElement): void {
    if (!r?.building) {
      status.textContent = 'Waiting for the model to load…';
      return;
    }
    const { done, total } = r.building;
    status.textContent = `Reading your notes for their features: ${done} of ${total}`;
    bar.max = Math.max(total, 1);
    bar.value = done;
    bar.hidden = false;
  }

  private showList(r: RelatedNotes, status: HTMLElement, list: HTMLElement): void {
    status.textContent = r.notes.length === 0 ? 'No other note shares its features yet.' : `${r.notes.length} related ${r.notes.length === 1 ? 'note' : 'notes'}`;
    list.replaceChildren(
      ...r.notes.map((n) => {
        const [name, folder] = nameAndFolder(n.path);
        const a = h(
          'a',
          { href: `/?note=${encodeURIComponent(n.path)}`, class: 'related-note' },
          h('span', { class: 'related-title' }, name),
          folder ? h('span', { class: 'related-folder' }, folder) : null,
          h('span', { class: 'visually-hidden' }, `, ${Math.round(n.score * 100)}% alike. Shares: ${n.shared.map((f) => f.label).join('; ')}`),
        );
        a.addEventListener('click', (e) => {
          e.preventDefault();
          this.open(n.path);
        });
        const shared = h('ul', { class: 'related-shared', 'aria-hidden': 'true' }, ...n.shared.map((f) => h('li', { title: `feature ${f.feature} of ${r.source}` }, f.label || `feature ${f.feature}`)));
        return h('li', {}, a, shared);
      }),
    );
    // Focus moves into the list only if the writer has not gone elsewhere meanwhile.
    const firstLink = list.querySelector<HTMLElement>('a');
    this.first = firstLink;
    if (firstLink && list.closest('#panel')?.contains(document.activeElement) && document.activeElement?.id === 'panel-title') firstLink.focus();
  }
}
