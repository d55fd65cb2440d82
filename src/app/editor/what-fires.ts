/**
 * "What fires here": the tokens of the paragraph at the cursor where the watched SAE features fire
 * (firing-tokens.ts), marked with their intensity — decorations only, never the document. Hovering
 * a token lists its features; clicking one opens its dashboard. From the keyboard, Alt-Shift-I opens
 * the same list for the token at the cursor (↑/↓ move, Enter opens, Esc returns to the text). The
 * paragraph is explained again when it changes or the cursor moves to another one, after a pause;
 * one request is in flight, and a newer one aborts it. Token spans come from the server (UTF-16
 * offsets in the posted text), so multi-byte characters mark exactly.
 */
import { StateEffect, StateField, type EditorState, type Extension, type Text } from '@codemirror/state';
import { Decoration, EditorView, hoverTooltip, keymap, showTooltip, ViewPlugin, type DecorationSet, type Tooltip, type ViewUpdate } from '@codemirror/view';
import { formatActivation } from '../features/activation-level.js';
import type { Explanation } from '../features/features-client.js';
import { firingTokens, type FiringToken } from '../features/firing-tokens.js';
import { h } from '../ui/dom.js';

export interface WhatFiresConfig {
  explain(text: string, signal: AbortSignal): Promise<Explanation>;
  /** Features of the SAE `explain` reads that the vault steers with; empty: the paragraph's top features. */
  chosen: readonly number[];
  openFeature(source: string, index: number): void;
  onError(message: string): void;
  pauseMs?: number;
}

interface Fires {
  source: string;
  tokens: FiringToken[];
  decorations: DecorationSet;
}

const NONE: Fires = { source: '', tokens: [], decorations: Decoration.none };
const setFires = StateEffect.define<Fires>();

/** Marks over the firing tokens, without a token's leading space (the word is what fires, and a mark should not start a line with a blank). */
function decorate(tokens: FiringToken[], doc: Text): DecorationSet {
  // Byte-fallback tokens of one character share its span: one mark, the strongest level.
  const bySpan = new Map<string, { from: number; to: number; level: number }>();
  for (const t of tokens) {
    const from = t.from + leadingSpace(doc.sliceString(t.from, t.to));
    if (t.level === 0 || t.to <= from) continue;
    const key = `${from}:${t.to}`;
    if ((bySpan.get(key)?.level ?? 0) < t.level) bySpan.set(key, { from, to: t.to, level: t.level });
  }
  return Decoration.set(
    [...bySpan.values()].map((t) => Decoration.mark({ class: `cm-fires act act-${t.level}` }).range(t.from, t.to)),
    true,
  );
}

function leadingSpace(text: string): number {
  return text.length - text.trimStart().length;
}

const firesField = StateField.define<Fires>({
  create: () => NONE,
  update(value, tr) {
    for (const e of tr.effects) if (e.is(setFires)) return e.value;
    if (!tr.docChanged) return value;
    const tokens = value.tokens
      .map((t) => ({ ...t, from: tr.changes.mapPos(t.from, 1), to: tr.changes.mapPos(t.to, -1) }))
      .filter((t) => t.to > t.from);
    return { ...value, tokens, decorations: value.decorations.map(tr.changes) };
  },
  provide: (f) => EditorView.decorations.from(f, (v) => v.decorations),
});

/** The token whose span holds `pos` (its start from the right, its end from the left), with features to list. */
function tokenAt(fires: Fires, pos: number, side: -1 | 1): FiringToken | undefined {
  return fires.tokens.find((k) => k.features.length > 0 && (k.from < pos || (k.from === pos && side > 0)) && (pos < k.to || (pos === k.to && side < 0)));
}

/** The keyboard's card: the token at the cursor, until the text or the selection changes. */
const setCursorCard = StateEffect.define<Tooltip | null>();
const cursorCard = StateField.define<Tooltip | null>({
  create: () => null,
  update(value, tr) {
    for (const e of tr.effects) if (e.is(setCursorCard)) return e.value;
    return tr.docChanged || tr.selection ? null : value;
  },
  provide: (f) => showTooltip.from(f),
});

/** The paragraph around the cursor: the run of non-blank lines containing it, or null on a blank line. */
export function paragraphAt(state: EditorState): { from: number; text: string } | null {
  const doc = state.doc;
  const line = doc.lineAt(state.selection.main.head);
  if (line.text.trim() === '') return null;
  let first = line.number;
  let last = line.number;
  while (first > 1 && doc.line(first - 1).text.trim() !== '') first--;
  while (last < doc.lines && doc.line(last + 1).text.trim() !== '') last++;
  const from = doc.line(first).from;
  return { from, text: doc.sliceString(from, doc.line(last).to) };
}

const DEFAULT_PAUSE_MS = 400;

