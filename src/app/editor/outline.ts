/** The note's headings, from the markdown syntax tree (so `#` inside code fences is not a heading). */
import { ensureSyntaxTree } from '@codemirror/language';
import type { EditorState } from '@codemirror/state';

export interface Heading {
  level: number;
  text: string;
  /** Where the heading's line starts. */
  from: number;
}

const HEADING = /^(ATX|Setext)Heading(\d)$/;

export function outline(state: EditorState): Heading[] {
  const tree = ensureSyntaxTree(state, state.doc.length, 200);
  if (!tree) return [];
  const headings: Heading[] = [];
  tree.iterate({
    enter(node) {
      const m = HEADING.exec(node.name);
      if (!m) return undefined;
      const raw = state.sliceDoc(node.from, node.to);
      const text = (m[1] === 'ATX' ? raw.replace(/^#{1,6}\s*/, '').replace(/\s+#+\s*$/, '') : raw.split('\n')[0]).trim();
      headings.push({ level: Number(m[2]), text, from: node.from });
      return false;
    },
  });
  return headings;
}
