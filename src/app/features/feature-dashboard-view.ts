/**
 * One feature's dashboard, as Neuronpedia lays it out (after Bricken et al. 2023): its label (the
 * writer may rename it), how often it fires, the histogram of its activations, the corpus contexts
 * where it fires most with each token marked by how strongly, the tokens its decoder direction
 * promotes and suppresses (logit lens), and the features whose decoder directions are nearest.
 */
import { USER_LABEL_SOURCE } from '../../sae/feature-index/auto-label.js';
import { h } from '../ui/dom.js';
import { activationLevel, formatActivation, visibleToken } from './activation-level.js';
import type { Dashboard, DashboardContext } from './features-client.js';
import { histogramFigure } from './histogram-svg.js';

export interface DashboardActions {
  back(): void;
  saveLabel(label: string): Promise<void>;
  /** Steer with the feature; what to show beside the button afterwards. */
  steer(): Promise<string>;
  open(index: number): void;
}

export function featureTitle(index: number, label: string): string {
  return label ? `#${index} · ${label}` : `#${index}`;
}

/** "1.23%" for a fraction of tokens; small densities keep two significant digits. */
export function formatDensity(density: number): string {
  const pct = density * 100;
  return `${pct >= 1 ? pct.toFixed(1) : pct.toPrecision(2)}%`;
}

export function dashboardView(d: Dashboard, actions: DashboardActions): HTMLElement {
  const back = h('button', { type: 'button', class: 'quiet fd-back' }, '← Results');
  back.addEventListener('click', () => actions.back());
  const heading = h('h3', { id: 'fd-title', class: 'fd-title', tabindex: '-1' }, featureTitle(d.index, d.label));
  const scored = d.density > 0 ? Math.round(d.fireCount / d.density) : 0;
  const meta = h(
    'p',
    { class: 'fd-meta' },
    d.fireCount === 0 ? 'Never fired in the corpus.' : `Fires on ${formatDensity(d.density)} of tokens (${d.fireCount.toLocaleString('en')} of ${scored.toLocaleString('en')}); strongest ${formatActivation(d.maxAct)}, mean when firing ${formatActivation(d.meanNonZeroAct)}.`,
  );
  const input = h('input', { id: 'fd-label', type: 'text', value: d.labelSource === USER_LABEL_SOURCE ? d.label : '', placeholder: d.autoLabel, autocomplete: 'off', maxlength: '500' });
  const save = h('button', { type: 'submit' }, 'Save label');
  const form = h('form', { class: 'fd-label-form' }, h('label', { for: 'fd-label' }, 'Label'), h('div', { class: 'fd-label-row' }, input, save), h('p', { class: 'setting-hint' }, 'Left empty, the automatic label (shown greyed) is used.'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void actions.saveLabel(input.value);
  });
  const steer = h('button', { type: 'button', class: 'fd-steer' }, 'Steer with this');
  // Shown, not a live region: steerWith announces it already.
  const steered = h('span', { class: 'fd-steered' });
  steer.addEventListener('click', () => void actions.steer().then((said) => (steered.textContent = said)));
  return h(
    'article',
    { class: 'feature-dashboard', 'aria-labelledby': 'fd-title' },
    back,
    heading,
    h('p', { class: 'fd-source' }, d.source),
    meta,
    h('div', { class: 'fd-steer-row' }, steer, steered),
    form,
    section('Activations', histogramFigure(d.histogram)),
    section('Top activating contexts', d.contexts.length === 0 ? h('p', { class: 'panel-empty' }, 'No contexts: it never fired.') : h('ol', { class: 'fd-contexts' }, ...d.contexts.map((c) => h('li', {}, contextView(c, d.maxAct))))),
    section(
      'Output tokens',
      h('div', { class: 'fd-logits' }, tokenList('Promotes', d.positive.map((t) => [t.token, t.value])), tokenList('Suppresses', d.negative.map((t) => [t.token, t.value]))),
    ),
    section('Nearest features (decoder cosine)', neighbourList(d, actions)),
  );
}

function section(title: string, body: HTMLElement): HTMLElement {
  return h('section', { class: 'fd-section' }, h('h4', {}, title), body);
}

/** A context's tokens; those where the feature fires are marked, the value also said in text (for screen readers) and shown on hover. */
export function contextView(c: DashboardContext, max: number): HTMLElement {
  return h(
    'p',
    { class: 'fd-context' },
    ...c.tokens.flatMap((tok, i) => {
      const text = tok === '<s>' ? '' : tok;
      const level = activationLevel(c.acts[i], max);
      if (level === 0) return text;
      const value = formatActivation(c.acts[i]);
      // The leading space stays outside the mark: the word is what fires.
      const word = text.trimStart();
      return [text.slice(0, text.length - word.length), h('mark', { class: `act act-${level}`, title: value }, word, h('span', { class: 'visually-hidden' }, ` (${value})`))];
    }),
  );
}

function tokenList(title: string, items: [string, number][]): HTMLElement {
  return h(
    'div',
    { class: 'fd-logit-list' },
    h('h5', {}, title),
    h('ul', {}, ...items.map(([tok, v]) => h('li', {}, h('code', {}, visibleToken(tok)), h('span', { class: 'fd-num' }, `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(2)}`)))),
  );
}

function neighbourList(d: Dashboard, actions: DashboardActions): HTMLElement {
  if (d.neighbours.length === 0) return h('p', { class: 'panel-empty' }, 'None.');
  return h(
    'ul',
    { class: 'fd-neighbours' },
    ...d.neighbours.map((n) => {
      const b = h('button', { type: 'button', class: 'fd-neighbour' }, h('span', {}, featureTitle(n.feature, n.label)), h('span', { class: 'fd-num' }, `cos ${n.cosine.toFixed(2)}`));
      b.addEventListener('click', () => actions.open(n.feature));
      return h('li', {}, b);
    }),
  );
}
