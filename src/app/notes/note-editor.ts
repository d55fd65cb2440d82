/**
 * The open note: one CodeMirror view, the note's path and the hash of the disk version it was
 * edited from, and the saving that ties them together. Saves are serialised (one in flight, then
 * one more if the text changed meanwhile) and conditional on that hash; a refused save, or a change
 * on disk while the writer has unsaved text, becomes a conflict the writer resolves (keep either
 * version, or merge both). A change on disk while there is nothing unsaved simply reloads.
 */
import { history, historyKeymap, defaultKeymap } from '@codemirror/commands';
import { search, searchKeymap } from '@codemirror/search';
import { Compartment, EditorSelection, EditorState, Text, Transaction, type Extension } from '@codemirror/state';
import { drawSelection, dropCursor, EditorView, highlightSpecialChars, keymap } from '@codemirror/view';
import type { Note, Settings, VaultEvent } from '../../vault/vault-api.js';
import { api, ApiError, ConflictError } from '../api/vault-client.js';
import { autosave, fromDisk, isDirty, markFailed, markSaved, markSaving, saveState, type SaveState } from '../editor/autosave.js';
import { editorTheme } from '../editor/editor-theme.js';
import { dismiss as dismissGhost, ghostText, rerunSuggestion } from '../editor/ghost-text.js';
import { livePreview } from '../editor/live-preview.js';
import { vaultKeymap } from '../editor/vault-keymap.js';
import { vimMode, vimSave, setVimMode } from '../editor/vim-mode.js';
import { openAiCompletionSource } from '../suggest/openai-completion-source.js';
import { activeSteering } from '../steer/steering-spec-edit.js';
import { mergeVersions } from './merge-versions.js';
import { CardStore } from '../margin/card-store.js';
import { cardVariants, DEFAULT_CARD_COUNT } from '../margin/card-variants.js';
import { marginNotes, openMarginNotes } from '../margin/margin-notes.js';

export interface Conflict {
  path: string;
  yours: string;
  /** The text both started from: what the page last loaded or saved (the merge's common ancestor). */
  base: string;
  disk: { text: string; hash: string };
}

export interface NoteEditorHooks {
  /** After every editor update (status line, word count). */
  onUpdate(editor: NoteEditor): void;
  onConflict(conflict: Conflict): void;
  followLink(target: string): void;
  announce(message: string): void;
  /** Suggestions failed (no model server yet, or it broke): say so once, quietly. */
  onSuggestionError(message: string): void;
  /** Context put before the text in suggestion prompts when the settings ask for related notes' context. */
  suggestionPreamble?(): string | undefined;
}

export type ConflictChoice = 'mine' | 'disk' | 'merge';

/** Margin notes are a sentence or two: longer than a ghost suggestion, short enough to read at a glance. */
const MARGIN_NOTE_TOKENS = 40;

/** The nonce the Content-Security-Policy allows for <style> elements, which CodeMirror's styles need. */
const CSP_NONCE = document.querySelector<HTMLMetaElement>('meta[name=csp-nonce]')?.content ?? '';

export class NoteEditor {
  readonly view: EditorView;
  path: string | null = null;
  private baseHash: string | null = null;
  private inFlight: Promise<void> | null = null;
  private saveAgain = false;
  private conflict: Conflict | null = null;
  private readonly suggestions = new Compartment();
  /** "What fires here" (editor/what-fires.ts), built by the page: kept across notes. */
  private readonly whatFires = new Compartment();
  private whatFiresExtension: Extension = [];
  private readonly selections = new Map<string, EditorSelection>();
  private readonly cards = new CardStore((m) => this.hooks.announce(m));

  constructor(
    parent: HTMLElement,
    private settings: Settings,
    private readonly hooks: NoteEditorHooks,
  ) {
    this.view = new EditorView({ parent, state: EditorState.create({ extensions: this.extensions() }) });
  }

  /** Open `path`, after saving the current note; an ApiError when it cannot be read. */
  async open(path: string): Promise<Note> {
    await this.flush();
    const note = await api.read(path);
    if (this.path) this.selections.set(this.path, this.view.state.selection);
    this.path = note.path;
    this.baseHash = note.hash;
    this.conflict = null;
    const saved = this.selections.get(note.path);
    const selection = saved && saved.main.head <= note.text.length ? saved : undefined;
    this.view.setState(EditorState.create({ doc: note.text, selection, extensions: this.extensions() }));
    return note;
  }

