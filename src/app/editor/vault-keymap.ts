/**
 * Keys that act on the note as part of the vault: save now, and follow the `[[wikilink]]` under the
 * cursor. Above the default keymap (Mod-Enter would otherwise insert a blank line); vim's keys
 * still come first. Keys that work anywhere in the app (panels, tree) live in ui/global-shortcuts.ts.
 */
import { Prec, type Extension } from '@codemirror/state';
import { keymap, type EditorView } from '@codemirror/view';

export interface VaultKeyCommands {
  save(view: EditorView): void;
  /** Open the note a link target names (as written inside the brackets, without alias or heading). */
  followLink(target: string): void;
}

const WIKILINK = /\[\[([^[\]|#^\n]+)(?:#[^[\]|\n]*)?(?:\|[^[\]\n]*)?\]\]/g;

/** The target of the wikilink around `pos`, if the cursor is inside one. */
function wikilinkAt(view: EditorView, pos: number): string | undefined {
  const line = view.state.doc.lineAt(pos);
  for (const m of line.text.matchAll(WIKILINK)) {
    const from = line.from + (m.index ?? 0);
    if (pos >= from && pos <= from + m[0].length) return m[1].trim();
  }
  return undefined;
}

export function vaultKeymap(commands: VaultKeyCommands): Extension {
  return Prec.high(
    keymap.of([
      {
        key: 'Mod-s',
        preventDefault: true,
        run: (view) => {
          commands.save(view);
          return true;
        },
      },
      {
        key: 'Mod-Enter',
        run: (view) => {
          const target = wikilinkAt(view, view.state.selection.main.head);
          if (target === undefined) return false;
          commands.followLink(target);
          return true;
        },
      },
    ]),
  );
}
