/**
 * Markdown with live-preview styling, the way iA Writer does it: the source stays visible and
 * editable, but headings are set larger with air above them, emphasis is italic, strong is bold,
 * links are coloured, quotes are indented, code is set apart, and the markup characters themselves
 * (`#`, `*`, `_`, `>`, list marks, `[[ ]]`) recede into the muted colour. Frontmatter is YAML.
 */
import { markdownKeymap, markdownLanguage } from '@codemirror/lang-markdown';
import { yamlFrontmatter } from '@codemirror/lang-yaml';
import { HighlightStyle, syntaxHighlighting, syntaxTree } from '@codemirror/language';
import { RangeSetBuilder, type Extension } from '@codemirror/state';
import { Decoration, EditorView, keymap, MatchDecorator, ViewPlugin, type DecorationSet, type ViewUpdate } from '@codemirror/view';
import { tags as t } from '@lezer/highlight';

const markdownStyle = HighlightStyle.define([
  { tag: t.heading1, fontSize: '1.6em', fontWeight: '600', lineHeight: '1.3' },
  { tag: t.heading2, fontSize: '1.3em', fontWeight: '600', lineHeight: '1.35' },
  { tag: t.heading3, fontSize: '1.12em', fontWeight: '600' },
  { tag: [t.heading4, t.heading5, t.heading6], fontWeight: '600' },
  { tag: t.emphasis, fontStyle: 'italic' },
  { tag: t.strong, fontWeight: '700' },
  { tag: t.strikethrough, textDecoration: 'line-through' },
  { tag: [t.link, t.url], color: 'var(--accent)' },
  { tag: [t.processingInstruction, t.contentSeparator, t.meta, t.labelName], color: 'var(--muted)' },
  { tag: t.monospace, fontFamily: 'var(--code-font)', fontSize: '0.9em' },
  { tag: t.quote, fontStyle: 'italic' },
]);

/** Line classes for the block structure the highlighter cannot reach (spacing above headings, quote and code blocks). */
const BLOCK_LINE_CLASS: Record<string, string> = {
  ATXHeading1: 'cm-md-h1',
  ATXHeading2: 'cm-md-h2',
  ATXHeading3: 'cm-md-h3',
  SetextHeading1: 'cm-md-h1',
  SetextHeading2: 'cm-md-h2',
  Blockquote: 'cm-md-quote',
  FencedCode: 'cm-md-code',
  CodeBlock: 'cm-md-code',
  Frontmatter: 'cm-md-frontmatter',
};

const blockLines = ViewPlugin.fromClass(
  class {
    decorations: DecorationSet;
    constructor(view: EditorView) {
      this.decorations = build(view);
    }
    update(u: ViewUpdate): void {
      if (u.docChanged || u.viewportChanged || syntaxTree(u.startState) !== syntaxTree(u.state)) this.decorations = build(u.view);
    }
  },
  { decorations: (p) => p.decorations },
);

function build(view: EditorView): DecorationSet {
  const lines = new Map<number, string>();
  for (const { from, to } of view.visibleRanges) {
    syntaxTree(view.state).iterate({
      from,
      to,
      enter(node) {
        const cls = BLOCK_LINE_CLASS[node.name];
        if (!cls) return;
        const first = view.state.doc.lineAt(node.from).number;
        const last = view.state.doc.lineAt(node.to).number;
        for (let n = first; n <= last; n++) {
          const line = view.state.doc.line(n);
          lines.set(line.from, [lines.get(line.from), cls].filter(Boolean).join(' '));
        }
      },
    });
  }
  const builder = new RangeSetBuilder<Decoration>();
  for (const from of [...lines.keys()].sort((a, b) => a - b)) builder.add(from, from, Decoration.line({ class: lines.get(from) }));
  return builder.finish();
}

/** `[[wikilinks]]`: the link text coloured, the brackets muted (Obsidian's form; markdown itself has no such syntax). */
const linkMark = Decoration.mark({ class: 'cm-wikilink' });
const bracketMark = Decoration.mark({ class: 'cm-wikilink-bracket' });
const wikilinkMatcher = new MatchDecorator({
  regexp: /\[\[[^[\]\n]+\]\]/g,
  decorate: (add, from, to) => {
    add(from, from + 2, bracketMark);
    add(from + 2, to - 2, linkMark);
    add(to - 2, to, bracketMark);
  },
});
const wikilinks = ViewPlugin.fromClass(
  class {
    decorations: DecorationSet;
    constructor(view: EditorView) {
      this.decorations = wikilinkMatcher.createDeco(view);
    }
    update(u: ViewUpdate): void {
      this.decorations = wikilinkMatcher.updateDeco(u, this.decorations);
    }
  },
  { decorations: (p) => p.decorations },
);

export function livePreview(): Extension {
  // The GFM language without markdown()'s HTML-tag completion, which would bundle the HTML, CSS and
  // JavaScript parsers for a feature a prose editor does not need; Enter still continues lists and quotes.
  return [yamlFrontmatter({ content: markdownLanguage }), keymap.of(markdownKeymap), syntaxHighlighting(markdownStyle), blockLines, wikilinks];
}
