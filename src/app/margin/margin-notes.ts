/**
 * Margin notes: on request, a few alternative continuations of the text before the cursor, as
 * cards beside the paragraph (CodeMirror extension; state in a StateField, changes as effects).
 *
 * Layout: the cards are one column in the editor's scroller, outside the text (so they are never
 * part of the document, its undo history or its "Note text" textbox), positioned by measurement:
 * in the wide empty margin right of the text column, level with the paragraph's first line; where
 * that margin is too narrow (a small window, or the side panel open) they stack under the
 * paragraph, over a spacer widget of their height that moves the following text down.
 *
 * Each card streams in from its own request, all started together (the server batches them into
 * the same decode steps). Tab from the text reaches the cards, ↑/↓ move between them, Enter or a
 * click inserts the card's exact text at the cursor as one undo step, dragging one drops its text
 * wherever CodeMirror's drop handling puts it; Esc, an edit or moving the cursor dismisses them
 * (aborting requests still running). Screen readers hear, through CodeMirror's polite live region,
 * when the cards arrive and when all are ready.
 */
import { isolateHistory } from '@codemirror/commands';
import { EditorSelection, Facet, Prec, StateEffect, StateField, type EditorState, type Extension } from '@codemirror/state';
import { Decoration, EditorView, keymap, ViewPlugin, WidgetType, type ViewUpdate } from '@codemirror/view';
import type { MarginCard } from '../../vault/note-cards-api.js';
import { suggestionBlocked } from '../editor/suggestion-context.js';
import type { SuggestionSource } from '../suggest/suggestion-source.js';
import type { CardVariant } from './card-variants.js';

export interface MarginNotesConfig {
  /** The continuations to ask for (each card's seed, steering and label); `round` counts repeated asks at one place. */
  variants(round: number): CardVariant[];
  source(variant: CardVariant): SuggestionSource;
  /** Cards saved earlier for this place (the text before the cursor), if any: shown instead of asking again. */
  saved(before: string): Promise<MarginCard[] | undefined>;
  /** Keep a finished set of cards for this place. */
  save(before: string, cards: MarginCard[]): void;
  onError(error: unknown): void;
}

export interface ShownCard extends MarginCard {
  done: boolean;
  failed?: string;
}

/** The cards on show (request `id`) for the cursor position `pos`. */
export interface MarginCards {
  id: number;
  pos: number;
  cards: ShownCard[];
}

const showCards = StateEffect.define<MarginCards>();
const appendCard = StateEffect.define<{ id: number; index: number; text: string }>();
const finishCard = StateEffect.define<{ id: number; index: number; failed?: string }>();
const clearCards = StateEffect.define<null>();
/** The height (CSS px) the stacked cards need under their paragraph; 0 while they sit in the margin. */
const setSpacer = StateEffect.define<number>();

export const marginField = StateField.define<MarginCards | null>({
  create: () => null,
  update(shown, tr) {
    for (const e of tr.effects) {
      if (e.is(showCards)) shown = e.value;
      else if (e.is(clearCards)) shown = null;
      else if (shown && e.is(appendCard) && e.value.id === shown.id) shown = withCard(shown, e.value.index, (c) => ({ ...c, text: c.text + e.value.text }));
      else if (shown && e.is(finishCard) && e.value.id === shown.id) shown = withCard(shown, e.value.index, (c) => ({ ...c, done: true, failed: e.value.failed }));
    }
    // Moving on dismisses them: any edit, or the cursor leaving the place they continue.
    if (shown && (tr.docChanged || (tr.selection && tr.selection.main.head !== shown.pos))) shown = null;
    return shown;
  },
});

function withCard(shown: MarginCards, index: number, f: (c: ShownCard) => ShownCard): MarginCards {
  return { ...shown, cards: shown.cards.map((c, i) => (i === index ? f(c) : c)) };
}

