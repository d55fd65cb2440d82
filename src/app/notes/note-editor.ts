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
import { ghostText } from '../editor/ghost-text.js';
import { livePreview } from '../editor/live-preview.js';
import { vaultKeymap } from '../editor/vault-keymap.js';
import { vimMode, vimSave, setVimMode } from '../editor/vim-mode.js';
import { openAiCompletionSource } from '../suggest/openai-completion-source.js';
import { activeSteering } from '../steer/steering-spec-edit.js';
import { mergeVersions } from './merge-versions.js';

export interface Conflict {
  path: string;
  yours: string;
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
}

export type ConflictChoice = 'mine' | 'disk' | 'merge';

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
      const merged = mergeVersions(this.view.state.doc.toString(), c.disk.text);
      this.view.dispatch({ changes: { from: 0, to: this.view.state.doc.length, insert: merged }, effects: markSaved.of(diskDoc) });
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
        this.showConflict({ path, yours: this.view.state.doc.toString(), disk: e.conflict.disk });
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
      source: openAiCompletionSource({ maxTokens: s.maxTokens, seed: s.seed, temperature: s.temperature, steering: activeSteering(this.settings.steering.spec), contextChars: 1000 }),
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

  /** The dirty/saved state, for the status line. */
  get status(): SaveState {
    return this.view.state.field(saveState);
  }
}
