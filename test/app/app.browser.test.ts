import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createAppServer, listenAppServer, type ListeningServer } from '../../src/app-server/app-server.js';
import { AUTOSAVE_DELAY_MS } from '../../src/app/editor/autosave.js';
import { packageRoot } from '../../src/util/package-root.js';
import { Vault } from '../../src/vault/vault.js';
import { VaultWatcher } from '../../src/vault/vault-watcher.js';
import { createWelcomeVault } from '../../src/vault/welcome-notes.js';
import { chromiumPath, collectErrors, launchBrowser, NO_CHROMIUM, screenshotDir, waitFor, seriousAxeViolations } from './browser.js';

// The writing app as a writer meets it: the real page (dist/app) on the real server, a new vault
// with the welcome notes, driven from the keyboard. Suggestions are off here (the model server is
// not part of this increment); the ghost text itself is tested in ghost-text.browser.test.ts.
const skip = chromiumPath ? false : NO_CHROMIUM;
let dir: string;
let vault: Vault;
let watcher: VaultWatcher;
let server: ListeningServer;
let browser: Browser;
let page: Page;
let errors: string[];
const requests: string[] = [];

before(async () => {
  if (skip) return;
  dir = join(mkdtempSync(join(tmpdir(), 'tinymorph-app-')), 'vault');
  createWelcomeVault(dir);
  mkdirSync(join(dir, '.tinymorph'));
  writeFileSync(join(dir, '.tinymorph', 'settings.json'), JSON.stringify({ theme: 'light', suggestions: { enabled: false } }));
  vault = new Vault(dir);
  watcher = await VaultWatcher.start(vault);
  server = await listenAppServer(createAppServer({ vault, watcher, pageDir: join(packageRoot(), 'dist', 'app') }), '127.0.0.1', 0);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  errors = collectErrors(page);
  page.on('request', (r) => requests.push(r.url()));
  // Timestamps of keys and note saves, in the page's own clock (for the vim :w test).
  await page.addInitScript(() => {
    const log: { what: string; t: number }[] = [];
    Object.assign(window, { testLog: log });
    const realFetch = window.fetch.bind(window);
    window.fetch = (input, init) => {
      if (init?.method === 'PUT' && String(input).includes('/api/vault/note')) log.push({ what: 'save', t: performance.now() });
      return realFetch(input, init);
    };
    window.addEventListener('keydown', (e) => log.push({ what: e.key, t: performance.now() }), true);
  });
});

after(async () => {
  if (skip) return;
  await browser.close();
  await server.close();
  await watcher.close();
  vault.close();
});

const disk = (p: string): string | undefined => (existsSync(join(dir, p)) ? readFileSync(join(dir, p), 'utf8') : undefined);
const editorText = (): Promise<string> => page.evaluate(() => [...document.querySelectorAll('.cm-content .cm-line')].map((l) => l.textContent).join('\n'));
const focused = (): Promise<string> =>
  page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (el?.closest('.cm-content')) return 'editor';
    return `${el?.tagName.toLowerCase()}${el?.id ? `#${el.id}` : ''}[${el?.getAttribute('role') ?? ''}] ${el?.textContent?.trim().slice(0, 40) ?? ''}`;
  });

async function open(note: string): Promise<void> {
  await page.goto(`${server.url}/?note=${encodeURIComponent(note)}`);
  await page.waitForSelector('.cm-content');
  await waitFor(async () => (await page.textContent('#status-save')) === 'Saved');
}

test('a new note: created from the keyboard, typed into, autosaved to disk, there after a reload', { skip }, async () => {
  await open('Welcome.md');
  assert.equal(await focused(), 'editor');
  await page.keyboard.press('Alt+n');
  await page.waitForSelector('dialog[open] input');
  await page.keyboard.type('Drafts/Morning pages');
  await page.keyboard.press('Enter');
  assert.ok(await waitFor(() => page.url().includes(encodeURIComponent('Drafts/Morning pages.md'))));
  assert.equal(await focused(), 'editor');
  await page.keyboard.type('It was a bright cold day in April.');
  assert.equal(await waitFor(() => disk('Drafts/Morning pages.md') === 'It was a bright cold day in April.', 5000), true);
  assert.equal(await waitFor(async () => (await page.textContent('#status-save')) === 'Saved'), true);
  await page.reload();
  await page.waitForSelector('.cm-content');
  assert.equal(await editorText(), 'It was a bright cold day in April.');
  assert.equal(await page.textContent('#status-note'), 'Drafts / Morning pages');
});

