/**
 * "What fires here": the tokens of the paragraph at the cursor where the watched SAE features fire
 * (firing-tokens.ts), marked with their intensity — decorations only, never the document. Hovering
 * a token lists its features; clicking one opens its dashboard. The paragraph is explained again
 * when it changes or the cursor moves to another one, after a pause; one request is in flight, and
 * a newer one aborts it. Token spans come from the server (UTF-16 offsets in the posted text), so
 * multi-byte characters mark exactly.
 */
import { StateEffect, StateField, type EditorState, type Extension } from '@codemirror/state';
import { Decoration, EditorView, hoverTooltip, ViewPlugin, type DecorationSet, type ViewUpdate } from '@codemirror/view';
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

function decorate(tokens: FiringToken[]): DecorationSet {
  // Byte-fallback tokens of one character share its span: one mark, the strongest level.
  const bySpan = new Map<string, FiringToken>();
  for (const t of tokens) {
    if (t.level === 0 || t.to <= t.from) continue;
    const key = `${t.from}:${t.to}`;
    if ((bySpan.get(key)?.level ?? 0) < t.level) bySpan.set(key, t);
  }
  return Decoration.set(
    [...bySpan.values()].map((t) => Decoration.mark({ class: `cm-fires act act-${t.level}` }).range(t.from, t.to)),
    true,
  );
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
          this.view.dispatch({ effects: setFires.of({ source: r.source, tokens, decorations: decorate(tokens) }) });
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
  const tooltip = hoverTooltip((view, pos, side) => {
    const fires = view.state.field(firesField);
    const t = fires.tokens.find((k) => k.features.length > 0 && (k.from < pos || (k.from === pos && side > 0)) && (pos < k.to || (pos === k.to && side < 0)));
    if (!t) return null;
    return {
      pos: t.from,
      end: t.to,
      above: true,
      create: () => ({ dom: tokenCard(view.state.sliceDoc(t.from, t.to), t, (f) => config.openFeature(fires.source, f)) }),
    };
  });
  return [firesField, plugin, tooltip];
}

function tokenCard(text: string, t: FiringToken, open: (feature: number) => void): HTMLElement {
  return h(
    'div',
    { class: 'fires-card' },
    h('p', { class: 'fires-card-head' }, `Features on “${text.trim() || text}”`),
    h(
      'ul',
      {},
      ...t.features.map((f) => {
        const b = h('button', { type: 'button', class: 'fires-card-feature' }, h('span', {}, f.label ? `#${f.feature} · ${f.label}` : `#${f.feature}`), h('span', { class: 'fd-num' }, formatActivation(f.act)));
        b.addEventListener('mousedown', (e) => e.preventDefault());
        b.addEventListener('click', () => open(f.feature));
        return h('li', {}, b);
      }),
    ),
  );
}
