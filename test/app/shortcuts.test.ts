import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EDITOR_SHORTCUTS, GLOBAL_SHORTCUTS } from '../../src/app/ui/shortcuts.js';
import { WELCOME_NOTES } from '../../src/vault/welcome-notes.js';

/** "Mod-Shift-f" → "Ctrl+Shift+F", as the welcome note writes keys. */
function written(key: string): string {
  return key
    .split(/-(?!$)/)
    .map((p) => (p === 'Mod' ? 'Ctrl' : p === 'Escape' ? 'Esc' : p === 'ArrowRight' ? '→' : p.length === 1 ? p.toUpperCase() : p))
    .join('+');
}

test('the "Keyboard shortcuts" welcome note names every key the app binds', () => {
  const note = WELCOME_NOTES.find((n) => n.path === 'Keyboard shortcuts.md');
  assert.ok(note);
  for (const s of [...GLOBAL_SHORTCUTS, ...EDITOR_SHORTCUTS]) assert.ok(note.text.includes(written(s.key)), `missing ${written(s.key)} (${s.label})`);
});

test('no two app-wide shortcuts share a key', () => {
  const keys = GLOBAL_SHORTCUTS.map((s) => s.key.toLowerCase());
  assert.equal(new Set(keys).size, keys.length);
});