  /** Close the note (it was trashed): nothing is open afterwards. */
  close(): void {
    this.path = null;
    this.baseHash = null;
    this.conflict = null;
    this.view.setState(EditorState.create({ extensions: this.extensions() }));
  }

  /** Save now if there is unsaved text; resolves when the disk has it (or the save failed). */
  save(keepalive = false): Promise<void> {
    if (this.inFlight) {
      this.saveAgain = true;
      return this.inFlight;
    }
    if (!this.path || this.conflict || !isDirty(this.view)) return Promise.resolve();
    this.inFlight = this.saveOnce(this.path, keepalive).finally(() => {
      this.inFlight = null;
      if (this.saveAgain) {
        this.saveAgain = false;
        void this.save();
      }
    });
    return this.inFlight;
  }

  /** Wait for any save in flight, then save what is left. */
  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight;
    await this.save();
  }

  applySettings(settings: Settings): void {
    this.settings = settings;
    setVimMode(this.view, settings.vim);
    this.view.dispatch({ effects: this.suggestions.reconfigure(this.suggestionExtension()) });
  }

  /** Ask for the suggestion just shown again, under the current settings (the steering changed). */
  rerunSuggestion(): void {
    rerunSuggestion(this.view);
  }

  /** Turn "what fires here" on (its extension) or off (`[]`). */
  setWhatFires(extension: Extension): void {
    this.whatFiresExtension = extension;
    this.view.dispatch({ effects: this.whatFires.reconfigure(extension) });
  }

  /** A change the watcher saw on disk (another program's). */
  async externalChange(e: VaultEvent): Promise<void> {
    if (e.type === 'removed' && e.path === this.path) {
      this.hooks.announce('This note was deleted on disk. Your text is still here; it is saved again when you type.');
      this.baseHash = null;
      return;
    }
    if (e.type !== 'changed' || e.path !== this.path || e.hash === this.baseHash || this.conflict) return;
    if (this.inFlight) await this.inFlight;
    if (isDirty(this.view)) {
      // A save from the stale base is refused with both versions, which the server then keeps in
      // the note's history, and the refusal opens the conflict view: one path for both ways in.
      await this.save();
      return;
    }
    const disk = await api.read(e.path);
    if (disk.path !== this.path || disk.hash === this.baseHash) return;
    this.loadFromDisk(disk);
    this.hooks.announce('The note changed on disk and was reloaded.');
  }

  async resolveConflict(choice: ConflictChoice): Promise<void> {
    const c = this.conflict;
    if (!c) return;
    this.conflict = null;
    this.baseHash = c.disk.hash;
    if (choice === 'disk') {
      this.loadFromDisk({ path: c.path, ...c.disk });
      return;
    }
    const diskDoc = Text.of(c.disk.text.split('\n'));
    if (choice === 'merge') {
      const merged = mergeVersions(this.view.state.doc.toString(), c.base, c.disk.text);
      this.view.dispatch({ changes: { from: 0, to: this.view.state.doc.length, insert: merged.text }, effects: markSaved.of(diskDoc) });
      this.hooks.announce(merged.clean ? 'Merged: your changes and the changes on disk touched different lines.' : 'Merged: lines changed on both sides are marked <<<<<<< … >>>>>>> for you to choose.');
    } else {
      this.view.dispatch({ effects: markSaved.of(diskDoc) });
    }
    await this.save();
  }

  /** The note moved (renamed here or as part of a folder); `updated` notes had links rewritten on disk. */
  async renamed(moved: { from: string; to: string }[], updated: string[]): Promise<void> {
    const move = moved.find((m) => m.from === this.path);
    if (move) this.path = move.to;
    if (this.path && updated.includes(this.path)) this.loadFromDisk(await api.read(this.path));
  }

  private async saveOnce(path: string, keepalive: boolean): Promise<void> {
    const doc = this.view.state.doc;
    this.view.dispatch({ effects: markSaving.of(null) });
    try {
      const saved = await api.save({ path, text: doc.toString(), baseHash: this.baseHash }, keepalive);
      if (this.path !== path) return;
      this.baseHash = saved.hash;
      this.view.dispatch({ effects: markSaved.of(doc) });
    } catch (e) {
      if (this.path !== path) return;
      if (e instanceof ConflictError) {
        this.showConflict({ path, yours: this.view.state.doc.toString(), base: this.view.state.field(saveState).saved.toString(), disk: e.conflict.disk });
      } else {
        this.view.dispatch({ effects: markFailed.of({ status: 'failed', message: e instanceof ApiError ? e.message : String(e) }) });
      }
    }
  }

  private showConflict(c: Conflict): void {
    this.conflict = c;
    this.view.dispatch({ effects: markFailed.of({ status: 'conflict', message: 'changed on disk' }) });
    this.hooks.onConflict(c);
  }

  private loadFromDisk(note: Note): void {
    this.baseHash = note.hash;
    const head = Math.min(this.view.state.selection.main.head, note.text.length);
    this.view.dispatch({
      changes: { from: 0, to: this.view.state.doc.length, insert: note.text },
      selection: EditorSelection.cursor(head),
      // Undoable: the text it replaced is one Ctrl-Z away.
      annotations: [fromDisk.of(true), Transaction.addToHistory.of(true)],
    });
  }

  private suggestionExtension(): Extension {
    const s = this.settings.suggestions;
    if (!s.enabled) return [];
    return ghostText({
      source: openAiCompletionSource({ maxTokens: s.maxTokens, seed: s.seed, temperature: s.temperature, steering: activeSteering(this.settings.steering.spec), contextChars: 1000, preamble: s.relatedContext ? () => this.hooks.suggestionPreamble?.() : undefined }),
      pauseMs: s.pauseMs,
      onError: (e) => this.hooks.onSuggestionError(e instanceof Error ? e.message : String(e)),
    });
  }

  private extensions(): Extension[] {
    const save = (): void => void this.save();
    return [
      // Vim first: its keymap must see keys before every other keymap.
      vimMode(this.settings.vim),
      vimSave.of(save),
      this.suggestions.of(this.suggestionExtension()),
      this.marginExtension(),
      this.whatFires.of(this.whatFiresExtension),
      vaultKeymap({ save, followLink: (t) => this.hooks.followLink(t) }),
      history(),
      drawSelection(),
      dropCursor(),
      highlightSpecialChars(),
      search({ top: true }),
      keymap.of([...defaultKeymap, ...historyKeymap, ...searchKeymap]),
      EditorView.lineWrapping,
      livePreview(),
      editorTheme,
      EditorView.cspNonce.of(CSP_NONCE),
      autosave({ save }),
      EditorState.readOnly.of(this.path === null),
      // tabindex: the text is the scrolling region's focusable content (axe: scrollable-region-focusable).
      EditorView.contentAttributes.of({ 'aria-label': 'Note text', spellcheck: 'true', autocapitalize: 'sentences', tabindex: '0' }),
      EditorView.updateListener.of(() => this.hooks.onUpdate(this)),
    ];
  }

  /** Show margin notes at the cursor (src/app/margin/margin-notes.ts); says why when there can be none. */
  async showMarginNotes(): Promise<void> {
    if (!this.path) return;
    // One offer at a time: the cards take the ghost suggestion's place (and Tab then reaches them).
    dismissGhost(this.view);
    const why = await openMarginNotes(this.view);
    if (why) this.hooks.announce(why);
  }

  private marginExtension(): Extension {
    const s = (): Settings['suggestions'] => this.settings.suggestions;
    if (!this.path) return [];
    return marginNotes({
      // Asked again at one place: the next seeds, so the writer sees other continuations.
      variants: (round) => cardVariants(this.settings.steering.spec, s().seed + round * DEFAULT_CARD_COUNT, this.settings.steering.labels),
      source: (v) => openAiCompletionSource({ maxTokens: MARGIN_NOTE_TOKENS, seed: v.seed, temperature: s().temperature, steering: v.steering, contextChars: 1000 }),
      // this.path, read when called: a rename changes it while the note stays open.
      saved: async (before) => (this.path ? this.cards.find(this.path, before) : undefined),
      save: (before, cards) => void (this.path && this.cards.add(this.path, before, cards)),
      onError: (e) => this.hooks.onSuggestionError(e instanceof Error ? e.message : String(e)),
    });
  }

  /** The dirty/saved state, for the status line. */
  get status(): SaveState {
    return this.view.state.field(saveState);
  }
}
