/**
 * Where a markdown text holds code — inline code spans, fenced and indented code blocks — as
 * CommonMark defines them (parsed with @lezer/markdown, the parser of CodeMirror's markdown mode).
 * Link rewriting leaves these ranges alone: a link written inside code is an example, not a link.
 * No Node imports: the page bundles this too.
 */
import { parser } from '@lezer/markdown';

const CODE_NODES = new Set(['InlineCode', 'FencedCode', 'CodeBlock']);

/** [from, to) offsets of every code span and code block in `text`, in document order. */
export function codeRanges(text: string): [number, number][] {
  const ranges: [number, number][] = [];
  parser.parse(text).iterate({
    enter(node) {
      if (!CODE_NODES.has(node.name)) return true;
      ranges.push([node.from, node.to]);
      return false;
    },
  });
  return ranges;
}

export function inRanges(ranges: readonly [number, number][], pos: number): boolean {
  return ranges.some(([from, to]) => pos >= from && pos < to);
}
