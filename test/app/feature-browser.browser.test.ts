import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumPath, collectErrors, launchBrowser, NO_CHROMIUM, screenshotDir, waitFor, seriousAxeViolations } from './browser.js';
import { startTinymorphApp } from '../helpers/tinymorph-app.js';

// The feature browser and "what fires here" in the real `tinymorph app` (vault, page and model
// server in one process), checked against the server's public API for the same feature or text:
// the page must show what /v1/features says, mark exactly the tokens explain-text says fire
// (a paragraph with multi-byte characters, so token offsets are tested), and edit the vault's
// steering spec and the index's labels through the same API a script would use.
const skip = chromiumPath ? false : NO_CHROMIUM;
const PARAGRAPH = 'Lily was very happy — she smiled at the big dog. “Let’s play!” she said, and the dog wagged its tail. 😀';
let app: ChildProcess;
let url: string;
let vaultDir: string;
let browser: Browser;
let page: Page;
let errors: string[];
const requests: string[] = [];
const relabelled: { source: string; index: number }[] = [];

interface Explained {
  source: string;
  tokens: { start: number; end: number; features: { feature: number; act: number }[]; chosen?: number[] }[];
  top: { feature: number }[];
}

before(async () => {
  if (skip) return;
  vaultDir = join(mkdtempSync(join(tmpdir(), 'tinymorph-features-e2e-')), 'vault');
  mkdirSync(join(vaultDir, '.tinymorph'), { recursive: true });
  writeFileSync(join(vaultDir, 'Story.md'), `# Story\n\n${PARAGRAPH}\n\nThe end.\n`);
  writeFileSync(join(vaultDir, '.tinymorph', 'settings.json'), JSON.stringify({ theme: 'light', suggestions: { enabled: false } }));
  ({ app, url } = await startTinymorphApp(vaultDir));
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  errors = collectErrors(page);
  page.on('request', (r) => requests.push(r.url()));
  // The model loads after the port opens; the first feature request may build the SAE's index.
  assert.ok(await waitFor(async () => (await page.request.get(`${url}/health`)).ok(), 60_000, 200), 'the model server became ready');
});

after(async () => {
  if (skip) return;
  // The index lives beside the shipped SAE: leave its labels as they were.
  for (const f of relabelled) await page.request.post(`${url}/v1/features/${f.source}/${f.index}/label`, { data: { label: '' } });
  await browser.close();
  app.kill('SIGTERM');
});

const api = async <T>(method: 'get' | 'post' | 'put', path: string, data?: unknown): Promise<T> => {
  const res = await page.request[method](`${url}${path}`, data === undefined ? {} : { data });
  assert.ok(res.ok(), `${method} ${path}: ${res.status()} ${await res.text()}`);
  return (await res.json()) as T;
};

async function axeCheck(view: string): Promise<void> {
  const violations = await seriousAxeViolations(page);
  assert.deepEqual(violations, [], view);
  await page.screenshot({ path: join(screenshotDir(), `${view}.png`) });
}

async function setSettings(patch: Record<string, unknown>): Promise<void> {
  const s = await api<Record<string, unknown>>('get', '/api/settings');
  await api('put', '/api/settings', { ...s, ...patch });
}

async function openStory(): Promise<void> {
  await page.goto(`${url}/?note=Story.md`);
  await page.waitForSelector('.cm-content .cm-line');
}

/** Search the browser for `query` by keyboard and open the first result (once it is the API's first hit); the dashboard heading's text. */
async function openFirstResult(query: string): Promise<string> {
  const first = (await api<{ data: { index: number }[] }>('get', `/v1/features/search?q=${encodeURIComponent(query)}`)).data[0].index;
  await page.keyboard.press('Control+Shift+L');
  await page.waitForSelector('#feature-search:focus');
  await page.keyboard.press('Control+a');
  await page.keyboard.type(query);
  // Results follow typing: wait for those of the whole query (the first search may build the index).
  assert.ok(await waitFor(async () => ((await page.locator('.feature-hit').first().textContent({ timeout: 60_000 })) ?? '').startsWith(`#${first} `), 60_000), `feature ${first} is found first`);
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#fd-title:focus');
  return (await page.locator('#fd-title').textContent()) ?? '';
}

