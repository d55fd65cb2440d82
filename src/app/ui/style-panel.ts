/**
 * "Write like these notes": the writer ticks notes (or whole folders), names the style, and the
 * model server builds a style vector from them (progress shown as it streams), measures its effect
 * — the clean model's cross-entropy on those notes without and with it — and the vector becomes a
 * preset in the vault's steering (withVector), so suggestions start writing that way at once.
 */
import type { TreeFolder, TreeNote } from '../../vault/vault-api.js';
import { api, ApiError } from '../api/vault-client.js';
import { buildStyleVector, type BuiltVector, type StyleProgress } from '../steer/style-vector-client.js';
import { h } from './dom.js';
import type { PanelContent } from './side-panel.js';

/** As the server's VECTOR_NAME (src/serve/api-schemas.ts): a word, never a path. */
const NAME_PATTERN = '[A-Za-z0-9][A-Za-z0-9_\\-]{0,63}';

const PHASE_LABEL: Record<string, string> = { vector: 'Learning the style of the notes', effect: 'Measuring its effect on them' };

export class StylePanel implements PanelContent {
  readonly title = 'Write like these notes';
  private first: HTMLElement | null = null;
  private building = false;

  constructor(
    private readonly currentFolder: () => string,
    /** Adds the built vector to the vault's steering at its strength. */
    private readonly usePreset: (name: string, strength: number) => Promise<void>,
  ) {}

