/**
 * Where ghost text may be offered. Not inside YAML frontmatter, fenced or indented code, inline
 * code or HTML (the model writes prose); not in a note whose frontmatter says `suggestions: off`
 * (also `false` or `no`); and not in the middle of a sentence.
 *
 * The model sees only the text before the cursor, so a continuation is right where nothing the
 * writer wrote follows it in the same sentence:
 *   - at the end of a line (only whitespace after the cursor);
 *   - before closing punctuation only: `(as we saw|)`, `“I know|”`, `**bold|**`, `the end|.` — the
 *     sentence is being finished inside its closers, which stay after the suggestion;
 *   - between sentences: right after a sentence's end and the space that follows it
 *     (`It rained. | Then it stopped.`), where a whole new sentence fits. There the suggestion is
 *     cut at its first sentence end (see ghost-text.ts), so it never runs into the next one.
 * Anywhere else mid-line (inside a word, or mid-sentence with words after the cursor) the
 * continuation would ignore the words that follow it, so nothing is offered.
 */
import { ensureSyntaxTree } from '@codemirror/language';
import type { EditorState } from '@codemirror/state';

const NO_SUGGESTION_NODES = new Set(['Frontmatter', 'FencedCode', 'CodeBlock', 'InlineCode', 'HTMLBlock', 'CommentBlock']);
// Closing brackets and quotes (Unicode Pe, Pf), straight quotes, emphasis and strikethrough markers, clause and sentence ends.
const CLOSERS_ONLY = /^[\s\p{Pe}\p{Pf}"'*_~.,;:!?…]*$/u;
// A sentence's end and the space after it: terminal punctuation, any closing quotes, brackets or emphasis, whitespace.
const AFTER_SENTENCE_END = /[.!?…][\p{Pe}\p{Pf}"'*_]*\s+$/u;

/** The reason no suggestion may be shown at `pos`, or null when one may. */
export function suggestionBlocked(state: EditorState, pos: number): string | null {
  if (notesOptOut(state)) return 'note has suggestions off';
  const line = state.doc.lineAt(pos);
  if (!CLOSERS_ONLY.test(line.text.slice(pos - line.from)) && !betweenSentences(state, pos)) return 'mid-sentence';
  const tree = ensureSyntaxTree(state, pos, 50);
  if (!tree) return 'not parsed yet';
  for (let node: ReturnType<typeof tree.resolveInner> | null = tree.resolveInner(pos, -1); node; node = node.parent) {
    if (NO_SUGGESTION_NODES.has(node.name)) return node.name;
  }
  return null;
}

/** The cursor sits after a sentence's end, with more of the line (another sentence) after it: a suggestion there is one sentence. */
export function betweenSentences(state: EditorState, pos: number): boolean {
  const line = state.doc.lineAt(pos);
  return AFTER_SENTENCE_END.test(line.text.slice(0, pos - line.from)) && line.text.slice(pos - line.from).trim() !== '';
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
