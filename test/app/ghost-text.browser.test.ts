import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { createAppServer, listenAppServer, type ListeningServer } from '../../src/app-server/app-server.js';
import { packageRoot } from '../../src/util/package-root.js';
import { Vault } from '../../src/vault/vault.js';
import { tempVault } from '../vault/vault-test-helpers.js';
import { chromiumPath, collectErrors, launchBrowser, NO_CHROMIUM, screenshotDir, waitFor } from './browser.js';

// The ghostText() extension in a real browser, fed by a SuggestionSource whose pieces the test
// supplies (test/app/harness/ghost-harness.ts), served by the app server under its real CSP.
const skip = chromiumPath ? false : NO_CHROMIUM;
let browser: Browser;
let server: ListeningServer;
let vault: Vault;
let page: Page;
let errors: string[];

interface Harness {
  reset(doc: string, cursor?: number): void;
  push(text: string, index?: number): void;
  end(index?: number): void;
  requests(): { textBefore: string; aborted: boolean }[];
  doc(): string;
  cursor(): number;
  ghost(): string | null;
  rerun(): boolean;
}
declare const harness: Harness;

before(async () => {
  if (skip) return;
  const pageDir = mkdtempSync(join(tmpdir(), 'tinymorph-harness-'));
  const src = join(packageRoot(), 'test', 'app', 'harness');
  await build({ entryPoints: { app: join(src, 'ghost-harness.ts') }, outdir: pageDir, bundle: true, format: 'esm', target: 'es2022', logLevel: 'error' });
  copyFileSync(join(src, 'index.html'), join(pageDir, 'index.html'));
  vault = new Vault(tempVault().dir);
  server = await listenAppServer(createAppServer({ vault, pageDir }), '127.0.0.1', 0);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 900, height: 600 } });
  errors = collectErrors(page);
  await page.goto(`${server.url}/?pause=100`);
  await page.waitForSelector('.cm-content');
});

after(async () => {
  if (skip) return;
  await browser.close();
  await server.close();
  vault.close();
});

const h = {
  reset: (doc: string, cursor?: number) => page.evaluate(([d, c]) => harness.reset(d as string, c as number | undefined), [doc, cursor] as const),
  push: (text: string, index?: number) => page.evaluate(([t, i]) => harness.push(t as string, i as number | undefined), [text, index] as const),
  end: () => page.evaluate(() => harness.end()),
  requests: () => page.evaluate(() => harness.requests()),
  doc: () => page.evaluate(() => harness.doc()),
  ghost: () => page.evaluate(() => harness.ghost()),
  widget: () => page.evaluate(() => document.querySelector('.cm-ghost-text')?.textContent ?? null),
  rerun: () => page.evaluate(() => harness.rerun()),
};

/** Type `text`, wait for the pause to send a request, stream `pieces` into it. */
async function suggest(doc: string, typed: string, pieces: string[], end = true): Promise<void> {
  await h.reset(doc);
  const before = (await h.requests()).length;
  await page.keyboard.type(typed);
  assert.ok(await waitFor(async () => (await h.requests()).length > before), 'no request after the pause');
  for (const p of pieces) await h.push(p);
  if (end) await h.end();
  assert.ok(await waitFor(async () => (await h.widget()) === pieces.join('')), `no widget showing ${pieces.join('')}`);
}

test('after a pause the continuation streams into one widget at the cursor, never into the document', { skip }, async () => {
  await h.reset('Once upon a time');
  await page.keyboard.type(',');
  await waitFor(async () => (await h.requests()).length === 1);
  const [req] = await h.requests();
  assert.equal(req.textBefore, 'Once upon a time,');
  // CodeMirror's polite live region holds an announcement only briefly (screen readers queue it), so watch it.
  await page.evaluate(() => {
    const region = document.querySelector('.cm-announced') as HTMLElement;
    const heard: string[] = [];
    Object.assign(window, { heard });
    new MutationObserver(() => heard.push(region.textContent ?? '')).observe(region, { childList: true, subtree: true, characterData: true });
  });
  await h.push(' there');
  assert.equal(await waitFor(h.widget), ' there');
  await h.push(' was a fox.');
  assert.equal(await waitFor(async () => ((await h.widget()) === ' there was a fox.' ? 'ok' : '')), 'ok');
  assert.equal(await h.doc(), 'Once upon a time,', 'the document holds only what was typed');
  assert.equal(await page.locator('.cm-ghost-text').count(), 1);
  // A non-colour cue (italic), contrast ≥ 4.5:1, hidden from screen readers, announced politely instead.
  const look = await page.evaluate(() => {
    const el = document.querySelector('.cm-ghost-text') as HTMLElement;
    return { style: getComputedStyle(el).fontStyle, color: getComputedStyle(el).color, bg: getComputedStyle(document.querySelector('.cm-editor') as HTMLElement).backgroundColor, hidden: el.getAttribute('aria-hidden'), live: (window as unknown as { heard: string[] }).heard.join(' | '), politeness: document.querySelector('.cm-announced')?.getAttribute('aria-live') };
  });
  assert.equal(look.style, 'italic');
  assert.ok(contrast(look.color, look.bg) >= 4.5, `${look.color} on ${look.bg}`);
  assert.equal(look.hidden, 'true');
  assert.match(look.live, /Suggestion available/);
  assert.equal(look.politeness, 'polite');
  await page.screenshot({ path: join(screenshotDir(), 'ghost-text-light.png') });
});

