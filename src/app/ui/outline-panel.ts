/** The note's headings as a list of buttons; choosing one puts the cursor on it and returns to the text. */
import type { EditorView } from '@codemirror/view';
import { EditorSelection } from '@codemirror/state';
import { outline } from '../editor/outline.js';
import { h } from './dom.js';
import type { PanelContent } from './side-panel.js';

export class OutlinePanel implements PanelContent {
  readonly title = 'Outline';
  private first: HTMLElement | null = null;

  constructor(
    private readonly view: () => EditorView,
    private readonly done: () => void,
  ) {}

  render(): HTMLElement {
    const view = this.view();
    const headings = outline(view.state);
    this.first = null;
    if (headings.length === 0) return h('p', { class: 'panel-empty' }, 'This note has no headings yet. Lines starting with # become headings.');
    const list = h('ul', { class: 'outline-list' });
    for (const hd of headings) {
      const b = h('button', { type: 'button', class: `outline-item outline-level-${Math.min(hd.level, 4)}` }, hd.text || '(untitled heading)');
      b.addEventListener('click', () => {
        view.dispatch({ selection: EditorSelection.cursor(view.state.doc.lineAt(hd.from).to), scrollIntoView: true });
        this.done();
        view.focus();
      });
      this.first ??= b;
      list.append(h('li', {}, b));
    }
    return list;
  }

  initialFocus(): HTMLElement | null {
    return this.first;
  }
}
