/**
 * Vim keys (@replit/codemirror-vim), switchable in settings. Vim's keymap must come before every
 * other keymap, so the app puts `vimMode()` first in the editor's extensions; its compartment lets
 * the setting change without rebuilding the editor. `:w` saves through the same command as Mod-S.
 */
import { Compartment, Facet, type Extension } from '@codemirror/state';
import type { EditorView } from '@codemirror/view';
import { Vim, vim } from '@replit/codemirror-vim';

const vimCompartment = new Compartment();

/** How `:w` saves the note in this editor (the app provides it). */
export const vimSave = Facet.define<(view: EditorView) => void, ((view: EditorView) => void) | undefined>({ combine: (v) => v[0] });

Vim.defineEx('write', 'w', (cm) => {
  const view = cm.cm6 as EditorView;
  view.state.facet(vimSave)?.(view);
});

export function vimMode(enabled: boolean): Extension {
  return vimCompartment.of(enabled ? vim({ status: true }) : []);
}

export function setVimMode(view: EditorView, enabled: boolean): void {
  view.dispatch({ effects: vimCompartment.reconfigure(enabled ? vim({ status: true }) : []) });
}