  async render(): Promise<HTMLElement> {
    const tree = await api.tree();
    const checks: { path: string; box: HTMLInputElement }[] = [];
    const folderBoxes: { box: HTMLInputElement; notes: HTMLInputElement[] }[] = [];
    const start = this.currentFolder();
    const item = (entry: TreeFolder | TreeNote, depth: number): HTMLElement | null => {
      const id = `style-pick-${checks.length + folderBoxes.length}`;
      if (entry.kind === 'note') {
        const box = h('input', { type: 'checkbox', id, checked: start !== '' && entry.path.startsWith(`${start}/`) });
        checks.push({ path: entry.path, box });
        return h('li', {}, box, h('label', { for: id }, entry.name.replace(/\.md$/i, '')));
      }
      const children = entry.children.map((c) => item(c, depth + 1)).filter((c): c is HTMLElement => c !== null);
      if (children.length === 0) return null;
      const box = h('input', { type: 'checkbox', id });
      const group = { box, notes: [] as HTMLInputElement[] };
      folderBoxes.push(group);
      const ul = h('ul', {}, ...children);
      group.notes = [...ul.querySelectorAll<HTMLInputElement>('input[type=checkbox]')].filter((b) => checks.some((c) => c.box === b));
      box.addEventListener('change', () => {
        for (const n of group.notes) n.checked = box.checked;
        sync();
      });
      return h('li', { class: 'style-folder' }, box, h('label', { for: id }, `${entry.name}/`), ul);
    };
    const items = tree.children.map((c) => item(c, 0)).filter((c): c is HTMLElement => c !== null);
    const count = h('p', { class: 'style-count', 'aria-live': 'polite' });
    const sync = (): void => {
      for (const f of folderBoxes) {
        const on = f.notes.filter((n) => n.checked).length;
        f.box.checked = on === f.notes.length && on > 0;
        f.box.indeterminate = on > 0 && on < f.notes.length;
      }
      const n = checks.filter((c) => c.box.checked).length;
      count.textContent = n === 0 ? 'No notes chosen.' : `${n} ${n === 1 ? 'note' : 'notes'} chosen.`;
    };
    for (const c of checks) c.box.addEventListener('change', sync);
    sync();

    const name = h('input', { type: 'text', id: 'style-name', required: true, pattern: NAME_PATTERN, maxlength: '64', autocomplete: 'off', spellcheck: 'false', value: start ? start.split('/').pop()!.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^[-_]+/, '') : '', 'aria-describedby': 'style-name-hint' });
    const build = h('button', { type: 'submit', class: 'primary' }, 'Build and use');
    const status = h('p', { class: 'style-status', role: 'status' });
    const bar = h('progress', { class: 'style-progress', 'aria-label': 'Building the style', hidden: true });
    const result = h('div', { class: 'style-result' });
    const form = h(
      'form',
      { class: 'style-panel', 'aria-labelledby': 'panel-title' },
      h('p', { class: 'style-intro' }, 'Pick notes whose voice the suggestions should take on. The model learns the difference between them and ordinary text, and steers toward it.'),
      h('fieldset', { class: 'style-notes' }, h('legend', {}, 'Notes'), h('ul', { class: 'style-tree' }, ...items)),
      count,
      h('div', { class: 'setting style-name-row' }, h('label', { for: 'style-name' }, 'Name'), name, h('p', { class: 'setting-hint', id: 'style-name-hint' }, 'Letters, digits, - or _. It appears among the steering presets.')),
      build,
      status,
      bar,
      result,
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const paths = checks.filter((c) => c.box.checked).map((c) => c.path);
      if (paths.length === 0) {
        status.textContent = 'Choose at least one note.';
        checks[0]?.box.focus();
        return;
      }
      if (!name.checkValidity()) {
        status.textContent = 'Give the style a name: letters, digits, - or _.';
        name.focus();
        return;
      }
      void this.build(name.value, paths, { status, bar, result, build });
    });
    this.first = checks.find((c) => c.box.checked)?.box ?? folderBoxes[0]?.box ?? checks[0]?.box ?? name;
    return form;
  }

  initialFocus(): HTMLElement | null {
    return this.first;
  }

  private async build(name: string, paths: string[], ui: { status: HTMLElement; bar: HTMLProgressElement; result: HTMLElement; build: HTMLButtonElement }): Promise<void> {
    if (this.building) return;
    this.building = true;
    ui.build.disabled = true;
    ui.result.replaceChildren();
    ui.status.textContent = `Reading ${paths.length} ${paths.length === 1 ? 'note' : 'notes'}…`;
    try {
      const texts = await Promise.all(paths.map(async (p) => (await api.read(p)).text));
      ui.bar.hidden = false;
      ui.bar.removeAttribute('value');
      const built = await buildStyleVector(name, texts, (p) => this.progress(p, ui.status, ui.bar));
      await this.usePreset(built.name, built.strength);
      ui.status.textContent = `“${built.name}” is built and steering your suggestions.`;
      ui.result.replaceChildren(effectView(built));
    } catch (e) {
      ui.status.textContent = e instanceof ApiError || e instanceof Error ? e.message : String(e);
    } finally {
      ui.bar.hidden = true;
      ui.build.disabled = false;
      this.building = false;
    }
  }

  private progress(p: StyleProgress, status: HTMLElement, bar: HTMLProgressElement): void {
    bar.max = Math.max(p.total, 1);
    bar.value = p.done;
    status.textContent = `${PHASE_LABEL[p.phase] ?? p.phase}: ${Math.round((100 * p.done) / Math.max(p.total, 1))}%`;
  }
}

/** "CE on these notes 2.41 → 2.18 nats/token": what the vector did, in the model's own measure. */
function effectView(v: BuiltVector): HTMLElement {
  if (!v.effect) return h('p', {}, `Strength ${v.strength}.`);
  const { clean_nats: before, steered_nats: after, tokens, strength } = v.effect;
  const pct = ((before - after) / before) * 100;
  return h(
    'dl',
    { class: 'style-effect' },
    h('dt', {}, 'Cross-entropy on these notes'),
    h('dd', { class: 'style-effect-number' }, `${before.toFixed(3)} → ${after.toFixed(3)} nats/token`),
    h('dd', {}, pct > 0 ? `${pct.toFixed(1)}% lower over their ${tokens} tokens at strength ${strength}: with this style on, the model finds writing like them likelier.` : `At strength ${strength} the style did not make these notes likelier; try more of them.`),
  );
}
