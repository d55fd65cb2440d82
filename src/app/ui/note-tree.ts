/**
 * The vault's folders and notes as a WAI-ARIA tree (APG "Tree View" pattern): one tab stop, arrows
 * move (↑/↓ between visible items, → opens a folder or enters it, ← closes it or goes to its parent),
 * Home/End, Enter opens a note or toggles a folder, F2 renames or moves, Delete moves to the trash.
 * Only expanded folders' children are in the DOM, so the DOM order is the visible order.
 */
import type { TreeFolder, TreeNote } from '../../vault/vault-api.js';
import { h } from './dom.js';

export interface NoteTreeActions {
  open(path: string): void;
  rename(path: string, kind: 'note' | 'folder'): void;
  trash(path: string, kind: 'note' | 'folder'): void;
}

export class NoteTree {
  private root: TreeFolder | null = null;
  private readonly expanded = new Set<string>();
  /** The item holding the tree's one tab stop. */
  private focusPath: string | null = null;
  /** The open note. */
  private activePath: string | null = null;

  constructor(
    private readonly el: HTMLElement,
    private readonly actions: NoteTreeActions,
  ) {
    el.setAttribute('role', 'tree');
    el.addEventListener('keydown', (e) => this.onKey(e));
    el.addEventListener('click', (e) => this.onClick(e));
  }

  setTree(root: TreeFolder): void {
    this.root = root;
    this.render();
  }

  /** Mark the open note, opening the folders above it. */
  setActive(path: string | null): void {
    this.activePath = path;
    if (path) {
      const parts = path.split('/');
      for (let i = 1; i < parts.length; i++) this.expanded.add(parts.slice(0, i).join('/'));
      this.focusPath = path;
    }
    this.render();
  }

  /** Move keyboard focus into the tree (to the last focused item, the open note, or the first item). */
  focus(): void {
    const item = this.itemFor(this.focusPath) ?? this.itemFor(this.activePath) ?? this.items()[0];
    item?.focus();
  }

  /** The folder new notes go into: the focused folder, or the focused note's folder. */
  currentFolder(): string {
    const p = this.focusPath ?? this.activePath ?? '';
    const item = this.itemFor(p);
    if (item?.dataset.kind === 'folder') return p;
    return p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '';
  }

  /** All note paths, for resolving [[links]]. */
  notePaths(): string[] {
    const out: string[] = [];
    const walk = (f: TreeFolder): void => {
      for (const c of f.children) c.kind === 'folder' ? walk(c) : out.push(c.path);
    };
    if (this.root) walk(this.root);
    return out;
  }

  private render(): void {
    if (!this.root) return;
    const hadFocus = this.el.contains(document.activeElement);
    const group = (folder: TreeFolder, level: number): HTMLElement[] => folder.children.map((c) => this.renderItem(c, level));
    this.el.replaceChildren(...group(this.root, 1));
    if (!this.itemFor(this.focusPath)) this.focusPath = this.items()[0]?.dataset.path ?? null;
    this.itemFor(this.focusPath)?.setAttribute('tabindex', '0');
    if (hadFocus) this.focus();
  }

  private renderItem(node: TreeFolder | TreeNote, level: number): HTMLElement {
    const isFolder = node.kind === 'folder';
    const open = isFolder && this.expanded.has(node.path);
    const li = h(
      'li',
      {
        role: 'treeitem',
        'aria-level': String(level),
        'aria-expanded': isFolder ? String(open) : undefined,
        'aria-selected': node.kind === 'note' ? String(node.path === this.activePath) : undefined,
        'aria-current': node.path === this.activePath ? 'page' : undefined,
        tabindex: '-1',
        class: `tree-item tree-${node.kind}`,
      },
      // Named by its content, as WAI-ARIA's tree pattern does: browsers leave the nested group out
      // of a treeitem's name, and an explicit label would not match the visible text (WCAG 2.5.3).
      h('span', { class: 'tree-label' }, node.name),
    );
    li.dataset.path = node.path;
    li.dataset.kind = node.kind;
    if (isFolder && open) li.append(h('ul', { role: 'group' }, ...node.children.map((c) => this.renderItem(c, level + 1))));
    return li;
  }

  private items(): HTMLElement[] {
    return [...this.el.querySelectorAll<HTMLElement>('[role=treeitem]')];
  }

  private itemFor(path: string | null): HTMLElement | undefined {
    if (path === null) return undefined;
    return this.items().find((i) => i.dataset.path === path);
  }

  private moveTo(item: HTMLElement | undefined): void {
    if (!item) return;
    for (const i of this.items()) i.setAttribute('tabindex', '-1');
    item.setAttribute('tabindex', '0');
    this.focusPath = item.dataset.path ?? null;
    item.focus();
  }

  private toggle(path: string, open: boolean): void {
    if (open) this.expanded.add(path);
    else this.expanded.delete(path);
    this.focusPath = path;
    this.render();
    this.focus();
  }

  private onClick(e: MouseEvent): void {
    const item = (e.target as HTMLElement).closest<HTMLElement>('[role=treeitem]');
    if (!item?.dataset.path) return;
    e.stopPropagation();
    this.moveTo(item);
    if (item.dataset.kind === 'folder') this.toggle(item.dataset.path, !this.expanded.has(item.dataset.path));
    else this.actions.open(item.dataset.path);
  }

  private onKey(e: KeyboardEvent): void {
    const item = (e.target as HTMLElement).closest<HTMLElement>('[role=treeitem]');
    if (!item?.dataset.path || e.altKey || e.ctrlKey || e.metaKey) return;
    const path = item.dataset.path;
    const kind = item.dataset.kind as 'note' | 'folder';
    const items = this.items();
    const i = items.indexOf(item);
    const handled = (): void => e.preventDefault();
    switch (e.key) {
      case 'ArrowDown':
        this.moveTo(items[i + 1]);
        return handled();
      case 'ArrowUp':
        this.moveTo(items[i - 1]);
        return handled();
      case 'Home':
        this.moveTo(items[0]);
        return handled();
      case 'End':
        this.moveTo(items[items.length - 1]);
        return handled();
      case 'ArrowRight':
        if (kind === 'folder' && !this.expanded.has(path)) this.toggle(path, true);
        else if (kind === 'folder') this.moveTo(items[i + 1]?.parentElement?.parentElement === item ? items[i + 1] : undefined);
        return handled();
      case 'ArrowLeft':
        if (kind === 'folder' && this.expanded.has(path)) this.toggle(path, false);
        else this.moveTo(item.parentElement?.closest<HTMLElement>('[role=treeitem]') ?? undefined);
        return handled();
      case 'Enter':
      case ' ':
        if (kind === 'folder') this.toggle(path, !this.expanded.has(path));
        else this.actions.open(path);
        return handled();
      case 'F2':
        this.actions.rename(path, kind);
        return handled();
      case 'Delete':
        this.actions.trash(path, kind);
        return handled();
    }
  }
}
