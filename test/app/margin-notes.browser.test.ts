import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumPath, collectErrors, launchBrowser, NO_CHROMIUM, screenshotDir, waitFor, seriousAxeViolations } from './browser.js';
import { startTinymorphApp } from '../helpers/tinymorph-app.js';

// Margin notes in the real `tinymorph app` (vault, page and model server in one process) on the
// embedded model, with the vault steering by the shipped "happy" preset. Each card must be exactly
// what /v1/completions answers when asked alone with the same prompt, seed and steering (a plain
// fetch here, as any script would); inserting one must put that exact text in the note and the
// file; the cards must come back from their sidecar after a reload and after a rename.
const skip = chromiumPath ? false : NO_CHROMIUM;
const SPEC = { vectors: [{ vector: 'happy', strength: 4 }] };
const TEXT = 'Once upon a time, there was a little girl named Lily. She';
let app: ChildProcess;
let url: string;
let vaultDir: string;
let browser: Browser;
let page: Page;
let errors: string[];

before(async () => {
  if (skip) return;
  vaultDir = join(mkdtempSync(join(tmpdir(), 'tinymorph-margin-')), 'vault');
  mkdirSync(join(vaultDir, '.tinymorph'), { recursive: true });
  writeFileSync(join(vaultDir, 'Story.md'), TEXT);
  // Ghost suggestions off: only the cards ask the model here.
  writeFileSync(join(vaultDir, '.tinymorph', 'settings.json'), JSON.stringify({ theme: 'light', showTree: true, suggestions: { enabled: false, seed: 1 }, steering: { spec: SPEC } }));
  ({ app, url } = await startTinymorphApp(vaultDir));
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  errors = collectErrors(page);
  // CodeMirror's live region holds a message for 200 ms: keep what it said.
  await page.addInitScript(() => {
    const said: string[] = [];
    Object.assign(window, { said });
    new MutationObserver((records) => {
      for (const r of records) for (const n of r.addedNodes) if (n instanceof HTMLElement && n.parentElement?.classList.contains('cm-announced')) said.push(n.textContent ?? '');
    }).observe(document, { subtree: true, childList: true });
  });
});

after(async () => {
  if (skip) return;
  await browser.close();
  app.kill('SIGTERM');
});

const editorText = () => page.evaluate(() => [...document.querySelectorAll('.cm-content .cm-line')].map((l) => l.textContent ?? '').join('\n'));
const cards = () =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('.margin-card')].map((c) => ({
      label: c.querySelector('.margin-card-label')?.textContent ?? '',
      text: c.querySelector('.margin-card-text')?.textContent ?? '',
      state: c.dataset.state,
    })),
  );
const allDone = async () => {
  const c = await cards();
  return c.length === 3 && c.every((x) => x.state === 'done');
};

/** Open `note` with the cursor at the end of its text, and ask for margin notes. */
async function askAtEnd(note: string): Promise<void> {
  await page.goto(`${url}/?note=${encodeURIComponent(note)}`);
  await page.waitForSelector('.cm-content');
  await page.waitForFunction(() => document.querySelector('.cm-content')?.textContent?.includes('Lily'));
  await page.locator('.cm-content').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Alt+m');
  await page.waitForSelector('.margin-card', { timeout: 20_000 });
  assert.equal(await waitFor(allDone, 20_000), true, 'three cards finish');
}

/** What /v1/completions answers alone for the page's prompt, seed and steering (the page's sampling settings). */
async function completion(seed: number, steering?: object): Promise<string> {
  const res = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: TEXT, max_tokens: 40, temperature: 0.8, top_p: 0.9, seed, stop: ['\n\n'], ...(steering ? { steering } : {}) }),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { choices: { text: string }[] }).choices[0].text;
}