export function whatFires(config: WhatFiresConfig): Extension {
  const plugin = ViewPlugin.fromClass(
    class {
      private timer: ReturnType<typeof setTimeout> | undefined;
      private inFlight: AbortController | null = null;
      private shown = '';

      constructor(private readonly view: EditorView) {
        this.schedule(0);
      }

      update(u: ViewUpdate): void {
        if (u.docChanged || u.selectionSet) this.schedule(config.pauseMs ?? DEFAULT_PAUSE_MS);
      }

      destroy(): void {
        clearTimeout(this.timer);
        this.inFlight?.abort();
      }

      private schedule(ms: number): void {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.refresh(), ms);
      }

      private async refresh(): Promise<void> {
        const para = paragraphAt(this.view.state);
        const key = para ? `${para.from}\n${para.text}` : '';
        if (key === this.shown) return;
        this.inFlight?.abort();
        this.inFlight = null;
        this.shown = key;
        if (!para) {
          this.view.dispatch({ effects: setFires.of(NONE) });
          return;
        }
        const request = new AbortController();
        this.inFlight = request;
        try {
          const r = await config.explain(para.text, request.signal);
          if (request !== this.inFlight) return;
          // The text moved or changed while the model ran: a newer refresh is already scheduled.
          if (this.view.state.doc.sliceString(para.from, para.from + para.text.length) !== para.text) {
            this.shown = '';
            return;
          }
          const tokens = firingTokens(r, para.from, config.chosen);
          this.view.dispatch({ effects: setFires.of({ source: r.source, tokens, decorations: decorate(tokens, this.view.state.doc) }) });
        } catch (e) {
          if (request.signal.aborted) return;
          this.shown = '';
          config.onError(e instanceof Error ? e.message : String(e));
        } finally {
          if (request === this.inFlight) this.inFlight = null;
        }
      }
    },
  );
  const card = (view: EditorView, t: FiringToken, fires: Fires, keyboard: boolean): Tooltip => ({
    pos: t.from,
    end: t.to,
    above: true,
    create: () => ({ dom: tokenCard(view, view.state.sliceDoc(t.from, t.to), t, keyboard, (f) => config.openFeature(fires.source, f)) }),
  });
  const tooltip = hoverTooltip((view, pos, side) => {
    const fires = view.state.field(firesField);
    const t = tokenAt(fires, pos, side);
    return t ? card(view, t, fires, false) : null;
  });
  const keys = keymap.of([
    {
      key: 'Alt-Shift-i',
      run(view) {
        const fires = view.state.field(firesField);
        const head = view.state.selection.main.head;
        // The word just before the cursor, else the one after it; a lone space is no word.
        const t = [tokenAt(fires, head, -1), tokenAt(fires, head, 1)].find((k) => k && view.state.sliceDoc(k.from, k.to).trim() !== '');
        if (!t) {
          view.dispatch({ effects: EditorView.announce.of('No features listed here: put the cursor on a word of the marked paragraph.') });
          return true;
        }
        view.dispatch({ effects: setCursorCard.of(card(view, t, fires, true)) });
        // The tooltip is drawn on the next measure: focus its first feature then.
        requestAnimationFrame(() => view.dom.querySelector<HTMLElement>('.fires-card-keyboard .fires-card-feature')?.focus());
        return true;
      },
    },
  ]);
  return [firesField, cursorCard, plugin, tooltip, keys];
}

function tokenCard(view: EditorView, text: string, t: FiringToken, keyboard: boolean, open: (feature: number) => void): HTMLElement {
  const el = h(
    'div',
    { class: keyboard ? 'fires-card fires-card-keyboard' : 'fires-card', role: 'group', 'aria-label': `Features on ${text.trim() || text}` },
    h('p', { class: 'fires-card-head' }, `Features on “${text.trim() || text}”`),
    h(
      'ul',
      {},
      ...t.features.map((f) => {
        const name = h('span', {}, f.label ? `#${f.feature} · ${f.label}` : `#${f.feature}`, f.watched ? h('span', { class: 'visually-hidden' }, ' (marked)') : null);
        const b = h('button', { type: 'button', class: f.watched ? 'fires-card-feature fires-card-watched' : 'fires-card-feature' }, name, h('span', { class: 'fd-num' }, formatActivation(f.act)));
        b.addEventListener('mousedown', (e) => e.preventDefault());
        b.addEventListener('click', () => {
          if (keyboard) view.dispatch({ effects: setCursorCard.of(null) });
          open(f.feature);
        });
        return h('li', {}, b);
      }),
    ),
  );
  el.addEventListener('keydown', (e) => {
    const items = [...el.querySelectorAll<HTMLElement>('button')];
    const i = items.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'ArrowDown') items[Math.min(items.length - 1, i + 1)]?.focus();
    else if (e.key === 'ArrowUp') items[Math.max(0, i - 1)]?.focus();
    else if (e.key === 'Escape') {
      view.dispatch({ effects: setCursorCard.of(null) });
      view.focus();
    } else return;
    e.preventDefault();
    e.stopPropagation();
  });
  return el;
}
