/**
 * The app-wide keys (ui/shortcuts.ts) from anywhere on the page: the text, the tree or a panel.
 * Keys the editor already handled (vim, CodeMirror, ghost text) arrive here with defaultPrevented
 * and are left alone; while a dialog is open it owns the keyboard.
 */
import { GLOBAL_SHORTCUTS, matchesKey, type CommandName } from './shortcuts.js';

export function installGlobalShortcuts(run: (command: CommandName) => boolean): void {
  window.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || document.querySelector('dialog[open]')) return;
    const inEditor = (e.target as Element | null)?.closest?.('.cm-editor') != null;
    for (const s of GLOBAL_SHORTCUTS) {
      // In the text, Esc belongs to the editor (suggestions, vim, the find bar).
      if (s.command === 'focusEditor' && inEditor) continue;
      if (matchesKey(e, s.key) && run(s.command)) {
        e.preventDefault();
        return;
      }
    }
  });
}