test('margin notes: three labelled cards, each exactly the model\'s answer for its seed and steering; Enter inserts one as one undo step; autosave writes it', { skip, timeout: 120_000 }, async () => {
  await askAtEnd('Story.md');
  const shown = await cards();
  assert.deepEqual(shown.map((c) => c.label), ['seed 1 · happy +4', 'seed 2 · happy +4', 'seed 1 · unsteered']);
  const expected = [await completion(1, SPEC), await completion(2, SPEC), await completion(1)];
  assert.deepEqual(shown.map((c) => c.text), expected);
  assert.notEqual(expected[0], expected[2], 'the steering changed the seed-1 continuation');
  const box = await page.locator('.margin-notes').boundingBox();
  const text = await page.locator('.cm-content').boundingBox();
  assert.ok(box && text && box.x >= text.x + text.width - 1, 'wide window: the cards sit in the margin right of the text');
  assert.equal(await editorText(), TEXT, 'cards are not in the document');
  const said = await page.evaluate(() => (window as unknown as { said: string[] }).said);
  assert.ok(said.includes('Margin notes are arriving beside the paragraph.'), `arrival announced: ${JSON.stringify(said)}`);
  assert.ok(said.some((m) => m.startsWith('3 margin notes ready.')), 'readiness announced in the polite live region');
  assert.equal(await page.locator('.cm-announced').getAttribute('aria-live'), 'polite');
  await page.screenshot({ path: join(screenshotDir(), 'margin-notes-wide-light.png') });

  // Alt+M again while they are shown: others, from the next seeds.
  await page.keyboard.press('Alt+m');
  assert.equal(await waitFor(async () => (await cards())[0]?.label === 'seed 4 · happy +4' && (await allDone()), 20_000), true, 'a second set at seeds 4 and 5');
  const again = await cards();
  assert.deepEqual(again.map((c) => c.label), ['seed 4 · happy +4', 'seed 5 · happy +4', 'seed 4 · unsteered']);
  assert.deepEqual(again.map((c) => c.text), [await completion(4, SPEC), await completion(5, SPEC), await completion(4)]);
  expected.splice(0, 3, ...again.map((c) => c.text));

  // Keyboard: Tab from the text reaches the first card, ↓ the second, Enter inserts it.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('margin-card')), true);
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  assert.equal(await editorText(), TEXT + expected[1]);
  assert.equal(await page.locator('.margin-card').count(), 0, 'inserting dismisses the cards');
  assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('cm-content')), true, 'focus is back in the text');
  assert.equal(await waitFor(() => readFileSync(join(vaultDir, 'Story.md'), 'utf8') === TEXT + expected[1], 8000), true, 'autosave wrote the card text');
  await page.keyboard.press('Control+z');
  assert.equal(await editorText(), TEXT, 'one undo takes the card back');
  assert.equal(await waitFor(() => readFileSync(join(vaultDir, 'Story.md'), 'utf8') === TEXT, 8000), true);
  assert.deepEqual(errors, []);
});

test('margin notes persist in the sidecar: a reload and a rename bring the same cards back without asking the model; a click inserts one', { skip, timeout: 120_000 }, async () => {
  const sidecar = join(vaultDir, '.Story.md.cards.json');
  assert.equal(await waitFor(() => existsSync(sidecar)), true);
  const saved = JSON.parse(readFileSync(sidecar, 'utf8')) as { sets: { cards: { text: string; label: string }[] }[] };
  assert.equal(saved.sets.length, 1);
  const completions: string[] = [];
  page.on('request', (r) => r.url().includes('/v1/completions') && completions.push(r.url()));
  await askAtEnd('Story.md');
  assert.deepEqual((await cards()).map((c) => c.text), saved.sets[0].cards.map((c) => c.text));
  assert.deepEqual(completions, [], 'saved cards need no model call');
  // Esc dismisses; Alt+M at the same place shows them again.
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('.margin-card').count(), 0);

  const renamed = await fetch(`${url}/api/vault/rename`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: 'Story.md', to: 'Tales/Lily.md' }) });
  assert.equal(renamed.status, 200);
  assert.equal(existsSync(join(vaultDir, 'Tales', '.Lily.md.cards.json')), true);
  await askAtEnd('Tales/Lily.md');
  const after = await cards();
  assert.deepEqual(after.map((c) => c.text), saved.sets[0].cards.map((c) => c.text));
  assert.deepEqual(completions, []);
  // Drag: CodeMirror's drop handling puts the card's exact text where it lands, as one undo step.
  const line = page.locator('.cm-line').first();
  const lineBox = (await line.boundingBox())!;
  await page.locator('.margin-card').first().dragTo(line, { targetPosition: { x: lineBox.width - 2, y: lineBox.height / 2 } });
  const dropped = await editorText();
  assert.notEqual(dropped, TEXT, 'the drop inserted text');
  assert.equal(dropped.replace(after[0].text, ''), TEXT, `exactly the card's text was dropped: ${JSON.stringify(dropped)}`);
  assert.equal(await page.locator('.margin-card').count(), 0, 'the edit dismissed the cards');
  await page.keyboard.press('Control+z');
  assert.equal(await editorText(), TEXT);
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Alt+m');
  await page.waitForSelector('.margin-card');
  await page.locator('.margin-card').nth(2).click();
  assert.equal(await editorText(), TEXT + after[2].text);
  assert.equal(await waitFor(() => readFileSync(join(vaultDir, 'Tales', 'Lily.md'), 'utf8') === TEXT + after[2].text, 8000), true);
});