test('feature browser: search → dashboard as the API has it → label edit found by search → steer with this adds it to the spec', { skip, timeout: 180_000 }, async () => {
  await openStory();
  const hits = await api<{ data: { source: string; index: number; label: string }[] }>('get', '/v1/features/search?q=happy&limit=30');
  assert.ok(hits.data.length > 0);
  const { source, index } = hits.data[0];
  assert.match(await openFirstResult('happy'), new RegExp(`^#${index}\\b`));

  // What the dashboard shows is the API's dashboard of that feature.
  const d = await api<{ contexts: { acts: number[] }[]; histogram: { counts: number[] }; positive: { token: string }[]; neighbours: { feature: number; label: string }[] }>('get', `/v1/features/${source}/${index}`);
  assert.equal(await page.locator('.fd-contexts > li').count(), d.contexts.length);
  assert.equal(await page.locator('.fd-contexts > li').first().locator('mark.act').count(), d.contexts[0].acts.filter((a) => a > 0).length);
  assert.equal(await page.locator('.histogram rect').count(), d.histogram.counts.filter((c) => c > 0).length);
  assert.equal(await page.locator('.fd-logit-list').first().locator('li').count(), d.positive.length);
  assert.deepEqual(await page.locator('.fd-neighbour > span:first-child').allTextContents(), d.neighbours.map((n) => (n.label ? `#${n.feature} · ${n.label}` : `#${n.feature}`)));
  await axeCheck('features-dashboard-light');
  await page.locator('.fd-neighbours').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(screenshotDir(), 'features-dashboard-lower-light.png') });

  // A new label, saved from the keyboard, is the index's label and what search finds.
  const word = `kites${Date.now() % 100000}`;
  relabelled.push({ source, index });
  await page.locator('#fd-label').focus();
  await page.keyboard.type(`joy and ${word}`);
  await page.keyboard.press('Enter');
  assert.ok(await waitFor(async () => (await page.locator('#fd-title').textContent())?.includes(word)), 'the heading shows the new label');
  assert.equal((await api<{ label: string }>('get', `/v1/features/${source}/${index}`)).label, `joy and ${word}`);

  // Steer with this: the vault's steering spec now carries the feature.
  await page.getByRole('button', { name: 'Steer with this' }).click();
  const spec = await waitFor(async () => {
    const s = await api<{ steering: { spec: { features?: { source: string; index: number; strength: number }[] } } }>('get', '/api/settings');
    return s.steering.spec.features?.find((f) => f.source === source && f.index === index);
  });
  assert.deepEqual(spec, { source, index, strength: 4 });
  // The page says so once its own save has answered, which may be a moment after the server has the spec.
  assert.equal(await waitFor(async () => await page.locator('.fd-steered').textContent()), 'Added to the steering at strength 4.');

  await page.getByRole('button', { name: '← Results' }).click();
  await page.waitForSelector('#feature-search:focus');
  await page.keyboard.press('Control+a');
  await page.keyboard.type(word);
  assert.ok(await waitFor(async () => (await page.locator('.feature-hit').allTextContents()).some((t) => t.startsWith(`#${index} · joy and ${word}`))), 'search finds the new label');
  await page.locator('.feature-hit').first().focus();
  await axeCheck('features-search-light');

  // A nearest feature opens its own dashboard.
  await page.locator('.feature-hit').first().click();
  await page.waitForSelector('.fd-neighbour');
  await page.locator('.fd-neighbour').first().click();
  assert.ok(await waitFor(async () => new RegExp(`^#${d.neighbours[0].feature}\\b`).test((await page.locator('#fd-title').textContent()) ?? '')), 'the nearest feature\'s dashboard opens');

  await setSettings({ theme: 'dark' });
  await openStory();
  await openFirstResult('happy');
  await axeCheck('features-dashboard-dark');
  await setSettings({ theme: 'contrast' });
  await openStory();
  await openFirstResult('happy');
  await axeCheck('features-dashboard-contrast');
  await setSettings({ theme: 'light', steering: { spec: {}, labels: {} } });
});

