/**
 * Ghost text: after a pause in typing, the model's continuation streams into one widget decoration
 * at the cursor (an inlay, like an IDE's inline completion). It is never in the document, its undo
 * history or the file until accepted:
 *   Tab                 accept all of it (only while one is shown; otherwise Tab does what it did)
 *   Ctrl-→ / Alt-→      accept the next word
 *   Esc                 dismiss (in vim insert mode Esc also leaves insert mode: vim sees it first)
 *   typing its next characters keeps the rest, with no new request
 *   moving the cursor, editing elsewhere or leaving the editor clears it.
 * At most one request is in flight: a new one, or a cleared suggestion, aborts the old one.
 * `rerunSuggestion` asks again at the last suggestion's place (the cursor has not moved, the text
 * not changed) even while the editor is unfocused: the steering panel's sliders re-run the
 * suggestion the writer just saw, with the same seed, so the steering's effect shows at once.
 * CodeMirror's polite live region (EditorView.announce) tells screen readers that a suggestion is
 * available; the widget itself is hidden from them. State: one StateField holding the current
 * suggestion; effects change it.
 */
import { isolateHistory } from '@codemirror/commands';
import { EditorSelection, Prec, StateEffect, StateField, type Extension, type Transaction } from '@codemirror/state';
import { Decoration, EditorView, keymap, ViewPlugin, WidgetType, type ViewUpdate } from '@codemirror/view';
import type { SuggestionSource } from '../suggest/suggestion-source.js';
import { betweenSentences, suggestionBlocked } from './suggestion-context.js';

export interface GhostTextConfig {
  source: SuggestionSource;
  /** Pause after the last keystroke before asking (the default: 250 ms). */
  pauseMs?: number;
  /** Called when the source fails (not when a request is aborted); suggestions stop until reconfigured. */
  onError?: (error: unknown) => void;
}

/** The suggestion being shown (or awaited: `text` empty, `done` false) at `pos`, from request `id`. */
export interface Ghost {
  id: number;
  pos: number;
  text: string;
  done: boolean;
  /**
   * Offered between two sentences (suggestion-context.ts): it ends at its first sentence end, plus
   * `gap` (a space when the next sentence follows the cursor directly) so the two stay apart.
   */
  oneSentence: boolean;
  gap: string;
}