test('keyboard only: tree, editor, search, outline, settings, rename and trash without the mouse', { skip }, async () => {
  await open('Welcome.md');
  await page.keyboard.press('Control+Shift+E');
  assert.match(await focused(), /^li\[treeitem\] Welcome/);
  await page.keyboard.press('ArrowDown');
  assert.match(await focused(), /\[treeitem\] Writing with suggestions/);
  await page.keyboard.press('Enter');
  assert.ok(await waitFor(() => page.url().includes('Writing%20with%20suggestions.md')));
  assert.equal(await focused(), 'editor');

  await page.keyboard.press('Control+Shift+F');
  assert.equal(await focused(), 'input#vault-search[] ');
  await page.keyboard.type('seed');
  await page.waitForSelector('.search-hit');
  await page.keyboard.press('ArrowDown');
  assert.match(await focused(), /^a\[\] /);
  await page.keyboard.press('Enter');
  assert.equal(await waitFor(async () => (await focused()) === 'editor'), true);

  await open('Welcome.md');
  await page.keyboard.press('Control+Shift+O');
  assert.match(await focused(), /^button\[\] Welcome/);
  await page.keyboard.press('Tab');
  assert.match(await focused(), /^button\[\] What you can do/);
  await page.keyboard.press('Enter');
  assert.equal(await focused(), 'editor');
  assert.equal(await page.isHidden('#panel'), true);

  await page.keyboard.press('Control+,');
  assert.match(await focused(), /^select#set-theme/);
  await page.keyboard.press('Escape');
  assert.equal(await page.isHidden('#panel'), true);
  assert.equal(await focused(), 'editor');

  // F2 renames the open note; links to it follow.
  await open('Keyboard shortcuts.md');
  await page.keyboard.press('F2');
  await page.waitForSelector('dialog[open] input');
  await page.keyboard.type('Keys');
  await page.keyboard.press('Enter');
  assert.ok(await waitFor(() => disk('Keys.md') !== undefined));
  assert.equal(disk('Keyboard shortcuts.md'), undefined);
  assert.match(disk('Welcome.md') ?? '', /\[\[Keys\]\] to link to another note/);

  // Delete in the tree moves a note to the trash after a confirmation.
  await page.keyboard.press('Control+Shift+E');
  await page.keyboard.press('Home');
  while (!(await focused()).includes('Writing with suggestions')) await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Delete');
  await page.waitForSelector('dialog[open]');
  await page.keyboard.press('Enter');
  assert.ok(await waitFor(() => disk('.trash/Writing with suggestions.md') !== undefined));
  assert.equal(disk('Writing with suggestions.md'), undefined);
});

test('vim keys: i, type, Esc, :w saves at once (before autosave could have)', { skip }, async () => {
  await open('Welcome.md');
  await page.keyboard.press('Control+,');
  await page.focus('#set-vim');
  await page.keyboard.press('Space');
  await page.keyboard.press('Escape');
  assert.equal(await focused(), 'editor');
  await open('Drafts/Morning pages.md');
  await page.waitForSelector('.cm-vim-panel');
  await page.keyboard.press('G');
  await page.keyboard.press('A');
  await page.keyboard.type(' The clocks were striking.');
  await page.keyboard.press('Escape');
  await page.keyboard.type(':w');
  await page.keyboard.press('Enter');
  assert.equal(await waitFor(() => disk('Drafts/Morning pages.md')?.endsWith('The clocks were striking.'), 3000), true);
  const log = await page.evaluate(() => (window as unknown as { testLog: { what: string; t: number }[] }).testLog);
  const lastIndex = (what: string): number => log.map((e) => e.what).lastIndexOf(what);
  const lastEdit = log[lastIndex('Escape') - 1].t;
  const enter = log[lastIndex('Enter')].t;
  const save = log.find((e) => e.what === 'save' && e.t >= enter);
  assert.ok(save && save.t < lastEdit + AUTOSAVE_DELAY_MS, `a save right after :w (last edit ${lastEdit}, Enter ${enter}, saves ${JSON.stringify(log.filter((e) => e.what === 'save'))})`);
  await page.request.put(`${server.url}/api/settings`, { data: { ...vault.settings(), vim: false } });
});

test('a note changed on disk while being edited shows both versions; nothing is lost', { skip }, async () => {
  await open('Drafts/Morning pages.md');
  await page.keyboard.press('Control+End');
  await page.keyboard.type(' Mine.');
  writeFileSync(join(dir, 'Drafts/Morning pages.md'), 'Rewritten by another program.');
  await page.waitForSelector('#conflict:not([hidden])');
  const versions = await page.$$eval('#conflict pre', (els) => els.map((e) => e.textContent));
  assert.equal(versions.length, 2);
  assert.match(versions[0] ?? '', /Mine\.$/);
  assert.equal(versions[1], 'Rewritten by another program.');
  await page.screenshot({ path: join(screenshotDir(), 'conflict-light.png') });
  await page.getByRole('button', { name: 'Merge both' }).focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.isHidden('#conflict'), true);
  const merged = await waitFor(() => {
    const text = disk('Drafts/Morning pages.md') ?? '';
    return text.includes('Mine.') && text.includes('Rewritten by another program.') ? text : '';
  });
  assert.ok(merged, 'the merge holds both versions on disk');
  assert.ok(merged.includes('<<<<<<< your version'), 'the overlapping change is marked');
  const texts = vault.versions('Drafts/Morning pages.md').map((v) => vault.version('Drafts/Morning pages.md', v.id));
  assert.ok(texts.includes('Rewritten by another program.'), 'the version on disk is in the history');
  assert.ok(texts.some((t) => t.endsWith(' Mine.')), "the writer's version is in the history");
});

