/**
 * The editor's look, read from the page's CSS custom properties (src/app/theme/palettes.ts), so a
 * theme or text-size change restyles it without reconfiguring. One text face; a measure of about
 * 66 characters (inside the 60–75 that typographers recommend); line height 1.7.
 */
import { EditorView } from '@codemirror/view';

export const editorTheme = EditorView.theme({
  '&': { color: 'var(--text)', backgroundColor: 'var(--background)', fontSize: 'var(--text-size)', height: '100%' },
  '&.cm-focused': { outline: 'none' },
  '.cm-scroller': { fontFamily: 'var(--text-font)', lineHeight: '1.7', overflow: 'auto' },
  // 56ch of the text face is about 66 characters of prose (a character averages ~0.83 of the "0" that ch measures).
  '.cm-content': {
    maxWidth: 'calc(56ch + 4rem)',
    margin: '0 auto',
    padding: '12vh 2rem 40vh',
    caretColor: 'var(--accent)',
  },
  '.cm-line': { padding: '0' },
  '.cm-cursor, .cm-dropCursor': { borderLeftColor: 'var(--accent)', borderLeftWidth: '2px' },
  '&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, .cm-content ::selection': {
    backgroundColor: 'var(--selection)',
  },
  '.cm-activeLine': { backgroundColor: 'transparent' },
  '.cm-md-h1': { paddingTop: '0.9em !important' },
  '.cm-md-h2': { paddingTop: '0.7em !important' },
  '.cm-md-h3': { paddingTop: '0.5em !important' },
  '.cm-md-quote': { borderLeft: '2px solid var(--border)', paddingLeft: '1em !important' },
  '.cm-md-code': { fontFamily: 'var(--code-font)', fontSize: '0.88em', backgroundColor: 'var(--surface)' },
  '.cm-md-frontmatter': { color: 'var(--muted)', fontSize: '0.88em' },
  '.cm-wikilink': { color: 'var(--accent)' },
  '.cm-wikilink-bracket': { color: 'var(--muted)' },
  // Suggested text: italic (a cue that does not rely on colour) in a colour that still meets WCAG 4.5:1.
  '.cm-ghost-text': { color: 'var(--ghost)', fontStyle: 'italic' },
  '.cm-searchMatch': { backgroundColor: 'var(--mark)', borderRadius: '2px' },
  '.cm-searchMatch-selected': { outline: '1px solid var(--accent)' },
  '.cm-panels': { backgroundColor: 'var(--surface)', color: 'var(--text)', fontFamily: 'var(--text-font)' },
  '.cm-panels.cm-panels-top': { borderBottom: '1px solid var(--border)' },
  '.cm-panels.cm-panels-bottom': { borderTop: '1px solid var(--border)' },
  '.cm-search': { fontSize: '0.8rem', padding: '0.5rem 1rem' },
  '.cm-search input, .cm-search button, .cm-search label': { fontFamily: 'inherit', fontSize: 'inherit' },
  '.cm-textfield': { backgroundColor: 'var(--background)', color: 'var(--text)', border: '1px solid var(--border)', borderRadius: '4px', padding: '0.2em 0.4em' },
  '.cm-button': { backgroundImage: 'none', backgroundColor: 'var(--background)', color: 'var(--text)', border: '1px solid var(--border)', borderRadius: '4px' },
  '.cm-panel.cm-search [name=close]': { color: 'var(--muted)' },
  '.cm-fat-cursor': { backgroundColor: 'var(--accent) !important', color: 'var(--background) !important' },
  '&:not(.cm-focused) .cm-fat-cursor': { outline: '1px solid var(--accent)', backgroundColor: 'transparent !important' },
  '.cm-vim-panel': { fontFamily: 'var(--code-font)', padding: '0.2rem 1rem' },
  '.cm-vim-panel input': { color: 'var(--text)', fontFamily: 'inherit' },
});
