/**
 * The steering panel: the vault's steering spec (Settings.steering, saved in `.tinymorph/settings.json`)
 * as controls. Find features by words (the server's feature index) and add them; each steered
 * feature has a strength slider and a method; tone presets and built vectors each have a slider
 * starting at the strength they are tuned for; temperature and seed; and the spec itself as the JSON
 * the server's `steering` field takes, editable. Slider moves are gathered for a moment and then
 * saved, which re-runs the visible suggestion with the same seed (main.ts).
 */
import type { Settings } from '../../vault/vault-api.js';
import { ApiError } from '../api/vault-client.js';
import { checkSpec, listVectors, searchFeatures, type FeatureHit, type SteeringVector } from '../steer/steering-api.js';
import { settingsWithFeature } from '../steer/steering-controller.js';
import { featureEntries, featureKey, vectorEntries, withFeature, withoutFeature, withoutVector, withVector, type FeatureEntry, type SteeringSpecJson } from '../steer/steering-spec-edit.js';
import { h } from './dom.js';
import type { PanelContent } from './side-panel.js';

/**
 * Feature strengths run from −10 to +10: the shipped SAEs' features reach activations of 1–4 at
 * most, so ±10 spans a nudge to text the model no longer holds together; 0.5 a step.
 */
const FEATURE_RANGE = 10;
const FEATURE_STEP = 0.5;
/** Slider moves within this long are one change: one save, one re-run of the suggestion. */
const SETTLE_MS = 200;
/** A search slower than this says why (the first one for an SAE builds its index). */
const SLOW_SEARCH_MS = 400;

const METHODS: [value: string, label: string][] = [
  ['SIMPLE_ADDITIVE', 'add'],
  ['CLAMP', 'clamp'],
  ['ABLATE', 'ablate'],
];

export class SteeringPanel implements PanelContent {
  readonly title = 'Steering';
  /** Edits not saved yet (a slider still moving); what the controls show. */
  private pending: Settings | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The writer's unapplied JSON, kept across re-renders until applied. */
  private draft: string | null = null;
  private query = '';
  private searchSeq = 0;
  private searchAbort: AbortController | null = null;
  private vectors: SteeringVector[] = [];
  /** Slider values of tone presets that are switched off, so switching one on uses what the writer set. */
  private readonly presetValues = new Map<string, number>();
  private searchInput: HTMLInputElement | null = null;
  private readonly features = h('ul', { class: 'steer-rows', 'aria-label': 'Steered features' });
  private readonly tones = h('ul', { class: 'steer-rows', 'aria-label': 'Tone presets' });
  private readonly json = h('textarea', { id: 'steer-json', class: 'steer-json', rows: '10', spellcheck: 'false', 'aria-describedby': 'steer-json-message' });
  private readonly jsonMessage = h('p', { id: 'steer-json-message', class: 'steer-message', role: 'status' });