/** The note's paragraph as the editor shows it, each marked token in [brackets] (adjacent marks joined), and each mark's level. */
async function markedParagraph(start = 'Lily'): Promise<{ text: string; levels: string[] }> {
  return page.evaluate((start) => {
    const line = [...document.querySelectorAll('.cm-content .cm-line')].find((l) => l.textContent?.startsWith(start));
    let text = '';
    const levels: string[] = [];
    const walk = (n: Node): void => {
      if (n instanceof HTMLElement && n.classList.contains('cm-fires')) {
        text += `[${n.textContent}]`;
        levels.push([...n.classList].find((c) => /^act-\d$/.test(c)) ?? '');
      } else if (n.nodeType === Node.TEXT_NODE) text += n.textContent;
      else n.childNodes.forEach(walk);
    };
    if (line) walk(line);
    return { text: text.replace(/\]\[/g, ''), levels };
  }, start);
}

/** The paragraph with the spans explain-text says fire in [brackets] (a token's leading space is left unmarked). */
function expectedMarks(r: Explained, fires: (t: Explained['tokens'][number]) => boolean, text = PARAGRAPH): string {
  const marked = new Array<boolean>(text.length).fill(false);
  for (const t of r.tokens) {
    if (!fires(t)) continue;
    let i = t.start;
    while (i < t.end && /\s/.test(text[i])) i++;
    for (; i < t.end; i++) marked[i] = true;
  }
  let out = '';
  for (let i = 0; i < text.length; i++) out += (marked[i] && !marked[i - 1] ? '[' : '') + text[i] + (marked[i] && !marked[i + 1] ? ']' : '');
  return out;
}

