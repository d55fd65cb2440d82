/**
 * Autosave and the dirty/saved indicator's state. A StateField remembers the document as last
 * saved and what the save machinery is doing; `autosave()` calls `save` once typing has paused for
 * `delayMs` (AUTOSAVE_DELAY_MS). The saving itself (the network, conflicts) belongs to the caller.
 */
import { Annotation, StateEffect, StateField, type Extension, type Text } from '@codemirror/state';
import { EditorView, ViewPlugin, type ViewUpdate } from '@codemirror/view';

export type SaveStatus = 'saved' | 'dirty' | 'saving' | 'conflict' | 'failed';

export interface SaveState {
  /** The document as the disk now has it (after the last successful save or load). */
  saved: Text;
  status: SaveStatus;
  /** Why the last save failed, for the status line. */
  message: string;
}

export const markSaving = StateEffect.define<null>();
/** A save of `doc` succeeded (the doc may have changed again meanwhile). */
export const markSaved = StateEffect.define<Text>();
export const markFailed = StateEffect.define<{ status: 'conflict' | 'failed'; message: string }>();
/** On a transaction that replaces the text with the disk's version: no save, the new text is the saved one. */
export const fromDisk = Annotation.define<boolean>();

export const saveState = StateField.define<SaveState>({
  create: (state) => ({ saved: state.doc, status: 'saved', message: '' }),
  update(s, tr) {
    if (tr.annotation(fromDisk)) return { saved: tr.newDoc, status: 'saved', message: '' };
    for (const e of tr.effects) {
      if (e.is(markSaving)) s = { ...s, status: 'saving', message: '' };
      else if (e.is(markSaved)) s = { saved: e.value, status: e.value.eq(tr.newDoc) ? 'saved' : 'dirty', message: '' };
      else if (e.is(markFailed)) s = { ...s, ...e.value };
    }
    if (tr.docChanged && (s.status === 'saved' || s.status === 'dirty')) s = { ...s, status: tr.newDoc.eq(s.saved) ? 'saved' : 'dirty' };
    return s;
  },
});

/** True while the editor holds text that is not on disk. */
export function isDirty(view: EditorView): boolean {
  return !view.state.doc.eq(view.state.field(saveState).saved);
}

/** Pause after the last edit before saving: with the save itself, a change is on disk within about 2 s. */
export const AUTOSAVE_DELAY_MS = 1000;

export interface AutosaveConfig {
  delayMs?: number;
  save: (view: EditorView) => void;
}

export function autosave(config: AutosaveConfig): Extension {
  const delayMs = config.delayMs ?? AUTOSAVE_DELAY_MS;
  const plugin = ViewPlugin.fromClass(
    class {
      private timer: ReturnType<typeof setTimeout> | undefined;
      constructor(private readonly view: EditorView) {}
      update(u: ViewUpdate): void {
        const edited = u.docChanged && !u.transactions.some((tr) => tr.annotation(fromDisk));
        // A save that finished while the writer kept typing leaves the note dirty: save again.
        const savedStale = u.transactions.some((tr) => tr.effects.some((e) => e.is(markSaved))) && u.state.field(saveState).status === 'dirty';
        if (edited || savedStale) {
          clearTimeout(this.timer);
          this.timer = setTimeout(() => config.save(this.view), delayMs);
        }
      }
      destroy(): void {
        clearTimeout(this.timer);
      }
    },
  );
  return [saveState, plugin];
}