test('Tab accepts all of it as one undo step; Tab without a suggestion does not insert anything', { skip }, async () => {
  await suggest('It was late', '.', [' The moon rose.']);
  await page.keyboard.press('Tab');
  assert.equal(await h.doc(), 'It was late. The moon rose.');
  assert.equal(await h.widget(), null);
  await page.keyboard.press('Control+z');
  assert.equal(await h.doc(), 'It was late.', 'undo takes back the accepted text only');
  await h.reset('No suggestion here');
  await page.keyboard.press('Tab');
  assert.equal(await h.doc(), 'No suggestion here');
});

test('Ctrl+→ and Alt+→ accept one word at a time; the rest stays shown', { skip }, async () => {
  await suggest('The cat', ' ', ['sat on the mat']);
  await page.keyboard.press('Control+ArrowRight');
  assert.equal(await h.doc(), 'The cat sat');
  assert.equal(await h.ghost(), ' on the mat');
  await page.keyboard.press('Alt+ArrowRight');
  assert.equal(await h.doc(), 'The cat sat on');
  assert.equal(await h.widget(), ' the mat');
});

test('typing the next characters keeps the rest with no new request; other typing replaces it', { skip }, async () => {
  await suggest('She said', ' ', ['hello there']);
  const n = (await h.requests()).length;
  await page.keyboard.type('hel');
  assert.equal(await h.widget(), 'lo there');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await h.requests()).length, n, 'type-through sends no request');
  await page.keyboard.type('x');
  assert.equal(await h.widget(), null);
  assert.ok(await waitFor(async () => (await h.requests()).length === n + 1), 'typing something else asks again after the pause');
});

test('Esc, arrow keys and leaving the editor clear it', { skip }, async () => {
  await suggest('A', 'b', ['cd']);
  await page.keyboard.press('Escape');
  assert.equal(await h.widget(), null);
  assert.equal(await h.doc(), 'Ab');
  await suggest('A', 'b', ['cd']);
  await page.keyboard.press('ArrowLeft');
  assert.equal(await h.widget(), null);
  await suggest('A', 'b', ['cd']);
  await page.click('#elsewhere');
  // CodeMirror reports a blur from its DOM observer a moment later, not within the click.
  assert.equal(await waitFor(async () => (await h.widget()) === null, 2000), true, 'leaving the editor clears it');
  assert.equal(await h.doc(), 'Ab');
});

test('one request in flight: a new one aborts the old, and a cleared suggestion aborts its stream', { skip }, async () => {
  await suggest('One', ' ', ['two'], false);
  const first = (await h.requests()).length - 1;
  await page.keyboard.type('x');
  assert.ok(await waitFor(async () => (await h.requests())[first].aborted), 'the stale request is aborted');
  assert.ok(await waitFor(async () => (await h.requests()).length === first + 2));
  await h.push('late piece', first);
  await h.push('fresh');
  assert.equal(await waitFor(h.widget), 'fresh');
  await page.keyboard.press('Escape');
  assert.ok(await waitFor(async () => (await h.requests())[first + 1].aborted));
});

test('rerunSuggestion asks again where the last suggestion was, even from outside the editor, replacing it; not once the cursor moved', { skip }, async () => {
  await suggest('Once', ',', [' there']);
  const asked = (await h.requests()).length;
  await page.click('#elsewhere');
  assert.equal(await waitFor(async () => (await h.widget()) === null, 2000), true);
  assert.equal(await h.rerun(), true);
  assert.ok(await waitFor(async () => (await h.requests()).length === asked + 1), 'a new request');
  assert.equal((await h.requests())[asked].textBefore, 'Once,', 'for the same text');
  await h.push(' here', asked);
  assert.equal(await waitFor(async () => (await h.widget()) === ' here'), true, 'shown while the editor is not focused');
  // A second re-run while the first streams aborts it and replaces its text.
  assert.equal(await h.rerun(), true);
  assert.ok(await waitFor(async () => (await h.requests())[asked].aborted), 'the re-run in flight is aborted');
  await h.push(' now', asked + 1);
  assert.equal(await waitFor(async () => (await h.widget()) === ' now'), true);
  await h.end();
  // Typing through part of it moves the place along; moving the cursor away forgets it.
  await page.focus('.cm-content');
  await page.keyboard.type(' n');
  assert.equal(await h.rerun(), true);
  assert.ok(await waitFor(async () => (await h.requests()).length === asked + 3));
  assert.equal((await h.requests())[asked + 2].textBefore, 'Once, n');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await h.rerun(), false);
  assert.equal((await h.requests()).length, asked + 3);
});