test('what fires here: marks exactly the tokens explain-text says the watched features fire on; hover lists them; a click opens the dashboard', { skip, timeout: 180_000 }, async () => {
  await setSettings({ theme: 'light', steering: { spec: {}, labels: {} } });
  await openStory();
  await page.locator('.cm-line', { hasText: 'Lily' }).click();
  await page.keyboard.press('Alt+i');
  assert.equal(await page.locator('#btn-what-fires').getAttribute('aria-pressed'), 'true');

  // Unsteered: the paragraph's three top features.
  const r = await api<Explained>('post', '/v1/features/explain-text', { text: PARAGRAPH, per_token: 5, top: 10 });
  const top = r.top.slice(0, 3).map((f) => f.feature);
  const expected = expectedMarks(r, (t) => t.features.some((f) => top.includes(f.feature) && f.act > 0));
  assert.ok(expected.includes('['), 'the top features fire somewhere');
  assert.ok(await waitFor(async () => (await markedParagraph()).text === expected, 60_000), `marks: ${(await markedParagraph()).text}\nexpected: ${expected}`);
  assert.ok((await markedParagraph()).levels.includes('act-4'), 'the strongest token is drawn at the top level');
  await axeCheck('what-fires-light');

  // Hovering a marked token lists its features; clicking one opens that feature's dashboard.
  const firstMark = page.locator('.cm-fires').first();
  await firstMark.hover();
  await page.waitForSelector('.fires-card');
  await page.screenshot({ path: join(screenshotDir(), 'what-fires-hover-light.png') });
  const listed = await page.locator('.fires-card-feature').first().textContent();
  const feature = Number(/^#(\d+)/.exec(listed ?? '')?.[1]);
  assert.ok(top.includes(feature), `the hovered token's first feature (${listed}) is a watched one`);
  await page.locator('.fires-card-feature').first().click();
  assert.ok(await waitFor(async () => ((await page.locator('#fd-title').textContent()) ?? '').startsWith(`#${feature}`), 30_000));

  // From the keyboard: Alt+Shift+I on a marked word lists its features, focused; Enter opens one.
  await page.keyboard.press('Escape');
  await page.mouse.move(1, 1);
  await page.waitForSelector('.cm-tooltip-hover', { state: 'detached' });
  await page.locator('.cm-fires').last().click();
  await page.mouse.move(1, 1);
  await page.waitForSelector('.cm-tooltip-hover', { state: 'detached' });
  await page.keyboard.press('Alt+Shift+I');
  await page.waitForSelector('.fires-card-keyboard .fires-card-feature:focus');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowUp');
  const first = await page.locator('.fires-card-keyboard .fires-card-feature:focus').textContent();
  await axeCheck('what-fires-card-light');
  await page.keyboard.press('Enter');
  assert.ok(await waitFor(async () => ((await page.locator('#fd-title').textContent()) ?? '').startsWith(/^#\d+/.exec(first ?? '')?.[0] ?? '?'), 30_000), `Enter opens ${first}`);

  // Steering with a feature: it alone is watched, at every token where it fires.
  const chosen = r.top[3]?.feature ?? r.top[0].feature;
  await setSettings({ theme: 'dark', steering: { spec: { features: [{ source: r.source, index: chosen, strength: 4 }] }, labels: {} } });
  await openStory();
  await page.locator('.cm-line', { hasText: 'Lily' }).click();
  await page.keyboard.press('Alt+i');
  const c = await api<Explained>('post', '/v1/features/explain-text', { text: PARAGRAPH, per_token: 5, top: 10, source: r.source, features: [chosen] });
  const expectedChosen = expectedMarks(c, (t) => (t.chosen?.[0] ?? 0) > 0);
  assert.ok(await waitFor(async () => (await markedParagraph()).text === expectedChosen, 60_000), `marks: ${(await markedParagraph()).text}\nexpected: ${expectedChosen}`);
  await axeCheck('what-fires-dark');
  await page.locator('.cm-fires').last().click();
  await page.mouse.move(1, 1);
  await page.waitForSelector('.cm-tooltip-hover', { state: 'detached' });
  await page.keyboard.press('Alt+Shift+I');
  await page.waitForSelector('.fires-card-keyboard .fires-card-feature:focus');
  await axeCheck('what-fires-card-dark');
  await page.keyboard.press('Escape');

  await setSettings({ theme: 'contrast' });
  await openStory();
  await page.locator('.cm-line', { hasText: 'Lily' }).click();
  await page.keyboard.press('Alt+i');
  assert.ok(await waitFor(async () => (await markedParagraph()).text === expectedChosen, 60_000));
  await axeCheck('what-fires-contrast');

  // Off again: no marks, the document untouched.
  await page.locator('#btn-what-fires').click();
  assert.ok(await waitFor(async () => (await page.locator('.cm-fires').count()) === 0));
  assert.equal(readFileSync(join(vaultDir, 'Story.md'), 'utf8'), `# Story\n\n${PARAGRAPH}\n\nThe end.\n`);

  // Typing: the marks follow, after the pause, the paragraph as it now is.
  await page.locator('.cm-line', { hasText: 'Lily' }).click({ position: { x: 1, y: 5 } });
  await page.keyboard.press('Alt+i');
  assert.ok(await waitFor(async () => (await markedParagraph()).text === expectedChosen, 60_000));
  const explains = () => requests.filter((u) => u.endsWith('/v1/features/explain-text')).length;
  const before = explains();
  const typed = 'Then the happy dog ran home. ';
  await page.keyboard.type(typed);
  const edited = typed + PARAGRAPH;
  const e = await api<Explained>('post', '/v1/features/explain-text', { text: edited, per_token: 5, top: 10, source: r.source, features: [chosen] });
  const expectedEdited = expectedMarks(e, (t) => (t.chosen?.[0] ?? 0) > 0, edited);
  assert.ok(await waitFor(async () => (await markedParagraph('Then')).text === expectedEdited, 60_000), `marks: ${(await markedParagraph('Then')).text}\nexpected: ${expectedEdited}`);
  // One request for the burst when keys come faster than the pause (a loaded machine may split it once or twice).
  const sent = explains() - before;
  assert.ok(sent >= 1 && sent <= 3, `${sent} explain requests for ${typed.length} keystrokes`);
  await setSettings({ theme: 'light', steering: { spec: {}, labels: {} } });
  assert.deepEqual(errors, [], 'no console errors');
  assert.deepEqual(requests.filter((u) => !u.startsWith(`${url}/`)), [], 'no request leaves the origin');
});