test('changes on disk and in the editor to different lines merge cleanly (three-way), with no markers', { skip }, async () => {
  vault.create('Drafts/Two hands.md', 'First line.\n\nMiddle.\n\nLast line.');
  await open('Drafts/Two hands.md');
  await page.keyboard.press('Control+End');
  await page.keyboard.type(' Mine.');
  writeFileSync(join(dir, 'Drafts/Two hands.md'), 'First line, changed elsewhere.\n\nMiddle.\n\nLast line.');
  await page.waitForSelector('#conflict:not([hidden])');
  assert.match((await page.textContent('#conflict-merge-kind')) ?? '', /different lines/);
  await page.getByRole('button', { name: 'Merge both' }).focus();
  await page.keyboard.press('Enter');
  const merged = 'First line, changed elsewhere.\n\nMiddle.\n\nLast line. Mine.';
  assert.equal(await waitFor(() => disk('Drafts/Two hands.md') === merged), true, disk('Drafts/Two hands.md'));
  assert.equal(await waitFor(async () => /touched different lines/.test((await page.textContent('#announcer')) ?? '')), true, 'the writer is told the merge was clean');
});

test('the history panel lists saved versions and restores one from the keyboard', { skip }, async () => {
  await open('Drafts/Morning pages.md');
  await page.keyboard.press('Control+Shift+H');
  await page.waitForSelector('.history-item');
  await page.getByRole('button', { name: /as found on disk/ }).first().focus();
  await page.keyboard.press('Enter');
  await page.waitForSelector('.history-text');
  assert.equal(await page.textContent('.history-text'), 'Rewritten by another program.');
  await page.getByRole('button', { name: 'Restore this version' }).focus();
  await page.keyboard.press('Enter');
  assert.equal(await waitFor(() => disk('Drafts/Morning pages.md') === 'Rewritten by another program.'), true);
  assert.equal(await waitFor(async () => (await editorText()) === 'Rewritten by another program.'), true);
  assert.equal(await page.isHidden('#panel'), true);
});