  constructor(
    private readonly get: () => Settings,
    private readonly set: (s: Settings) => void,
    /** Opens "write like these notes", whose styles join the tone list. */
    private readonly writeLike: () => void,
  ) {
    this.json.addEventListener('input', () => (this.draft = this.json.value));
    this.json.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        void this.applyJson();
      }
    });
  }

  async render(): Promise<HTMLElement> {
    // A re-render follows a change made elsewhere (steerWith): the settings are the truth again.
    clearTimeout(this.timer);
    this.pending = null;
    this.vectors = await listVectors().catch(() => []);
    this.showFeatures();
    this.showTones();
    this.showJson();
    return h(
      'div',
      { class: 'steering-panel' },
      h('section', { 'aria-labelledby': 'steer-features-title' }, h('h3', { id: 'steer-features-title' }, 'Features'), this.features, this.searchBox()),
      h('section', { 'aria-labelledby': 'steer-tones-title' }, h('h3', { id: 'steer-tones-title' }, 'Tone'), this.tones, this.writeLikeButton()),
      h('section', { 'aria-labelledby': 'steer-sampling-title' }, h('h3', { id: 'steer-sampling-title' }, 'Sampling'), ...this.samplingRows()),
      h('section', { 'aria-labelledby': 'steer-json-title' }, h('h3', { id: 'steer-json-title' }, h('label', { for: 'steer-json' }, 'As JSON')), this.jsonEditor()),
    );
  }

  initialFocus(): HTMLElement | null {
    return this.searchInput;
  }

  /** The settings as the controls show them. */
  private current(): Settings {
    return this.pending ?? this.get();
  }

  /** Take `s` now and save it once the slider settles. */
  private settle(s: Settings): void {
    this.pending = s;
    this.showJson();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), SETTLE_MS);
  }

  private commit(s: Settings): void {
    this.pending = s;
    this.flush();
    this.showJson();
  }

  private flush(): void {
    clearTimeout(this.timer);
    const s = this.pending;
    this.pending = null;
    if (s) this.set(s);
  }

  private setSpec(spec: SteeringSpecJson, now: boolean): void {
    const s = this.current();
    const next = { ...s, steering: { ...s.steering, spec } };
    if (now) this.commit(next);
    else this.settle(next);
  }

  // ——— Features ———

  private searchBox(): HTMLElement {
    const input = h('input', { type: 'search', id: 'steer-search', 'aria-label': 'Find features by words', placeholder: 'Add a feature: words it fires on…', autocomplete: 'off', value: this.query });
    const status = h('p', { class: 'search-status', role: 'status' });
    const hits = h('ul', { class: 'steer-hits', 'aria-label': 'Features found' });
    let typing: ReturnType<typeof setTimeout> | undefined;
    input.addEventListener('input', () => {
      clearTimeout(typing);
      typing = setTimeout(() => void this.search(input.value, hits, status), 150);
    });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown') {
        hits.querySelector<HTMLElement>('button')?.focus();
        e.preventDefault();
      } else if (e.key === 'Enter') {
        clearTimeout(typing);
        void this.search(input.value, hits, status);
        e.preventDefault();
      }
    });
    hits.addEventListener('keydown', (e) => {
      const buttons = [...hits.querySelectorAll<HTMLElement>('button')];
      const i = buttons.indexOf(document.activeElement as HTMLElement);
      if (e.key === 'ArrowDown' && i >= 0) buttons[i + 1]?.focus();
      else if (e.key === 'ArrowUp' && i >= 0) (i === 0 ? input : buttons[i - 1]).focus();
      else return;
      e.preventDefault();
    });
    this.searchInput = input;
    if (this.query) void this.search(this.query, hits, status);
    return h('div', { role: 'search', class: 'steer-search' }, input, status, hits);
  }

  private async search(query: string, hits: HTMLElement, status: HTMLElement): Promise<void> {
    this.query = query;
    const seq = ++this.searchSeq;
    this.searchAbort?.abort();
    if (query.trim() === '') {
      hits.replaceChildren();
      status.textContent = '';
      return;
    }
    const abort = (this.searchAbort = new AbortController());
    const slow = setTimeout(() => {
      status.textContent = 'Searching… The first search builds the feature index, which takes a few seconds.';
      hits.setAttribute('aria-busy', 'true');
    }, SLOW_SEARCH_MS);
    try {
      const r = await searchFeatures(query.trim(), abort.signal);
      if (seq !== this.searchSeq) return;
      status.textContent = r.data.length === 0 ? 'No features match.' : `${r.data.length} ${r.data.length === 1 ? 'feature' : 'features'}`;
      hits.replaceChildren(...r.data.map((hit) => this.hitItem(hit)));
    } catch (e) {
      if (abort.signal.aborted) return;
      status.textContent = `No search: ${e instanceof ApiError ? e.message : String(e)}`;
      hits.replaceChildren();
    } finally {
      clearTimeout(slow);
      if (seq === this.searchSeq) hits.removeAttribute('aria-busy');
    }
  }

  private hitItem(hit: FeatureHit): HTMLElement {
    const button = h(
      'button',
      { type: 'button', class: 'steer-hit' },
      h('span', { class: 'visually-hidden' }, 'Steer with '),
      h('span', { class: 'steer-hit-label' }, hit.label),
      h('span', { class: 'steer-hit-meta' }, `${featureName(hit.source, hit.index)} · fires on ${percent(hit.density)} of tokens`),
    );
    button.addEventListener('click', () => {
      this.commit(settingsWithFeature(this.current(), hit));
      this.showFeatures();
      this.features.querySelector<HTMLElement>(`[data-feature="${featureKey(hit.source, hit.index)}"] input[type=range]`)?.focus();
    });
    return h('li', {}, button);
  }

  private showFeatures(): void {
    const s = this.current();
    const entries = featureEntries(s.steering.spec);
    if (entries.length === 0) {
      this.features.replaceChildren(h('li', { class: 'panel-empty' }, 'No features steered yet.'));
      return;
    }
    this.features.replaceChildren(...entries.map((f) => this.featureRow(f, s.steering.labels[featureKey(f.source, f.index)] ?? `Feature ${f.index}`)));
  }

  private featureRow(f: FeatureEntry, label: string): HTMLElement {
    const key = featureKey(f.source, f.index);
    const slider = strengthSlider(f.strength, -FEATURE_RANGE, FEATURE_RANGE, FEATURE_STEP, `Strength of ${label}`);
    const method = h(
      'select',
      { 'aria-label': `Method for ${label}`, class: 'steer-method' },
      ...methodOptions(f.method).map(([value, text]) => h('option', { value, selected: value === (f.method ?? 'SIMPLE_ADDITIVE') }, text)),
    );
    const edit = (now: boolean): void => {
      const strength = Number(slider.input.value);
      this.setSpec(withFeature(this.current().steering.spec, { source: f.source, index: f.index, strength, method: method.value === 'SIMPLE_ADDITIVE' && !f.method ? undefined : method.value }), now);
    };
    slider.input.addEventListener('input', () => edit(false));
    method.addEventListener('change', () => edit(true));
    const remove = h('button', { type: 'button', class: 'quiet steer-remove', 'aria-label': `Remove ${label}` }, 'Remove');
    remove.addEventListener('click', () => {
      this.setSpec(withoutFeature(this.current().steering.spec, f.source, f.index), true);
      this.showFeatures();
      this.searchInput?.focus();
    });
    return h(
      'li',
      { class: 'steer-row', 'data-feature': key },
      h('div', { class: 'steer-row-head' }, h('span', { class: 'steer-label' }, label), remove),
      h('p', { class: 'steer-meta' }, featureName(f.source, f.index)),
      h('div', { class: 'steer-controls' }, slider.input, slider.output, method),
    );
  }

  // ——— Tone presets and built vectors ———

  private writeLikeButton(): HTMLElement {
    const b = h('button', { type: 'button', class: 'steer-write-like' }, 'Write like these notes…');
    b.addEventListener('click', () => this.writeLike());
    return b;
  }

  private showTones(): void {
    const spec = this.current().steering.spec;
    const inSpec = vectorEntries(spec);
    const known = new Set(this.vectors.map((v) => v.name));
    // A vector the spec names that this server does not list (a style vector from before a restart) is still shown, so it can be switched off.
    const rows = [...this.vectors, ...inSpec.filter((v) => !known.has(v.vector)).map((v): SteeringVector => ({ name: v.vector, kind: 'built', strength: v.strength }))];
    if (rows.length === 0) {
      this.tones.replaceChildren(h('li', { class: 'panel-empty' }, 'No presets from the model server.'));
      return;
    }
    this.tones.replaceChildren(...rows.map((v) => this.toneRow(v, inSpec.find((e) => e.vector === v.name)?.strength)));
  }

  private toneRow(v: SteeringVector, steered: number | undefined): HTMLElement {
    const tuned = Math.abs(v.strength) || 1;
    const step = tuned >= 4 ? 0.5 : 0.1;
    const value = steered ?? this.presetValues.get(v.name) ?? v.strength;
    const slider = strengthSlider(value, -2 * tuned, 2 * tuned, step, `Strength of ${v.name}`);
    const id = `steer-tone-${v.name.replace(/[^\w-]/g, '_')}`;
    const on = h('input', { type: 'checkbox', id, checked: steered !== undefined });
    const edit = (now: boolean): void => {
      const strength = Number(slider.input.value);
      this.presetValues.set(v.name, strength);
      const spec = this.current().steering.spec;
      if (on.checked) this.setSpec(withVector(spec, { vector: v.name, strength }), now);
      else if (now) this.setSpec(withoutVector(spec, v.name), true);
    };
    slider.input.addEventListener('input', () => edit(false));
    on.addEventListener('change', () => edit(true));
    return h(
      'li',
      { class: 'steer-row' },
      h('div', { class: 'steer-row-head' }, h('label', { for: id, class: 'steer-label' }, on, ` ${v.name}`)),
      h('p', { class: 'steer-meta' }, v.description ?? (v.kind === 'built' ? 'built from notes' : '')),
      h('div', { class: 'steer-controls' }, slider.input, slider.output),
    );
  }

  // ——— Sampling ———

  private samplingRows(): HTMLElement[] {
    const s = this.current().suggestions;
    const sugg = (patch: Partial<Settings['suggestions']>): void => {
      const cur = this.current();
      this.commit({ ...cur, suggestions: { ...cur.suggestions, ...patch } });
    };
    const temperature = numberField('steer-temperature', s.temperature, 0, 2, 0.1, (v) => sugg({ temperature: v }));
    const seed = numberField('steer-seed', s.seed, 0, 2 ** 31 - 1, 1, (v) => sugg({ seed: v }));
    const row = (id: string, label: string, control: HTMLElement): HTMLElement => h('div', { class: 'setting' }, h('label', { for: id }, label), control);
    return [row('steer-temperature', 'Temperature', temperature), row('steer-seed', 'Seed', seed), h('p', { class: 'setting-hint' }, '0 always picks the likeliest word. The same seed and text give the same suggestion.')];
  }

  // ——— The spec as JSON ———

  private jsonEditor(): HTMLElement {
    const apply = h('button', { type: 'button' }, 'Apply JSON');
    apply.addEventListener('click', () => void this.applyJson());
    return h(
      'div',
      { class: 'steer-json-editor' },
      h('p', { class: 'setting-hint' }, 'The request’s steering field, as a script would send it to /v1/completions. Ctrl+Enter applies.'),
      this.json,
      h('div', { class: 'steer-json-actions' }, apply),
      this.jsonMessage,
    );
  }

  private showJson(): void {
    if (this.draft === null) this.json.value = JSON.stringify(this.current().steering.spec, null, 2);
  }

  /** Parse, let the server judge, then take it; on any refusal the writer's text stays as written. */
  private async applyJson(): Promise<void> {
    const text = this.json.value;
    let spec: unknown;
    try {
      spec = JSON.parse(text);
    } catch (e) {
      return this.jsonProblem(`Not JSON: ${(e as Error).message}`);
    }
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) return this.jsonProblem(`The steering spec must be a JSON object, got ${Array.isArray(spec) ? 'an array' : JSON.stringify(spec)}`);
    this.jsonMessage.textContent = 'Checking with the model server…';
    try {
      await checkSpec(spec as SteeringSpecJson);
    } catch (e) {
      return this.jsonProblem(`The model server refused it: ${e instanceof ApiError ? e.message : String(e)}`);
    }
    if (this.json.value !== text) return;
    this.draft = null;
    this.jsonMessage.dataset.kind = 'ok';
    this.jsonMessage.textContent = 'Applied.';
    this.setSpec(spec as SteeringSpecJson, true);
    this.showFeatures();
    this.showTones();
  }

  private jsonProblem(message: string): void {
    this.jsonMessage.dataset.kind = 'error';
    this.jsonMessage.textContent = message;
    this.json.setAttribute('aria-invalid', 'true');
    this.json.addEventListener('input', () => this.json.removeAttribute('aria-invalid'), { once: true });
  }
}

