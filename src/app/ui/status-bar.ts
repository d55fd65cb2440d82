/** The quiet line under the text: which note, whether it is saved, how many words, and the suggestions' state and seed. */
import type { SaveState } from '../editor/autosave.js';
import { byId } from './dom.js';

const SAVE_LABEL: Record<SaveState['status'], string> = {
  saved: 'Saved',
  dirty: 'Edited',
  saving: 'Saving…',
  conflict: 'Changed on disk',
  failed: 'Not saved',
};

export class StatusBar {
  private readonly note = byId('status-note');
  private readonly save = byId('status-save');
  private readonly words = byId('status-words');
  private readonly suggest = byId('status-suggest');
  private readonly steer = byId('status-steer');

  setNote(path: string | null): void {
    this.note.textContent = path ? path.replace(/\.md$/i, '').split('/').join(' / ') : 'No note open';
  }

  setSave(s: SaveState | null): void {
    if (!s) {
      this.save.textContent = '';
      return;
    }
    this.save.textContent = s.status === 'failed' ? `Not saved: ${s.message}` : SAVE_LABEL[s.status];
    this.save.dataset.status = s.status;
  }

  setWords(words: number, selected: number): void {
    const w = (n: number): string => `${n.toLocaleString()} ${n === 1 ? 'word' : 'words'}`;
    this.words.textContent = selected > 0 ? `${w(selected)} of ${w(words)}` : w(words);
  }

  setSuggestions(text: string): void {
    this.suggest.textContent = text;
  }

  /** "Steered · 2 features", or nothing when the suggestions are not steered. */
  setSteering(text: string | null): void {
    this.steer.textContent = text ?? '';
  }
}
