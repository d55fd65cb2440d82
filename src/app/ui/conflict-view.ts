/**
 * A note changed on disk while the writer had unsaved text: both versions side by side, and three
 * ways out (keep mine, keep the disk's, merge both into the note). Nothing is lost whichever is
 * chosen: the server has kept both versions in the note's history. The view says beforehand whether
 * merging is clean (the two sides changed different lines) or leaves marked lines to finish.
 */
import { mergeVersions } from '../notes/merge-versions.js';
import type { Conflict, ConflictChoice } from '../notes/note-editor.js';
import { byId, h } from './dom.js';

export function showConflict(c: Conflict, choose: (choice: ConflictChoice) => void): void {
  const el = byId('conflict');
  const button = (choice: ConflictChoice, label: string, primary = false): HTMLButtonElement => {
    const b = h('button', { type: 'button', class: primary ? 'primary' : undefined }, label);
    b.addEventListener('click', () => {
      hideConflict();
      choose(choice);
    });
    return b;
  };
  const heading = h('h2', { id: 'conflict-title', tabindex: '-1' }, 'This note changed on disk while you were writing');
  el.replaceChildren(
    heading,
    h('p', {}, `Another program changed “${c.path}”. Both versions are kept in the note's history; choose what the note should say now.`),
    h(
      'div',
      { class: 'conflict-versions' },
      h('section', { 'aria-labelledby': 'conflict-yours' }, h('h3', { id: 'conflict-yours' }, 'Your version'), h('pre', { tabindex: '0', 'aria-labelledby': 'conflict-yours' }, c.yours)),
      h('section', { 'aria-labelledby': 'conflict-disk' }, h('h3', { id: 'conflict-disk' }, 'Version on disk'), h('pre', { tabindex: '0', 'aria-labelledby': 'conflict-disk' }, c.disk.text)),
    ),
    h(
      'p',
      { id: 'conflict-merge-kind' },
      mergeVersions(c.yours, c.base, c.disk.text).clean
        ? 'You and the other program changed different lines: “Merge both” keeps both sets of changes, with nothing to resolve.'
        : 'Some lines were changed on both sides: “Merge both” keeps both, marked <<<<<<< … >>>>>>> for you to choose.',
    ),
    h('div', { class: 'conflict-buttons' }, button('mine', 'Keep mine', true), button('disk', 'Keep the version on disk'), button('merge', 'Merge both')),
  );
  el.hidden = false;
  document.body.dataset.conflict = 'open';
  heading.focus();
}

export function hideConflict(): void {
  const el = byId('conflict');
  el.hidden = true;
  el.replaceChildren();
  delete document.body.dataset.conflict;
}
