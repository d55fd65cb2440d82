/**
 * Where ghost text may be offered. Not inside YAML frontmatter, fenced or indented code, inline
 * code or HTML (the model writes prose); not in the middle of a line (a continuation belongs at its
 * end); and not in a note whose frontmatter says `suggestions: off` (also `false` or `no`).
 */
import { ensureSyntaxTree } from '@codemirror/language';
import type { EditorState } from '@codemirror/state';

const NO_SUGGESTION_NODES = new Set(['Frontmatter', 'FencedCode', 'CodeBlock', 'InlineCode', 'HTMLBlock', 'CommentBlock']);

/** The reason no suggestion may be shown at `pos`, or null when one may. */
export function suggestionBlocked(state: EditorState, pos: number): string | null {
  if (notesOptOut(state)) return 'note has suggestions off';
  const line = state.doc.lineAt(pos);
  if (line.text.slice(pos - line.from).trim() !== '') return 'mid-line';
  const tree = ensureSyntaxTree(state, pos, 50);
  if (!tree) return 'not parsed yet';
  for (let node: ReturnType<typeof tree.resolveInner> | null = tree.resolveInner(pos, -1); node; node = node.parent) {
    if (NO_SUGGESTION_NODES.has(node.name)) return node.name;
  }
  return null;
}

/** The `suggestions:` key of the note's leading frontmatter block is off, false or no. */
function notesOptOut(state: EditorState): boolean {
  const doc = state.doc;
  if (doc.lines < 2 || doc.line(1).text.trimEnd() !== '---') return false;
  for (let i = 2; i <= Math.min(doc.lines, 200); i++) {
    const text = doc.line(i).text;
    if (text.trimEnd() === '---' || text.trimEnd() === '...') return false;
    const m = /^suggestions\s*:\s*(\S+)\s*$/i.exec(text);
    if (m) return /^(off|false|no)$/i.test(m[1]);
  }
  return false;
}