/** "blocks.2.hook_resid_post", 968 → "layer 2 · #968". */
function featureName(source: string, index: number): string {
  const layer = /^blocks\.(\d+)\.hook_resid_post$/.exec(source)?.[1] ?? (/^\d+$/.test(source) ? source : null);
  return `${layer !== null ? `layer ${layer}` : source} · #${index}`;
}

function percent(x: number): string {
  return x >= 0.01 ? `${(100 * x).toFixed(1)}%` : x > 0 ? '<1%' : '0%';
}

function signed(x: number): string {
  return x > 0 ? `+${x}` : x < 0 ? `−${-x}` : '0';
}

/** The add/clamp/ablate choice, plus a method the JSON named that the panel has no word for. */
function methodOptions(method: string | undefined): [string, string][] {
  return method && !METHODS.some(([m]) => m === method) ? [...METHODS, [method, method.toLowerCase()]] : METHODS;
}

/** A range input (arrow keys step it; Home/End go to the ends) with its value shown beside it. */
function strengthSlider(value: number, min: number, max: number, step: number, label: string): { input: HTMLInputElement; output: HTMLOutputElement } {
  const input = h('input', { type: 'range', class: 'steer-slider', min: String(min), max: String(max), step: String(step), value: String(value), 'aria-label': label, 'aria-valuetext': signed(value) });
  const output = h('output', { class: 'steer-value', 'aria-hidden': 'true' }, signed(value));
  input.addEventListener('input', () => {
    const v = Number(input.value);
    output.textContent = signed(v);
    input.setAttribute('aria-valuetext', signed(v));
  });
  return { input, output };
}

function numberField(id: string, value: number, min: number, max: number, step: number, onChange: (v: number) => void): HTMLInputElement {
  const input = h('input', { id, type: 'number', min: String(min), max: String(max), step: String(step), value: String(value), inputmode: step < 1 ? 'decimal' : 'numeric' });
  let last = value;
  input.addEventListener('change', () => {
    const v = Number(input.value);
    if (input.value !== '' && Number.isFinite(v) && v >= min && v <= max && (step < 1 || Number.isInteger(v))) onChange((last = v));
    else input.value = String(last);
  });
  return input;
}
