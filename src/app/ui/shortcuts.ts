/**
 * The app's keyboard shortcuts, as data: ui/global-shortcuts.ts dispatches them, the settings panel
 * lists them, and the welcome note describes them (test/app/shortcuts.test.ts keeps the note honest).
 * Keys use CodeMirror's notation: "Mod" is Ctrl (Cmd on a Mac). Ctrl-N, Ctrl-T and Ctrl-W belong to
 * the browser and cannot be taken, hence Alt-N.
 */
export type CommandName = 'newNote' | 'newFolder' | 'rename' | 'focusTree' | 'toggleTree' | 'searchVault' | 'outline' | 'history' | 'settings' | 'focusEditor' | 'steering' | 'marginNotes' | 'trash' | 'related' | 'styleFromNotes' | 'features' | 'whatFires';

export interface Shortcut {
  key: string;
  command: CommandName;
  label: string;
}

export const GLOBAL_SHORTCUTS: Shortcut[] = [
  { key: 'Alt-n', command: 'newNote', label: 'New note' },
  { key: 'Alt-Shift-n', command: 'newFolder', label: 'New folder' },
  { key: 'F2', command: 'rename', label: 'Rename or move the note' },
  { key: 'Mod-Shift-e', command: 'focusTree', label: 'Go to the note list' },
  { key: 'Mod-\\', command: 'toggleTree', label: 'Show or hide the note list' },
  { key: 'Mod-Shift-f', command: 'searchVault', label: 'Search all notes' },
  { key: 'Mod-Shift-o', command: 'outline', label: 'Outline of the note' },
  { key: 'Mod-Shift-h', command: 'history', label: 'Saved versions of the note' },
  { key: 'Mod-,', command: 'settings', label: 'Settings' },
  { key: 'Mod-Shift-s', command: 'steering', label: 'Steering: features, tone, temperature and seed' },
  { key: 'Alt-m', command: 'marginNotes', label: 'Margin notes: other continuations beside the paragraph' },
  { key: 'Alt-t', command: 'trash', label: 'Trash: restore deleted notes and folders' },
  { key: 'Alt-r', command: 'related', label: 'Notes related to this one' },
  { key: 'Alt-w', command: 'styleFromNotes', label: 'Write like these notes: a style from notes you pick' },
  { key: 'Mod-Shift-l', command: 'features', label: 'Feature browser: search the model\'s features' },
  { key: 'Alt-i', command: 'whatFires', label: 'What fires here: mark the features at work in the paragraph' },
  { key: 'Escape', command: 'focusEditor', label: 'Close the panel, back to the text' },
];

/** Keys the editor itself handles, listed for the writer (not dispatched from here). */
export const EDITOR_SHORTCUTS: { key: string; label: string }[] = [
  { key: 'Mod-s', label: 'Save now (notes also save themselves)' },
  { key: 'Mod-f', label: 'Find and replace in the note' },
  { key: 'Mod-Enter', label: 'Open the [[link]] at the cursor' },
  { key: 'Mod-z', label: 'Undo' },
  { key: 'Tab', label: 'Accept the suggestion' },
  { key: 'Ctrl-ArrowRight', label: 'Accept the next word of the suggestion (also Alt-→)' },
  { key: 'Escape', label: 'Dismiss the suggestion' },
  { key: 'Alt-Shift-i', label: 'With "what fires here" on: the features of the word at the cursor' },
];

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

/** "Mod-Shift-f" → "Ctrl+Shift+F" (or "⌘⇧F" on a Mac), for display. */
export function keyLabel(key: string): string {
  const parts = key.split(/-(?!$)/);
  const names: Record<string, string> = isMac
    ? { Mod: '⌘', Ctrl: '⌃', Alt: '⌥', Shift: '⇧', ArrowRight: '→', Escape: 'Esc', Enter: '↩' }
    : { Mod: 'Ctrl', ArrowRight: '→', Escape: 'Esc' };
  const shown = parts.map((p) => names[p] ?? (p.length === 1 ? p.toUpperCase() : p));
  return shown.join(isMac ? '' : '+');
}

/** Whether a keydown event is `key` (CodeMirror notation). */
export function matchesKey(e: KeyboardEvent, key: string): boolean {
  const parts = key.split(/-(?!$)/);
  const name = parts[parts.length - 1];
  const mods = new Set(parts.slice(0, -1));
  const mod = isMac ? e.metaKey : e.ctrlKey;
  if (mods.has('Mod') !== mod || mods.has('Alt') !== e.altKey || mods.has('Shift') !== e.shiftKey) return false;
  if (!isMac && e.metaKey) return false;
  // With Alt (Option on a Mac) or Shift held, e.key may be another character; e.code names the key.
  if (name.length === 1 && /[a-z]/i.test(name)) return e.code === `Key${name.toUpperCase()}`;
  if (name === '\\') return e.code === 'Backslash';
  if (name === ',') return e.code === 'Comma';
  return e.key === name;
}
