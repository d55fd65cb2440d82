/**
 * Modal questions with the native <dialog>: it traps focus, Esc cancels, and the page behind is
 * inert, with no library. One text field (names) or a yes/no (moving to the trash).
 */
import { byId, h } from './dom.js';

function show<T>(build: (dialog: HTMLDialogElement, done: (v: T) => void) => void, cancelled: T): Promise<T> {
  const dialog = byId<HTMLDialogElement>('dialog');
  return new Promise<T>((resolve) => {
    let settled = false;
    const done = (v: T): void => {
      if (settled) return;
      settled = true;
      dialog.close();
      resolve(v);
    };
    dialog.replaceChildren();
    build(dialog, done);
    dialog.addEventListener('close', () => done(cancelled), { once: true });
    dialog.showModal();
  });
}

/** Ask for a name; null when cancelled. `select` picks the part of the value to select (the name without ".md"). */
export function askText(o: { title: string; label: string; value?: string; okLabel: string; hint?: string; select?: [number, number] }): Promise<string | null> {
  return show<string | null>((dialog, done) => {
    const input = h('input', { id: 'dialog-input', type: 'text', value: o.value ?? '', autocomplete: 'off', spellcheck: 'false' });
    const form = h(
      'form',
      { method: 'dialog' },
      h('h2', { id: 'dialog-title' }, o.title),
      h('label', { for: 'dialog-input' }, o.label),
      input,
      o.hint ? h('p', { class: 'dialog-hint' }, o.hint) : null,
      h('div', { class: 'dialog-buttons' }, h('button', { type: 'button', value: 'cancel' }, 'Cancel'), h('button', { type: 'submit', class: 'primary' }, o.okLabel)),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const v = input.value.trim();
      if (v) done(v);
    });
    form.querySelector('button[value=cancel]')?.addEventListener('click', () => done(null));
    dialog.setAttribute('aria-labelledby', 'dialog-title');
    dialog.append(form);
    queueMicrotask(() => {
      input.focus();
      const [from, to] = o.select ?? [0, input.value.length];
      input.setSelectionRange(from, to);
    });
  }, null);
}

/** A yes/no; `destructive` (deleting for good) starts on Cancel, so Enter alone never destroys anything. */
export function confirmAction(o: { title: string; message: string; okLabel: string; destructive?: boolean }): Promise<boolean> {
  return show<boolean>((dialog, done) => {
    const ok = h('button', { type: 'button', class: 'primary' }, o.okLabel);
    const cancel = h('button', { type: 'button' }, 'Cancel');
    ok.addEventListener('click', () => done(true));
    cancel.addEventListener('click', () => done(false));
    dialog.setAttribute('aria-labelledby', 'dialog-title');
    dialog.append(h('h2', { id: 'dialog-title' }, o.title), h('p', {}, o.message), h('div', { class: 'dialog-buttons' }, cancel, ok));
    queueMicrotask(() => (o.destructive ? cancel : ok).focus());
  }, false);
}
