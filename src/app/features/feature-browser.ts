/**
 * The feature browser, in the side panel: search the SAE's features by words (their labels, the
 * tokens they promote, the contexts they fire on), open one's dashboard, rename it, steer with it,
 * and walk to its nearest features. ↓ from the field moves into the results, ↑/↓ between them.
 */
import { ApiError } from '../api/vault-client.js';
import { DEFAULT_FEATURE_STRENGTH } from '../steer/steering-controller.js';
import { h } from '../ui/dom.js';
import type { PanelContent } from '../ui/side-panel.js';
import { dashboardView, featureTitle, formatDensity } from './feature-dashboard-view.js';
import { features, type Dashboard, type FeatureHit } from './features-client.js';

export interface FeatureBrowserHost {
  announce(message: string): void;
  /** Resolves to false when the feature was steered already. */
  steerWith(f: { source: string; index: number; label: string }): Promise<boolean>;
}

const SLOW_SEARCH_MS = 1500;

type View = { kind: 'search' } | { kind: 'feature'; source: string; index: number };

export class FeatureBrowser implements PanelContent {
  readonly title = 'Features';
  private readonly root = h('div', { class: 'feature-browser' });
  private view: View = { kind: 'search' };
  private query = '';
  private seq = 0;
  private focusTarget: HTMLElement | null = null;

  constructor(private readonly host: FeatureBrowserHost) {}

  async render(): Promise<HTMLElement> {
    if (this.view.kind === 'feature') await this.showFeature(this.view.source, this.view.index);
    else this.showSearch();
    return this.root;
  }

  initialFocus(): HTMLElement | null {
    return this.focusTarget;
  }

  /** Show the dashboard of `index` (the panel itself is opened by the caller). */
  openFeature(source: string, index: number): void {
    this.view = { kind: 'feature', source, index };
  }

  private showSearch(): void {
    this.view = { kind: 'search' };
    const input = h('input', { type: 'search', id: 'feature-search', 'aria-label': 'Search features', placeholder: 'Words, e.g. happy, dog, said…', autocomplete: 'off', value: this.query });
    const status = h('p', { class: 'search-status', role: 'status' });
    const results = h('ul', { class: 'search-results', 'aria-label': 'Features found' });
    input.addEventListener('input', () => void this.search(input.value, results, status));
    input.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown') {
        results.querySelector<HTMLElement>('button')?.focus();
        e.preventDefault();
      }
    });
    results.addEventListener('keydown', (e) => {
      const items = [...results.querySelectorAll<HTMLElement>('button')];
      const i = items.indexOf(document.activeElement as HTMLElement);
      if (e.key === 'ArrowDown' && i >= 0) items[i + 1]?.focus();
      else if (e.key === 'ArrowUp' && i >= 0) (i === 0 ? input : items[i - 1]).focus();
      else return;
      e.preventDefault();
    });
    const hint = h('p', { class: 'setting-hint' }, 'Features are the patterns the model has learned. Find them by a word they fire on or make more likely.');
    this.root.replaceChildren(h('div', { class: 'search-panel', role: 'search' }, input, hint, status, results));
    this.focusTarget = input;
    if (this.query) void this.search(this.query, results, status);
  }

  private async search(query: string, results: HTMLElement, status: HTMLElement): Promise<void> {
    this.query = query;
    const seq = ++this.seq;
    if (!/[\p{L}\p{N}_]/u.test(query)) {
      results.replaceChildren();
      status.textContent = '';
      return;
    }
    status.textContent = 'Searching…';
    // The first search of an SAE waits while its feature index is built (a few seconds on the shipped one).
    const slow = setTimeout(() => {
      if (seq === this.seq) status.textContent = 'Searching… the first search builds the feature index, which takes a little while.';
    }, SLOW_SEARCH_MS);
    try {
      const hits = await features.search(query);
      if (seq !== this.seq) return;
      status.textContent = hits.length === 0 ? 'No features match.' : `${hits.length} ${hits.length === 1 ? 'feature' : 'features'}`;
      results.replaceChildren(...hits.map((hit) => this.item(hit)));
    } catch (e) {
      if (seq === this.seq) status.textContent = message(e);
    } finally {
      clearTimeout(slow);
    }
  }

  private item(hit: FeatureHit): HTMLElement {
    const b = h('button', { type: 'button', class: 'search-hit feature-hit' }, h('span', { class: 'search-hit-title' }, featureTitle(hit.index, hit.label)), h('span', { class: 'search-hit-snippet' }, `fires on ${formatDensity(hit.density)} of tokens`));
    b.addEventListener('click', () => void this.go(hit.source, hit.index));
    return h('li', {}, b);
  }

  private async go(source: string, index: number): Promise<void> {
    await this.showFeature(source, index);
    this.focusTarget?.focus();
  }

  private async showFeature(source: string, index: number): Promise<void> {
    this.view = { kind: 'feature', source, index };
    // A newer search or dashboard (a second click while this one loads) wins.
    const seq = ++this.seq;
    let d: Dashboard;
    try {
      d = await features.dashboard(source, index);
    } catch (e) {
      this.host.announce(message(e));
      if (seq === this.seq) this.showSearch();
      return;
    }
    if (seq !== this.seq) return;
    const view = dashboardView(d, {
      back: () => {
        this.showSearch();
        this.focusTarget?.focus();
      },
      saveLabel: async (label) => {
        try {
          const saved = await features.setLabel(source, index, label);
          d.label = saved.label;
          d.labelSource = saved.labelSource;
          view.querySelector('#fd-title')!.textContent = featureTitle(index, saved.label);
          this.host.announce(`Label saved: ${saved.label}`);
        } catch (e) {
          this.host.announce(message(e));
        }
      },
      steer: () =>
        this.host.steerWith({ source, index, label: d.label }).then(
          (added) => (added ? `Added to the steering at strength ${DEFAULT_FEATURE_STRENGTH}.` : 'Already in the steering; its strength is as you set it.'),
          (e: unknown) => message(e),
        ),
      open: (other) => void this.go(source, other),
    });
    this.root.replaceChildren(view);
    this.focusTarget = view.querySelector<HTMLElement>('#fd-title');
  }
}

function message(e: unknown): string {
  return e instanceof ApiError ? e.message : String(e);
}