const spacerField = StateField.define<number>({
  create: () => 0,
  update(height, tr) {
    for (const e of tr.effects) if (e.is(setSpacer)) height = e.value;
    return tr.state.field(marginField) ? height : 0;
  },
  provide: (field) =>
    EditorView.decorations.compute([field, marginField], (state) => {
      const shown = state.field(marginField);
      const height = state.field(field);
      if (!shown || height === 0) return Decoration.none;
      const end = state.doc.lineAt(shown.pos).to;
      return Decoration.set([Decoration.widget({ widget: new Spacer(height), block: true, side: 1 }).range(end)]);
    }),
});

/** Empty room under the paragraph where the stacked cards are drawn. */
class Spacer extends WidgetType {
  constructor(readonly height: number) {
    super();
  }
  override eq(other: Spacer): boolean {
    return other.height === this.height;
  }
  override get estimatedHeight(): number {
    return this.height;
  }
  toDOM(): HTMLElement {
    const el = document.createElement('div');
    el.className = 'cm-margin-spacer';
    el.setAttribute('aria-hidden', 'true');
    el.style.height = `${this.height}px`;
    return el;
  }
}

/** Insert card `index`'s text at the cursor they continue, as its own undo step. */
export function insertCard(view: EditorView, index: number): boolean {
  const shown = view.state.field(marginField, false);
  const card = shown?.cards[index];
  if (!shown || !card || !card.done || card.failed || card.text === '') return false;
  view.dispatch({
    changes: { from: shown.pos, insert: card.text },
    selection: EditorSelection.cursor(shown.pos + card.text.length),
    effects: clearCards.of(null),
    annotations: isolateHistory.of('full'),
    userEvent: 'input.complete',
    scrollIntoView: true,
  });
  view.focus();
  return true;
}

function dismiss(view: EditorView): boolean {
  if (!view.state.field(marginField, false)) return false;
  view.dispatch({ effects: clearCards.of(null) });
  return true;
}

/** Why no cards may be asked for at the cursor, or null. */
function blocked(state: EditorState): string | null {
  const sel = state.selection;
  if (sel.ranges.length > 1 || !sel.main.empty) return 'Margin notes continue from the cursor: clear the selection first.';
  const pos = sel.main.head;
  if (state.sliceDoc(0, pos).trim() === '') return 'Write a few words first: margin notes continue the text before the cursor.';
  const why = suggestionBlocked(state, pos);
  if (why === 'mid-line') return 'Margin notes continue a line from its end: move the cursor to the end of the line.';
  if (why !== null) return `No margin notes here (${why}).`;
  return null;
}

/** The margin must fit cards this wide (at the root font size) to hold them; narrower, they stack under the paragraph. */
const MIN_MARGIN_REM = 12;
const MAX_CARD_REM = 20;

interface Placement {
  layout: 'margin' | 'below';
  top: number;
  left: number;
  width: number;
  height: number;
}

class MarginColumn {
  readonly dom: HTMLElement;
  private readonly list: HTMLOListElement;
  private rendered: { id: number; items: HTMLLIElement[] } | null = null;
  private requests: { id: number; controllers: AbortController[] } | null = null;
  private nextId = 1;
  /** How many times in a row cards were asked for at this place (Alt+M again: new seeds). */
  private round = { pos: -1, doc: null as unknown, n: 0 };

  constructor(
    private readonly view: EditorView,
    private readonly config: MarginNotesConfig,
  ) {
    this.list = document.createElement('ol');
    this.list.className = 'margin-cards';
    this.list.setAttribute('aria-label', 'Margin notes: alternative continuations');
    this.dom = document.createElement('section');
    this.dom.className = 'margin-notes';
    this.dom.setAttribute('aria-label', 'Margin notes');
    this.dom.hidden = true;
    this.dom.append(this.list);
    this.dom.addEventListener('keydown', (e) => this.keydown(e));
    view.scrollDOM.append(this.dom);
  }

  update(u: ViewUpdate): void {
    const shown = u.state.field(marginField);
    if (this.requests && this.requests.id !== shown?.id) this.abort();
    if (shown !== u.startState.field(marginField)) this.render(shown);
    if (shown && (u.geometryChanged || u.viewportChanged || u.heightChanged || shown !== u.startState.field(marginField))) this.measure();
  }

  destroy(): void {
    this.abort();
    this.dom.remove();
  }