test('margin notes: axe finds nothing serious in light, dark and high contrast; with the side panel open the cards stack under the paragraph', { skip, timeout: 120_000 }, async () => {
  const writeSettings = async (theme: string) => {
    const s = await (await fetch(`${url}/api/settings`)).json();
    await fetch(`${url}/api/settings`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...s, theme }) });
  };
  writeFileSync(join(vaultDir, 'Axe.md'), TEXT);
  for (const theme of ['light', 'dark', 'contrast']) {
    await writeSettings(theme);
    await askAtEnd('Axe.md');
    const violations = await seriousAxeViolations(page);
    assert.deepEqual(violations, [], theme);
    await page.screenshot({ path: join(screenshotDir(), `margin-notes-${theme}.png`) });
  }
  // The settings panel takes the margin: the cards move under the paragraph, over room made for them.
  await page.locator('#btn-settings').click();
  await page.waitForSelector('#panel:not([hidden])');
  await page.locator('.cm-content').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Alt+m');
  await page.waitForSelector('.margin-notes[data-layout="below"] .margin-card');
  assert.equal(await waitFor(allDone, 20_000), true);
  const measureBelow = () => page.evaluate(() => {
    const cardsBox = document.querySelector('.margin-notes')!.getBoundingClientRect();
    const spacer = document.querySelector('.cm-margin-spacer')?.getBoundingClientRect();
    const lines = [...document.querySelectorAll('.cm-line')].map((l) => l.getBoundingClientRect());
    return { top: cardsBox.top, bottom: cardsBox.bottom, spacerTop: spacer?.top, spacerHeight: spacer?.height, lastLineBottom: lines[lines.length - 1].bottom };
  });
  // The spacer follows the cards' height a frame later.
  const settled = async () => {
    const m = await measureBelow();
    return m.spacerHeight !== undefined && Math.abs(m.spacerHeight - (m.bottom - m.top)) <= 2;
  };
  assert.equal(await waitFor(settled, 5000), true, 'the spacer is as tall as the cards');
  const below = await measureBelow();
  assert.ok(below.top >= below.lastLineBottom - 1, `cards start under the paragraph (${below.top} ≥ ${below.lastLineBottom})`);
  assert.ok(below.spacerTop !== undefined && Math.abs(below.top - below.spacerTop) <= 2, `cards sit on the room made for them (${below.top}, ${below.spacerTop})`);
  await page.screenshot({ path: join(screenshotDir(), 'margin-notes-panel-open.png') });
  // A narrow window, panel closed: under the paragraph too.
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('.margin-card').count(), 0, 'Esc in the text dismisses the cards');
  await page.locator('#btn-settings').click();
  await page.waitForSelector('#panel', { state: 'hidden' });
  await page.setViewportSize({ width: 820, height: 800 });
  await page.locator('.cm-content').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Alt+m');
  await page.waitForSelector('.margin-notes[data-layout="below"] .margin-card');
  assert.equal(await waitFor(allDone, 20_000), true);
  await page.screenshot({ path: join(screenshotDir(), 'margin-notes-narrow.png') });
  await page.setViewportSize({ width: 1440, height: 900 });
  await writeSettings('light');
});

test('margin notes take the ghost suggestion\'s place: Alt+M clears it, and Tab then reaches the cards rather than accepting it', { skip, timeout: 120_000 }, async () => {
  const s = await (await fetch(`${url}/api/settings`)).json();
  await fetch(`${url}/api/settings`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...s, suggestions: { ...s.suggestions, enabled: true } }) });
  writeFileSync(join(vaultDir, 'Ghost.md'), TEXT);
  await page.goto(`${url}/?note=Ghost.md`);
  await page.waitForSelector('.cm-content');
  await page.locator('.cm-content').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type(' was');
  await page.waitForSelector('.cm-ghost-text', { timeout: 20_000 });
  await page.keyboard.press('Alt+m');
  await page.waitForSelector('.margin-card');
  assert.equal(await page.locator('.cm-ghost-text').count(), 0);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('margin-card')), true);
  assert.equal(await editorText(), `${TEXT} was`);
  await fetch(`${url}/api/settings`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(s) });
});