test('the trash panel restores from the keyboard, under a free name when the place is taken, and deletes for good after asking', { skip }, async () => {
  const trashed = disk('.trash/Writing with suggestions.md');
  assert.ok(trashed, 'the keyboard test left this note in the trash');
  vault.create('Writing with suggestions.md', 'A new note where the old one was.');
  await open('Welcome.md');
  await page.keyboard.press('Alt+t');
  await page.waitForSelector('.trash-item');
  assert.match(await focused(), /^button\[\] Restore/);
  assert.match((await page.textContent('.trash-item')) ?? '', /^Writing with suggestionsToday/);
  await page.screenshot({ path: join(screenshotDir(), 'trash-note-light.png') });
  await page.keyboard.press('Enter');
  await page.waitForSelector('dialog[open]');
  assert.match((await page.textContent('dialog[open]')) ?? '', /“Writing with suggestions” is taken.*\(restored\)/);
  await page.screenshot({ path: join(screenshotDir(), 'trash-restore-taken-light.png') });
  await page.keyboard.press('Enter');
  assert.equal(await waitFor(() => disk('Writing with suggestions (restored).md')), trashed);
  assert.equal(disk('Writing with suggestions.md'), 'A new note where the old one was.', 'nothing was overwritten');
  assert.ok(await waitFor(() => page.url().includes(encodeURIComponent('Writing with suggestions (restored).md'))), 'the restored note is open');
  assert.equal(await waitFor(async () => (await page.textContent('#announcer')) === 'Restored as “Writing with suggestions (restored)”.'), true);
  await page.waitForSelector('#panel .panel-empty');

  vault.trash('Drafts/Two hands.md');
  vault.trash('Writing with suggestions.md');
  await page.keyboard.press('Alt+t');
  await page.keyboard.press('Alt+t');
  await page.waitForSelector('.trash-item >> nth=1');
  await page.getByRole('button', { name: 'Delete Writing with suggestions for good' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForSelector('dialog[open]');
  assert.match(await focused(), /^button\[\] Cancel/, 'a destructive question starts on Cancel');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  assert.equal(await waitFor(() => disk('.trash/Writing with suggestions.md') === undefined), true);
  await page.waitForSelector('.trash-item >> nth=0');
  assert.equal((await page.$$('.trash-item')).length, 1);
  await page.getByRole('button', { name: 'Empty trash…' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForSelector('dialog[open]');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  assert.equal(await waitFor(() => vault.trashList().length === 0), true);
  assert.equal(disk('.trash/Drafts/Two hands.md'), undefined);
  await page.keyboard.press('Escape');
  // Something in the trash for the accessibility scan and screenshots below.
  vault.trash('Drafts');
});

test('axe finds no serious or critical problems in the main views, light and dark; screenshots for review', { skip }, async () => {
  const shots = screenshotDir();
  const check = async (view: string): Promise<void> => {
    const violations = await seriousAxeViolations(page);
    assert.deepEqual(violations, [], view);
    await page.screenshot({ path: join(shots, `${view}.png`) });
  };
  for (const theme of ['light', 'dark', 'contrast'] as const) {
    await page.request.put(`${server.url}/api/settings`, { data: { ...vault.settings(), theme } });
    await open('Welcome.md');
    await check(`main-${theme}`);
    if (theme === 'contrast') continue;
    await page.keyboard.press('Control+Shift+F');
    await page.keyboard.type('note');
    await page.waitForSelector('.search-hit');
    await check(`search-${theme}`);
    await page.keyboard.press('Control+,');
    await page.waitForSelector('#set-theme');
    await check(`settings-${theme}`);
    await page.keyboard.press('Control+Shift+H');
    await page.waitForSelector('.history-item, .panel-empty');
    await check(`history-${theme}`);
    await page.keyboard.press('Alt+t');
    await page.waitForSelector('.trash-item');
    await check(`trash-${theme}`);
    await page.keyboard.press('Escape');
    await page.keyboard.press('Alt+n');
    await page.waitForSelector('dialog[open]');
    await check(`new-note-dialog-${theme}`);
    await page.keyboard.press('Escape');
  }
  await page.request.put(`${server.url}/api/settings`, { data: { ...vault.settings(), theme: 'light' } });
  // The refused save of the conflict test is an expected 409; anything else (a CSP violation, a failed load) is not.
  assert.deepEqual(errors.filter((e) => !/status of 409 \(Conflict\)/.test(e)), [], 'no console errors');
  assert.deepEqual(requests.filter((u) => !u.startsWith(`${server.url}/`)), [], 'no request leaves the origin');
});