// A sentence end inside the suggestion: terminal punctuation and closers, followed by whitespace (so "3.5" is no end).
const SENTENCE_END = /[.!?…][\p{Pe}\p{Pf}"'*_]*(?=\s)/u;

const startGhost = StateEffect.define<{ id: number; pos: number; oneSentence: boolean; gap: string }>();
const appendGhost = StateEffect.define<{ id: number; text: string }>();
const finishGhost = StateEffect.define<{ id: number }>();
/** Dismiss the current suggestion (also what an accept-all transaction carries). */
const clearGhost = StateEffect.define<null>();
/** Ask again at the anchor (rerunSuggestion). */
const rerunGhost = StateEffect.define<null>();

export const ghostField = StateField.define<Ghost | null>({
  create: () => null,
  update(ghost, tr) {
    for (const e of tr.effects) {
      if (e.is(startGhost)) ghost = { ...e.value, text: '', done: false };
      else if (e.is(clearGhost)) ghost = null;
      else if (ghost && !ghost.done && e.is(appendGhost) && e.value.id === ghost.id) ghost = clipToSentence({ ...ghost, text: ghost.text + e.value.text });
      else if (ghost && !ghost.done && e.is(finishGhost) && e.value.id === ghost.id) ghost = { ...ghost, text: ghost.oneSentence && ghost.text !== '' && !/\s$/.test(ghost.text) ? ghost.text + ghost.gap : ghost.text, done: true };
    }
    if (ghost && (tr.docChanged || tr.selection)) ghost = afterEdit(ghost, tr);
    if (ghost && ghost.done && ghost.text === '') ghost = null;
    return ghost;
  },
  provide: (field) =>
    EditorView.decorations.from(field, (g) => (g && g.text ? Decoration.set([Decoration.widget({ widget: new GhostWidget(g.text), side: 1 }).range(g.pos)]) : Decoration.none)),
});

/** A between-sentences suggestion ends at its first sentence end (and the stream is then stopped). */
function clipToSentence(g: Ghost): Ghost {
  if (!g.oneSentence) return g;
  const end = SENTENCE_END.exec(g.text);
  return end ? { ...g, text: g.text.slice(0, end.index + end[0].length) + g.gap, done: true } : g;
}

/**
 * Where the last suggestion was asked for, while the text and cursor have not moved since (typing
 * through it moves it along): the place a re-run asks again. Unlike the ghost, it outlives focus
 * leaving the editor, which is how the writer reaches the steering panel.
 */
const anchorField = StateField.define<number | null>({
  create: () => null,
  update(anchor, tr) {
    for (const e of tr.effects) if (e.is(startGhost)) anchor = e.value.pos;
    if (anchor !== null && (tr.docChanged || tr.selection)) {
      // ghostField is listed before this field, so its new value is already known.
      const ghost = tr.state.field(ghostField, false);
      const sel = tr.state.selection;
      anchor = ghost && sel.ranges.length === 1 && sel.main.empty && sel.main.head === ghost.pos ? ghost.pos : null;
    }
    return anchor;
  },
});

/** Re-run the suggestion at its last place, replacing the one shown and aborting one in flight; false when there is no such place. */
export function rerunSuggestion(view: EditorView): boolean {
  if (view.state.field(anchorField, false) == null) return false;
  view.dispatch({ effects: rerunGhost.of(null) });
  return true;
}

/**
 * The suggestion after a transaction: kept (shortened) when the change inserted exactly its next
 * characters at its position and left the cursor after them (type-through, or accepting a word);
 * gone after any other edit or cursor move.
 */
function afterEdit(g: Ghost, tr: Transaction): Ghost | null {
  let inserted: string | null = null;
  let single = true;
  if (tr.docChanged) {
    tr.changes.iterChanges((fromA, toA, _fromB, _toB, text) => {
      if (inserted !== null || fromA !== g.pos || toA !== g.pos) single = false;
      inserted = text.toString();
    });
  }
  const typed: string = inserted ?? '';
  if (!single || (tr.docChanged && (typed === '' || !g.text.startsWith(typed)))) return null;
  const pos = g.pos + typed.length;
  const sel = tr.newSelection.main;
  if (tr.newSelection.ranges.length > 1 || !sel.empty || sel.head !== pos) return null;
  return { ...g, pos, text: g.text.slice(typed.length) };
}

class GhostWidget extends WidgetType {
  constructor(readonly text: string) {
    super();
  }
  override eq(other: GhostWidget): boolean {
    return other.text === this.text;
  }
  toDOM(): HTMLElement {
    const span = document.createElement('span');
    span.className = 'cm-ghost-text';
    span.textContent = this.text;
    // Not part of the document: screen readers hear the live-region announcement instead.
    span.setAttribute('aria-hidden', 'true');
    return span;
  }
  override ignoreEvent(): boolean {
    return false;
  }
}

/** The next word of the suggestion with the spaces before it ("  over the" → "  over"). */
function nextWord(text: string): string {
  return /^\s*[\p{L}\p{N}\p{M}_'’-]+|^\s*\S|^\s+/u.exec(text)?.[0] ?? '';
}

function accept(view: EditorView, part: 'all' | 'word'): boolean {
  const g = view.state.field(ghostField, false);
  if (!g || g.text === '') return false;
  const insert = part === 'all' ? g.text : nextWord(g.text);
  view.dispatch({
    changes: { from: g.pos, insert },
    selection: EditorSelection.cursor(g.pos + insert.length),
    effects: part === 'all' ? clearGhost.of(null) : [],
    // Its own undo step: undo takes back the accepted text, not the typing before it.
    annotations: isolateHistory.of('full'),
    userEvent: 'input.complete',
    scrollIntoView: true,
  });
  return true;
}

/** Clear the suggestion; Esc is consumed only when one was visible, so an awaited one never swallows it. */
export function dismiss(view: EditorView): boolean {
  const g = view.state.field(ghostField, false);
  if (!g) return false;
  view.dispatch({ effects: clearGhost.of(null) });
  return g.text !== '';
}

const ANNOUNCEMENT = 'Suggestion available. Tab accepts it, Escape dismisses it.';

/** Request ids, unique across reconfigurations (a new source replaces the plugin, not the field). */
let lastRequestId = 0;

/** Asks the source after each pause in typing and streams its pieces into the field; one request at a time. */
function scheduler(config: GhostTextConfig) {
  const pauseMs = config.pauseMs ?? 250;
  return ViewPlugin.fromClass(
    class {
      private timer: ReturnType<typeof setTimeout> | undefined;
      private request: { id: number; controller: AbortController } | undefined;
      private failed = false;

      constructor(private readonly view: EditorView) {}

      update(u: ViewUpdate): void {
        const ghost = u.state.field(ghostField);
        if (this.request && ghost?.id !== this.request.id) this.abort();
        if (u.transactions.some((tr) => tr.effects.some((e) => e.is(rerunGhost)))) {
          this.rerun();
          return;
        }
        const typed = u.docChanged && u.transactions.some((tr) => tr.isUserEvent('input'));
        if (typed && !ghost) this.schedule();
        else if (u.docChanged || u.selectionSet || u.focusChanged) this.cancelTimer();
      }

      destroy(): void {
        this.cancelTimer();
        this.abort();
      }

      private schedule(): void {
        this.cancelTimer();
        if (this.failed) return;
        this.timer = setTimeout(() => this.start(), pauseMs);
      }

      private cancelTimer(): void {
        clearTimeout(this.timer);
        this.timer = undefined;
      }

      private abort(): void {
        this.request?.controller.abort();
        this.request = undefined;
      }

      private start(): void {
        const { view } = this;
        const { state } = view;
        const sel = state.selection;
        if (!view.hasFocus || view.composing || sel.ranges.length > 1 || !sel.main.empty || state.field(ghostField)) return;
        this.ask(sel.main.head);
      }

      /** Ask again at the anchor, focused or not: the writer is at the steering panel's controls. */
      private rerun(): void {
        this.cancelTimer();
        const pos = this.view.state.field(anchorField, false);
        if (pos == null || this.failed || this.view.composing) return;
        // A view cannot dispatch while it is updating: ask once this update is over.
        queueMicrotask(() => {
          if (this.view.state.field(anchorField, false) === pos) this.ask(pos);
        });
      }

      private ask(pos: number): void {
        const { view } = this;
        const { state } = view;
        if (suggestionBlocked(state, pos) !== null) return;
        this.abort();
        const id = ++lastRequestId;
        const controller = new AbortController();
        this.request = { id, controller };
        const oneSentence = betweenSentences(state, pos);
        const gap = /^\s/.test(state.sliceDoc(pos, pos + 1)) ? '' : ' ';
        view.dispatch({ effects: startGhost.of({ id, pos, oneSentence, gap }) });
        void this.stream(id, state.sliceDoc(0, pos), controller.signal);
      }

      private async stream(id: number, before: string, signal: AbortSignal): Promise<void> {
        let announced = false;
        try {
          for await (const piece of config.source.suggest(before, signal)) {
            if (signal.aborted) return;
            const announce: StateEffect<string>[] = !announced && piece.trim() !== '' ? [EditorView.announce.of(ANNOUNCEMENT)] : [];
            announced ||= announce.length > 0;
            this.view.dispatch({ effects: [appendGhost.of({ id, text: piece }), ...announce] });
            // Complete already (one sentence, cut): free the model's slot rather than read what is not shown.
            const shown = this.view.state.field(ghostField);
            if (shown?.id === id && shown.done) return this.abort();
          }
          if (!signal.aborted) this.view.dispatch({ effects: finishGhost.of({ id }) });
        } catch (e) {
          if (signal.aborted) return;
          this.failed = true;
          if (this.view.state.field(ghostField)?.id === id) this.view.dispatch({ effects: clearGhost.of(null) });
          config.onError?.(e);
        } finally {
          if (this.request?.id === id) this.request = undefined;
        }
      }
    },
    {
      eventHandlers: {
        // IME composition: the text being composed is not final, so no suggestion may sit beside it.
        compositionstart(_e, view) {
          dismiss(view);
        },
      },
    },
  );
}

/** Ghost-text suggestions from `config.source`; see the file comment for the keys. */
export function ghostText(config: GhostTextConfig): Extension {
  return [
    ghostField,
    anchorField,
    scheduler(config),
    EditorView.focusChangeEffect.of((_state, focusing) => (focusing ? null : clearGhost.of(null))),
    Prec.highest(
      keymap.of([
        { key: 'Tab', run: (v) => accept(v, 'all') },
        { key: 'Ctrl-ArrowRight', run: (v) => accept(v, 'word') },
        { key: 'Alt-ArrowRight', run: (v) => accept(v, 'word') },
        { key: 'Escape', run: dismiss },
      ]),
    ),
  ];
}
