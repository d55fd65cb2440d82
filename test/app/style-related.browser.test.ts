import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { SEA, writeTwoTopicVault } from '../app-server/two-topic-notes.js';
import { chromiumPath, collectErrors, launchBrowser, NO_CHROMIUM, screenshotDir, waitFor, seriousAxeViolations } from './browser.js';
import { startTinymorphApp } from '../helpers/tinymorph-app.js';

// The real `tinymorph app` on a vault of two topics (test/app-server/two-topic-notes.ts), driven by
// the keyboard: "Write like these notes" from a folder builds a style vector, shows its measured
// effect, becomes part of the vault's steering and changes the suggestion; the Related panel lists a
// note's own topic first. axe scans both panels in light and dark; screenshots for review.
const skip = chromiumPath ? false : NO_CHROMIUM;
let app: ChildProcess;
let url: string;
let vaultDir: string;
let browser: Browser;
let page: Page;
let errors: string[];
const TYPED = 'Once upon a time, there was a';

before(async () => {
  if (skip) return;
  vaultDir = join(mkdtempSync(join(tmpdir(), 'tinymorph-style-related-ui-')), 'vault');
  mkdirSync(vaultDir);
  writeTwoTopicVault(vaultDir);
  writeFileSync(join(vaultDir, 'Draft.md'), '');
  ({ app, url } = await startTinymorphApp(vaultDir));
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  errors = collectErrors(page);
});

after(async () => {
  if (skip) return;
  await browser.close();
  app.kill('SIGTERM');
});

/** axe on the whole page as this test leaves it (the folder of style notes is expanded in the tree). */
async function axeCheck(view: string): Promise<void> {
  const violations = await seriousAxeViolations(page);
  assert.deepEqual(violations, [], view);
  await page.screenshot({ path: join(screenshotDir(), `${view}.png`) });
}

/** The suggestion shown once it has stopped growing. */
async function settledGhost(): Promise<string> {
  await page.waitForSelector('.cm-ghost-text', { timeout: 30_000 });
  let last = '';
  await waitFor(async () => {
    const now = (await page.locator('.cm-ghost-text').textContent()) ?? '';
    const same = now === last && now !== '';
    last = now;
    return same;
  }, 10_000, 400);
  return last;
}

/** What the model server gives for the page's suggestion request (its defaults: seed 1, T 0.8, top-p 0.9, 24 tokens). */
async function serverCompletion(steering?: unknown): Promise<string> {
  const r = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ prompt: TYPED, max_tokens: 24, temperature: 0.8, top_p: 0.9, seed: 1, stop: ['\n\n'], ...(steering ? { steering } : {}) }) });
  return ((await r.json()) as { choices: { text: string }[] }).choices[0].text;
}

test('write like these notes: a folder by keyboard → progress → the effect number → a preset in the steering that changes the suggestion', { skip, timeout: 180_000 }, async () => {
  await page.goto(`${url}/?note=Draft.md`);
  await page.waitForSelector('.cm-content');
  await page.locator('.cm-content').focus();
  await page.keyboard.type(TYPED);
  const before = await settledGhost();
  assert.equal(before, await serverCompletion(), 'the unsteered suggestion');
  await page.keyboard.press('Escape');

  await page.keyboard.press('Alt+w');
  await page.waitForSelector('#panel .style-panel');
  // Keyboard only: the first control has focus; Tab to the Sea folder's box, Space ticks its notes.
  for (let i = 0; i < 20 && !(await page.evaluate(() => document.activeElement?.nextElementSibling?.textContent === 'Sea/')); i++) await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.nextElementSibling?.textContent), 'Sea/', 'Tab reaches the Sea folder');
  await page.keyboard.press('Space');
  assert.equal(await page.locator('.style-count').textContent(), '6 notes chosen.');
  await page.locator('#style-name').focus();
  await page.keyboard.type('sea-voice');
  await page.keyboard.press('Enter');
  const effect = page.locator('.style-effect-number');
  await effect.waitFor({ timeout: 120_000 });
  const [clean, steered] = ((await effect.textContent()) ?? '').match(/[\d.]+/g)!.map(Number);
  assert.ok(steered < clean, `CE ${clean} → ${steered}`);
  await axeCheck('style-panel-light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await axeCheck('style-panel-dark');
  await page.emulateMedia({ colorScheme: 'light' });

  // The vault's steering now names the vector at the strength the server chose, and the server's numbers are the ones shown.
  const settings = (await (await fetch(`${url}/api/settings`)).json()) as { steering: { spec: { vectors?: { vector: string; strength: number }[] } } };
  const entry = settings.steering.spec.vectors?.find((v) => v.vector === 'sea-voice');
  assert.ok(entry, JSON.stringify(settings.steering));
  const listed = ((await (await fetch(`${url}/v1/vectors`)).json()) as { data: { name: string; strength: number; effect: { clean_nats: number; steered_nats: number } }[] }).data.find((v) => v.name === 'sea-voice')!;
  assert.equal(entry.strength, listed.strength);
  assert.equal(clean, Number(listed.effect.clean_nats.toFixed(3)));
  assert.equal(steered, Number(listed.effect.steered_nats.toFixed(3)));

  // Back to the text: the same text and seed now suggest what the steered server gives, not the old suggestion.
  await page.keyboard.press('Escape');
  await page.keyboard.press('Backspace');
  await page.keyboard.type('a');
  const after = await settledGhost();
  assert.equal(after, await serverCompletion({ vectors: [entry] }));
  assert.notEqual(after, before, 'the style changes the suggestion');
});