test('no suggestions in frontmatter, code, mid-sentence, inside a word, or a note with "suggestions: off"', { skip }, async () => {
  const cases: [string, number | undefined, string][] = [
    ['---\ntitle: x\n', undefined, 'frontmatter'],
    ['Text\n\n```\ncode', undefined, 'a code fence'],
    ['Middle of line', 6, 'mid-sentence'],
    ['Midway. Then more.', 3, 'a word'],
    ['Call it (see below) soon', 12, 'a bracket with words after it'],
    ['---\nsuggestions: off\n---\n\nProse', undefined, 'an opted-out note'],
  ];
  for (const [doc, cursor] of cases) {
    await h.reset(doc, cursor);
    const n = (await h.requests()).length;
    await page.keyboard.type('a');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal((await h.requests()).length, n, `asked for a suggestion in ${cases.find((c) => c[0] === doc)?.[2]}`);
  }
});

test('mid-line: offered before closing punctuation, and between sentences as one sentence that keeps them apart', { skip }, async () => {
  // Before closers only: the suggestion goes inside them.
  await h.reset('(as we saw)', 10);
  const n = (await h.requests()).length;
  await page.keyboard.type(' ');
  assert.ok(await waitFor(async () => (await h.requests()).length === n + 1), 'a request before ")"');
  assert.equal((await h.requests())[n].textBefore, '(as we saw ');
  await h.push('in chapter two');
  await h.end();
  assert.ok(await waitFor(async () => (await h.widget()) === 'in chapter two'));
  await page.keyboard.press('Tab');
  assert.equal(await h.doc(), '(as we saw in chapter two)');

  // Between sentences, the next one after a space: cut at the first sentence end, the rest of the stream aborted.
  await h.reset('It rained. Then it stopped.', 10);
  await page.keyboard.type(' ');
  assert.ok(await waitFor(async () => (await h.requests()).length === n + 2), 'a request after a sentence end');
  await h.push('The streets were ');
  await h.push('wet. Cars hissed');
  assert.ok(await waitFor(async () => (await h.ghost()) === 'The streets were wet.'), `ghost: ${await h.ghost()}`);
  assert.equal(await waitFor(async () => (await h.requests())[n + 1].aborted), true, 'the stream stops once the sentence is complete');
  await page.keyboard.press('Tab');
  assert.equal(await h.doc(), 'It rained. The streets were wet. Then it stopped.');

  // Between sentences with the next one right after the cursor: the suggestion brings its own space.
  await h.reset('It rained.Then it stopped.', 10);
  await page.keyboard.type(' ');
  assert.ok(await waitFor(async () => (await h.requests()).length === n + 3));
  await h.push('The streets were wet.');
  await h.end();
  assert.ok(await waitFor(async () => (await h.ghost()) === 'The streets were wet. '), `ghost: ${await h.ghost()}`);
  await page.keyboard.press('Tab');
  assert.equal(await h.doc(), 'It rained. The streets were wet. Then it stopped.');
});

test('no request while an IME composition is open', { skip }, async () => {
  await h.reset('Kana ');
  const n = (await h.requests()).length;
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Input.imeSetComposition', { text: 'か', selectionStart: 1, selectionEnd: 1 });
  await new Promise((r) => setTimeout(r, 400));
  assert.equal((await h.requests()).length, n);
  await cdp.send('Input.insertText', { text: 'か' });
  await page.keyboard.type(' ');
  assert.ok(await waitFor(async () => (await h.requests()).length === n + 1), 'a request once the composition is committed');
});

test('in vim insert mode Esc clears the suggestion and leaves insert mode', { skip }, async () => {
  await page.goto(`${server.url}/?pause=100&vim`);
  await page.waitForSelector('.cm-content');
  await h.reset('Vim');
  await page.keyboard.press('A');
  await page.keyboard.type(' keys');
  assert.ok(await waitFor(async () => (await h.requests()).length > 0));
  await h.push(' are fun');
  assert.equal(await waitFor(h.widget), ' are fun');
  await page.keyboard.press('Escape');
  assert.equal(await h.widget(), null);
  await page.keyboard.press('x');
  assert.equal(await h.doc(), 'Vim key', 'x deleted a character: normal mode');
  assert.deepEqual(errors, []);
});

/** WCAG contrast of two CSS rgb() colours. */
function contrast(a: string, b: string): number {
  const lum = (c: string): number => {
    const [r, g, bl] = (c.match(/[\d.]+/g) ?? []).slice(0, 3).map((v) => Number(v) / 255).map((v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
