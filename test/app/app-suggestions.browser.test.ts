import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { generate } from '../../src/model/generate.js';
import { loadModel } from '../../src/model/load-model.js';
import { chromiumPath, launchBrowser, NO_CHROMIUM, screenshotDir, waitFor } from './browser.js';
import { startTinymorphApp } from '../helpers/tinymorph-app.js';

// The whole product as `npm start` runs it: the real `tinymorph app` process (vault, page and the
// model's OpenAI-compatible server in one), a new vault, a new note, a ghost suggestion from the
// embedded model. The suggestion must be exactly what the library's generate() gives for the same
// prompt, sampling settings and seed (the page's defaults: temperature 0.8, top-p 0.9, seed 1,
// 24 tokens, stop at a blank line), so the test proves the text came from the model, unaltered.
const skip = chromiumPath ? false : NO_CHROMIUM;
let app: ChildProcess;
let url: string;
let vaultDir: string;
let browser: Browser;
let page: Page;

before(async () => {
  if (skip) return;
  vaultDir = join(mkdtempSync(join(tmpdir(), 'tinymorph-app-e2e-')), 'vault');
  ({ app, url } = await startTinymorphApp(vaultDir));
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
});

after(async () => {
  if (skip) return;
  await browser.close();
  app.kill('SIGTERM');
});

/** The document as the editor shows it, without the ghost widget: each line's text, joined. */
const editorText = () =>
  page.evaluate(() =>
    [...document.querySelectorAll('.cm-content .cm-line')]
      .map((line) => {
        const copy = line.cloneNode(true) as HTMLElement;
        copy.querySelectorAll('.cm-ghost-text').forEach((g) => g.remove());
        return copy.textContent ?? '';
      })
      .join('\n'),
  );

test('tinymorph app: new note, type, the model suggests, Tab accepts, autosave writes both, reload shows it, undo takes the suggestion back in one step', { skip, timeout: 60_000 }, async () => {
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  await page.goto(`${url}/?note=Welcome.md`);
  await page.waitForSelector('.cm-content');
  await page.keyboard.press('Alt+n');
  await page.waitForSelector('dialog[open] input');
  await page.keyboard.type('Story');
  await page.keyboard.press('Enter');
  assert.ok(await waitFor(() => page.url().includes('Story.md')));
  const typed = 'Once upon a time, there was a';
  await page.keyboard.type(typed);
  await page.waitForSelector('.cm-ghost-text', { timeout: 20_000 });
  // Let the stream finish (24 tokens at a few ms each), then compare with the library.
  const { model, tokenizer } = loadModel();
  const expected = generate(model, tokenizer, [{ prompt: typed, maxTokens: 24, seed: 1, sampling: { temperature: 0.8, topP: 0.9 }, stop: ['\n\n'] }])[0].text;
  assert.ok(expected.length > 0);
  assert.equal(await waitFor(async () => (await page.locator('.cm-ghost-text').textContent()) === expected, 10_000), true, `ghost text equals generate(): ${JSON.stringify(expected)}`);
  assert.equal(await editorText(), typed, 'the suggestion is not in the document while shown');
  await page.screenshot({ path: join(screenshotDir(), 'app-suggestion-light.png') });
  await page.keyboard.press('Tab');
  assert.equal(await editorText(), typed + expected);
  await page.keyboard.press('Control+z');
  assert.equal(await editorText(), typed, 'one undo removes the accepted suggestion');
  await page.keyboard.press('Control+y');
  assert.equal(await editorText(), typed + expected, 'redo brings it back');
  const file = join(vaultDir, 'Story.md');
  assert.equal(await waitFor(() => readFileSync(file, 'utf8') === typed + expected, 5000), true, 'autosave wrote typed + accepted text');
  await page.reload();
  await page.waitForSelector('.cm-content');
  assert.equal(await waitFor(async () => (await editorText()) === typed + expected, 5000), true, 'reload shows the saved note');
});
