/**
 * Search across the vault (SQLite FTS5 on the server): results follow typing (each word also
 * matches as a prefix), each with the note's name and a snippet whose matches are marked.
 * ↓ from the field moves into the results, ↑/↓ between them, Enter opens one.
 */
import { SNIPPET_MARK_END, SNIPPET_MARK_START, type SearchHit } from '../../vault/vault-api.js';
import { api } from '../api/vault-client.js';
import { h } from './dom.js';
import type { PanelContent } from './side-panel.js';

export class SearchPanel implements PanelContent {
  readonly title = 'Search notes';
  private input: HTMLInputElement | null = null;
  private query = '';
  private seq = 0;

  constructor(private readonly open: (path: string) => void) {}

  render(): HTMLElement {
    const input = h('input', { type: 'search', id: 'vault-search', 'aria-label': 'Search all notes', placeholder: 'Words to find…', autocomplete: 'off', value: this.query });
    const status = h('p', { class: 'search-status', role: 'status' });
    const results = h('ul', { class: 'search-results', 'aria-label': 'Results' });
    input.addEventListener('input', () => void this.run(input.value, results, status));
    input.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown') {
        results.querySelector<HTMLElement>('a')?.focus();
        e.preventDefault();
      }
    });
    results.addEventListener('keydown', (e) => {
      const links = [...results.querySelectorAll<HTMLElement>('a')];
      const i = links.indexOf(document.activeElement as HTMLElement);
      if (e.key === 'ArrowDown' && i >= 0) links[i + 1]?.focus();
      else if (e.key === 'ArrowUp' && i >= 0) (i === 0 ? input : links[i - 1]).focus();
      else return;
      e.preventDefault();
    });
    this.input = input;
    if (this.query) void this.run(this.query, results, status);
    return h('div', { class: 'search-panel', role: 'search' }, input, status, results);
  }

  initialFocus(): HTMLElement | null {
    this.input?.select();
    return this.input;
  }

  private async run(query: string, results: HTMLElement, status: HTMLElement): Promise<void> {
    this.query = query;
    const seq = ++this.seq;
    if (query.trim() === '') {
      results.replaceChildren();
      status.textContent = '';
      return;
    }
    const r = await api.search(query);
    if (seq !== this.seq) return;
    status.textContent = r.hits.length === 0 ? 'No notes match.' : `${r.hits.length} ${r.hits.length === 1 ? 'note' : 'notes'}`;
    results.replaceChildren(...r.hits.map((hit) => this.item(hit)));
  }

  private item(hit: SearchHit): HTMLElement {
    const a = h('a', { href: `/?note=${encodeURIComponent(hit.path)}`, class: 'search-hit' }, h('span', { class: 'search-hit-title' }, hit.title), h('span', { class: 'search-hit-snippet' }, ...snippetNodes(hit.snippet)));
    a.addEventListener('click', (e) => {
      e.preventDefault();
      this.open(hit.path);
    });
    return h('li', {}, a);
  }
}

/** The snippet as text nodes with <mark> around the matches (built as nodes: a note's text is never HTML here). */
function snippetNodes(snippet: string): Node[] {
  const out: Node[] = [];
  for (const [i, part] of snippet.split(SNIPPET_MARK_START).entries()) {
    if (i === 0) {
      out.push(document.createTextNode(part));
      continue;
    }
    const [marked, rest = ''] = part.split(SNIPPET_MARK_END);
    out.push(h('mark', {}, marked), document.createTextNode(rest));
  }
  return out;
}