test('related notes: Alt+R lists the open note’s own topic first, with shared features; keyboard reaches and opens one', { skip, timeout: 120_000 }, async () => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(`${url}/?note=${encodeURIComponent('Sea/Boat.md')}`);
  await page.waitForSelector('.cm-content');
  await page.locator('.cm-content').focus();
  await page.keyboard.press('Alt+r');
  await page.waitForSelector('#panel .related-note', { timeout: 90_000 });
  const titles = await page.locator('#panel .related-note').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  const paths = titles.map((href) => decodeURIComponent(href!.replace('/?note=', '')));
  assert.ok(paths.slice(0, 5).every((p) => p.startsWith('Sea/')), paths.join(', '));
  assert.ok(Object.keys(SEA).includes(paths[0]));
  assert.ok((await page.locator('#panel .related-shared li').count()) > 0);
  await axeCheck('related-panel-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await axeCheck('related-panel-light');
  const settings = (await (await fetch(`${url}/api/settings`)).json()) as Record<string, unknown>;
  await fetch(`${url}/api/settings`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...settings, theme: 'contrast' }) });
  await page.reload();
  await page.waitForSelector('.cm-content');
  await page.locator('.cm-content').focus();
  await page.keyboard.press('Alt+r');
  await page.waitForSelector('#panel .related-note', { timeout: 30_000 });
  await axeCheck('related-panel-contrast');
  await page.locator('#panel-title').focus();

  for (let i = 0; i < 5 && !(await page.evaluate(() => document.activeElement?.classList.contains('related-note'))); i++) await page.keyboard.press('Tab');
  const target = await page.evaluate(() => decodeURIComponent(document.activeElement!.getAttribute('href')!.replace('/?note=', '')));
  await page.keyboard.press('Enter');
  assert.ok(await waitFor(() => decodeURIComponent(page.url()).includes(target)), `Enter opens ${target}`);
  assert.deepEqual(errors, []);
});

test('the "draw on the most related note" setting puts that note’s text before the writer’s in the suggestion prompt', { skip, timeout: 120_000 }, async () => {
  const settings = (await (await fetch(`${url}/api/settings`)).json()) as { suggestions: Record<string, unknown> };
  await fetch(`${url}/api/settings`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...settings, steering: { spec: {}, labels: {} }, suggestions: { ...settings.suggestions, relatedContext: true } }) });
  const path = 'Sea/Crab.md';
  const top = ((await (await fetch(`${url}/api/related?path=${encodeURIComponent(path)}`)).json()) as { notes: { path: string }[] }).notes[0].path;
  const topText = readFileSync(join(vaultDir, top), 'utf8').trim();
  assert.ok(topText.length <= 300 && !/\s\s|\n/.test(topText), 'short enough to go in whole (the excerpt limit is 300 characters)');
  await page.goto(`${url}/?note=${encodeURIComponent(path)}`);
  await page.waitForSelector('.cm-content');
  await page.locator('.cm-content').focus();
  await new Promise((r) => setTimeout(r, 1500)); // the page looks up the related note as the note opens
  await page.keyboard.press('Control+End');
  await page.keyboard.type(' The crab');
  const doc = `${readFileSync(join(vaultDir, path), 'utf8')} The crab`; // Ctrl+End: after the file's final newline
  const expected = async (prompt: string): Promise<string> => {
    const r = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ prompt, max_tokens: 24, temperature: 0.8, top_p: 0.9, seed: 1, stop: ['\n\n'] }) });
    return ((await r.json()) as { choices: { text: string }[] }).choices[0].text;
  };
  const withContext = await expected(`${topText}\n\n${doc}`);
  assert.notEqual(withContext, await expected(doc), 'the context makes a difference to this prompt');
  assert.equal(await settledGhost(), withContext);
});
