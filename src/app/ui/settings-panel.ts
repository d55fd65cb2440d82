/** Settings, applied as they change and saved to the vault's `.tinymorph/settings.json`; then the keyboard shortcuts. */
import { THEMES, type Settings, type ThemeName } from '../../vault/vault-api.js';
import { h } from './dom.js';
import type { PanelContent } from './side-panel.js';
import { EDITOR_SHORTCUTS, GLOBAL_SHORTCUTS, keyLabel } from './shortcuts.js';

const THEME_LABEL: Record<ThemeName, string> = { system: 'Follow the system', light: 'Light', dark: 'Dark', contrast: 'High contrast' };

export class SettingsPanel implements PanelContent {
  readonly title = 'Settings';
  private first: HTMLElement | null = null;

  constructor(
    private readonly get: () => Settings,
    private readonly set: (s: Settings) => void,
  ) {}

  render(): HTMLElement {
    const s = this.get();
    const theme = h('select', { id: 'set-theme' }, ...THEMES.map((t) => h('option', { value: t, selected: t === s.theme }, THEME_LABEL[t])));
    theme.addEventListener('change', () => this.set({ ...this.get(), theme: theme.value as ThemeName }));
    this.first = theme;
    const size = number('set-size', s.textSize, 14, 28, (v) => this.set({ ...this.get(), textSize: v }));
    const vim = checkbox('set-vim', s.vim, (v) => this.set({ ...this.get(), vim: v }));
    const tree = checkbox('set-tree', s.showTree, (v) => this.set({ ...this.get(), showTree: v }));
    const sugg = (patch: Partial<Settings['suggestions']>): void => this.set({ ...this.get(), suggestions: { ...this.get().suggestions, ...patch } });
    const enabled = checkbox('set-suggest', s.suggestions.enabled, (v) => sugg({ enabled: v }));
    const pause = number('set-pause', s.suggestions.pauseMs, 50, 5000, (v) => sugg({ pauseMs: v }));
    const seed = number('set-seed', s.suggestions.seed, 0, 2 ** 31 - 1, (v) => sugg({ seed: v }));
    const length = number('set-length', s.suggestions.maxTokens, 1, 256, (v) => sugg({ maxTokens: v }));
    const relatedContext = checkbox('set-related', s.suggestions.relatedContext, (v) => sugg({ relatedContext: v }));
    const row = (id: string, label: string, control: HTMLElement, hint?: string): HTMLElement =>
      h('div', { class: 'setting' }, h('label', { for: id }, label), control, hint ? h('p', { class: 'setting-hint' }, hint) : null);
    const shortcuts = h(
      'dl',
      { class: 'shortcut-list' },
      ...[...GLOBAL_SHORTCUTS, ...EDITOR_SHORTCUTS].flatMap((k) => [h('dt', {}, h('kbd', {}, keyLabel(k.key))), h('dd', {}, k.label)]),
    );
    return h(
      'div',
      { class: 'settings-panel' },
      h(
        'fieldset',
        {},
        h('legend', {}, 'Writing'),
        row('set-theme', 'Theme', theme),
        row('set-size', 'Text size (pixels)', size),
        row('set-vim', 'Vim keys', vim, 'Normal, insert and visual modes; :w saves.'),
        row('set-tree', 'Show the note list', tree),
      ),
      h(
        'fieldset',
        {},
        h('legend', {}, 'Suggestions'),
        row('set-suggest', 'Suggest continuations', enabled, 'A note can turn them off with "suggestions: off" in its frontmatter.'),
        row('set-pause', 'Pause before suggesting (ms)', pause),
        row('set-seed', 'Seed', seed, 'The same seed and text give the same suggestion.'),
        row('set-length', 'Longest suggestion (tokens)', length),
        row('set-related', 'Draw on the most related note', relatedContext, 'A short excerpt of it goes before your text in what the model reads.'),
      ),
      h('h3', {}, 'Keyboard'),
      shortcuts,
    );
  }

  initialFocus(): HTMLElement | null {
    return this.first;
  }
}

function checkbox(id: string, value: boolean, onChange: (v: boolean) => void): HTMLInputElement {
  const input = h('input', { id, type: 'checkbox', checked: value });
  input.addEventListener('change', () => onChange(input.checked));
  return input;
}

function number(id: string, value: number, min: number, max: number, onChange: (v: number) => void): HTMLInputElement {
  const input = h('input', { id, type: 'number', min: String(min), max: String(max), step: '1', value: String(value), inputmode: 'numeric' });
  let last = value;
  input.addEventListener('change', () => {
    const v = Number(input.value);
    if (Number.isInteger(v) && v >= min && v <= max) onChange((last = v));
    else input.value = String(last);
  });
  return input;
}