  /**
   * Show the cards for the cursor: the saved ones for this place, or new ones streamed from the
   * model; asked again while cards are on show, new ones at the next seeds.
   */
  async open(): Promise<string | null> {
    const { view } = this;
    const why = blocked(view.state);
    if (why) return why;
    const state = view.state;
    const pos = state.selection.main.head;
    const before = state.sliceDoc(0, pos);
    const id = this.nextId++;
    const again = state.field(marginField) !== null && this.round.pos === pos && this.round.doc === state.doc;
    this.round = { pos, doc: state.doc, n: again ? this.round.n + 1 : 0 };
    const saved = again ? undefined : await this.config.saved(before);
    // The writer may have moved on while the saved cards loaded.
    if (view.state.doc !== state.doc || view.state.selection.main.head !== pos) return null;
    if (saved && saved.length > 0) {
      view.dispatch({ effects: [showCards.of({ id, pos, cards: saved.map((c) => ({ ...c, done: true })) }), EditorView.announce.of(readyMessage(saved.length, 'saved '))] });
      return null;
    }
    const variants = this.config.variants(this.round.n);
    view.dispatch({ effects: showCards.of({ id, pos, cards: variants.map((v) => ({ label: v.label, seed: v.seed, ...(v.steering ? { steering: v.steering } : {}), text: '', done: false })) }) });
    this.requests = { id, controllers: variants.map(() => new AbortController()) };
    const announced = { value: false };
    variants.forEach((v, i) => void this.stream(id, i, v, before, this.requests!.controllers[i].signal, announced));
    return null;
  }

  private async stream(id: number, index: number, variant: CardVariant, before: string, signal: AbortSignal, announced: { value: boolean }): Promise<void> {
    let failed: string | undefined;
    try {
      for await (const piece of this.config.source(variant).suggest(before, signal)) {
        if (signal.aborted) return;
        const announce = !announced.value && piece.trim() !== '' ? [EditorView.announce.of('Margin notes are arriving beside the paragraph.')] : [];
        announced.value ||= announce.length > 0;
        this.view.dispatch({ effects: [appendCard.of({ id, index, text: piece }), ...announce] });
      }
    } catch (e) {
      if (signal.aborted) return;
      failed = e instanceof Error ? e.message : String(e);
      this.config.onError(e);
    }
    if (signal.aborted) return;
    this.view.dispatch({ effects: finishCard.of({ id, index, failed }) });
    const shown = this.view.state.field(marginField);
    if (shown?.id !== id || !shown.cards.every((c) => c.done)) return;
    this.requests = null;
    const good = shown.cards.filter((c) => !c.failed);
    this.view.dispatch({ effects: EditorView.announce.of(readyMessage(good.length, '')) });
    if (good.length === shown.cards.length) this.config.save(before, shown.cards.map(({ label, text, seed, steering }) => ({ label, text, seed, ...(steering ? { steering } : {}) })));
  }

  private abort(): void {
    for (const c of this.requests?.controllers ?? []) c.abort();
    this.requests = null;
  }

  private render(shown: MarginCards | null): void {
    if (!shown) {
      this.dom.hidden = true;
      this.list.replaceChildren();
      this.rendered = null;
      return;
    }
    if (this.rendered?.id !== shown.id) {
      const items = shown.cards.map((_, i) => this.cardItem(i));
      this.list.replaceChildren(...items);
      this.rendered = { id: shown.id, items };
    }
    shown.cards.forEach((c, i) => {
      const button = this.rendered!.items[i].firstElementChild as HTMLButtonElement;
      const text = button.querySelector('.margin-card-text')!;
      text.textContent = c.failed ? `No continuation: ${c.failed}` : c.text === '' && c.done ? 'The model ended the text here.' : c.text;
      button.querySelector('.margin-card-label')!.textContent = c.label;
      button.setAttribute('aria-busy', String(!c.done));
      button.dataset.state = c.failed ? 'failed' : c.done ? 'done' : 'streaming';
      button.draggable = c.done && !c.failed && c.text !== '';
    });
    this.dom.hidden = false;
  }

