/**
 * The right-hand panel: search, outline, history or settings, one at a time, closed until asked
 * for. Opening moves focus into it; Esc or its close button closes it and returns to the text.
 */
import { byId, h } from './dom.js';

export interface PanelContent {
  readonly title: string;
  /** Build (or refresh) the panel's content; called each time it opens. */
  render(): HTMLElement | Promise<HTMLElement>;
  /** The element to focus when the panel opens (default: the panel's heading). */
  initialFocus?(): HTMLElement | null;
}

export class SidePanel {
  private readonly el = byId('panel');
  private current: PanelContent | null = null;

  constructor(private readonly onClose: () => void) {}

  get openPanel(): PanelContent | null {
    return this.current;
  }

  async toggle(panel: PanelContent): Promise<void> {
    if (this.current === panel) this.close();
    else await this.show(panel);
  }

  async show(panel: PanelContent): Promise<void> {
    this.current = panel;
    const close = h('button', { type: 'button', class: 'panel-close', 'aria-label': `Close ${panel.title.toLowerCase()}` }, '×');
    close.addEventListener('click', () => this.close());
    const heading = h('h2', { id: 'panel-title', tabindex: '-1' }, panel.title);
    const body = await panel.render();
    if (this.current !== panel) return;
    this.el.replaceChildren(h('header', { class: 'panel-head' }, heading, close), body);
    this.el.setAttribute('aria-labelledby', 'panel-title');
    this.el.hidden = false;
    document.body.dataset.panel = 'open';
    (panel.initialFocus?.() ?? heading).focus();
  }

  close(): void {
    if (!this.current) return;
    this.current = null;
    this.el.hidden = true;
    this.el.replaceChildren();
    delete document.body.dataset.panel;
    this.onClose();
  }
}
