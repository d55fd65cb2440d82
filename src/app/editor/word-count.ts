/**
 * Words as a writer counts them: runs of letters, digits and marks, with apostrophes and hyphens
 * inside a word ("don't", "well-known" are one); markdown punctuation (#, *, >, -) is not a word.
 * YAML frontmatter is not part of the text.
 */
import type { EditorState } from '@codemirror/state';

const WORD = /[\p{L}\p{N}\p{M}]+(?:['’\-.][\p{L}\p{N}\p{M}]+)*/gu;

export function countWords(text: string): number {
  return text.match(WORD)?.length ?? 0;
}

/** Words in the note (without its frontmatter) and in the selection, if any. */
export function wordCounts(state: EditorState): { words: number; selected: number } {
  const doc = state.doc.toString();
  const body = doc.startsWith('---\n') ? doc.slice(frontmatterEnd(doc)) : doc;
  const sel = state.selection.main;
  return { words: countWords(body), selected: sel.empty ? 0 : countWords(state.sliceDoc(sel.from, sel.to)) };
}

function frontmatterEnd(doc: string): number {
  const m = /\n(---|\.\.\.)[ \t]*(\n|$)/.exec(doc.slice(3));
  return m ? 3 + m.index + m[0].length : 0;
}