  private cardItem(index: number): HTMLLIElement {
    const label = document.createElement('span');
    label.className = 'margin-card-label';
    const text = document.createElement('span');
    text.className = 'margin-card-text';
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'margin-card';
    button.append(label, text);
    button.addEventListener('click', () => insertCard(this.view, index));
    button.addEventListener('dragstart', (e) => {
      const card = this.view.state.field(marginField)?.cards[index];
      if (!card || !e.dataTransfer) return;
      e.dataTransfer.setData('text/plain', card.text);
      e.dataTransfer.effectAllowed = 'copy';
    });
    const li = document.createElement('li');
    li.append(button);
    return li;
  }

  private keydown(e: KeyboardEvent): void {
    const cards = [...this.list.querySelectorAll<HTMLButtonElement>('.margin-card')];
    const at = cards.indexOf(document.activeElement as HTMLButtonElement);
    if (e.key === 'Escape') {
      dismiss(this.view);
      this.view.focus();
    } else if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && at >= 0) {
      cards[(at + (e.key === 'ArrowDown' ? 1 : cards.length - 1)) % cards.length].focus();
    } else return;
    e.preventDefault();
  }

  private measure(): void {
    this.view.requestMeasure({
      key: this,
      read: (view): Placement | null => {
        const shown = view.state.field(marginField);
        if (!shown) return null;
        const scroller = view.scrollDOM;
        const box = scroller.getBoundingClientRect();
        const content = view.contentDOM.getBoundingClientRect();
        const originTop = box.top - scroller.scrollTop;
        const originLeft = box.left - scroller.scrollLeft;
        const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
        const room = box.left + scroller.clientWidth - content.right;
        const line = view.lineBlockAt(shown.pos);
        if (room >= MIN_MARGIN_REM * rem) {
          return { layout: 'margin', top: view.documentTop + line.top - originTop, left: content.right - originLeft, width: Math.min(MAX_CARD_REM * rem, room - 1.5 * rem), height: 0 };
        }
        const pad = parseFloat(getComputedStyle(view.contentDOM).paddingLeft) || 0;
        // Once the spacer is drawn the line's block includes it: the cards go where it starts.
        const spacer = view.contentDOM.querySelector('.cm-margin-spacer')?.getBoundingClientRect();
        const top = spacer ? spacer.top : view.documentTop + line.bottom;
        return { layout: 'below', top: top - originTop, left: content.left + pad - originLeft, width: content.width - 2 * pad, height: this.dom.offsetHeight };
      },
      write: (p, view) => {
        if (!p) return;
        this.dom.dataset.layout = p.layout;
        this.dom.style.top = `${p.top}px`;
        this.dom.style.left = `${p.left}px`;
        this.dom.style.width = `${p.width}px`;
        const spacer = p.layout === 'below' ? Math.ceil(p.height) : 0;
        // An update may not dispatch; the spacer follows in the next task.
        if (spacer !== view.state.field(spacerField)) setTimeout(() => view.state.field(marginField) && view.dispatch({ effects: setSpacer.of(spacer) }));
      },
    });
  }
}

function readyMessage(n: number, kind: string): string {
  return n === 0 ? 'No margin notes came back.' : `${n} ${kind}margin ${n === 1 ? 'note' : 'notes'} ready. Tab reaches them, Enter inserts one, Alt+M asks for others, Escape dismisses them.`;
}

const marginConfig = Facet.define<MarginNotesConfig, MarginNotesConfig | undefined>({ combine: (v) => v[0] });
const marginPlugin = ViewPlugin.define((view) => new MarginColumn(view, view.state.facet(marginConfig)!));

/** Ask for margin notes at the cursor; resolves with why none could be asked for, or null. */
export function openMarginNotes(view: EditorView): Promise<string | null> {
  const column = view.plugin(marginPlugin);
  return column ? column.open() : Promise.resolve('Margin notes are not available.');
}

/** Margin notes from `config`; see the file comment for what they do. */
export function marginNotes(config: MarginNotesConfig): Extension {
  return [marginConfig.of(config), marginField, spacerField, marginPlugin, Prec.high(keymap.of([{ key: 'Escape', run: dismiss }]))];
}
