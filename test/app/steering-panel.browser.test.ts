import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumPath, collectErrors, launchBrowser, NO_CHROMIUM, screenshotDir, waitFor, seriousAxeViolations } from './browser.js';
import { startTinymorphApp } from '../helpers/tinymorph-app.js';

// The steering panel in the real `tinymorph app` (vault, page and model server in one process),
// driven from the keyboard. What the ghost text must show is asked of the server's public API
// directly, as a script would (a non-streamed /v1/completions with the page's sampling settings
// and the steering written out by hand here), so the test proves the page sent exactly that.
const skip = chromiumPath ? false : NO_CHROMIUM;
let app: ChildProcess;
let url: string;
let vaultDir: string;
let browser: Browser;
let page: Page;
let errors: string[];
const requests: string[] = [];
/** The `steering` field of each suggestion request the page sent ('none' when it had none). */
const sentSteering: string[] = [];

const PROMPT = 'Once upon a time, there was a';
const SOURCE = 'blocks.2.hook_resid_post';

before(async () => {
  if (skip) return;
  vaultDir = join(mkdtempSync(join(tmpdir(), 'tinymorph-steer-e2e-')), 'vault');
  ({ app, url } = await startTinymorphApp(vaultDir));
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  errors = collectErrors(page);
  page.on('request', (r) => {
    requests.push(r.url());
    if (r.url().endsWith('/v1/completions') && r.postDataJSON()?.stream === true) sentSteering.push(JSON.stringify(r.postDataJSON().steering ?? 'none'));
  });
});

after(async () => {
  if (skip) return;
  await browser.close();
  app.kill('SIGTERM');
});

/** The suggestion the page should show for `steering`: the same request, not streamed, straight to the server. */
async function expected(steering?: object): Promise<string> {
  const res = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: PROMPT, max_tokens: 24, temperature: 0.8, top_p: 0.9, seed: 1, stop: ['\n\n'], ...(steering ? { steering } : {}) }),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { choices: { text: string }[] }).choices[0].text;
}

const ghost = () => page.evaluate(() => document.querySelector('.cm-ghost-text')?.textContent ?? null);
const showsGhost = (text: string) => waitFor(async () => (await ghost()) === text, 15_000);
const focused = () =>
  page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return `${el?.tagName.toLowerCase()}${el?.id ? `#${el.id}` : ''} ${el?.getAttribute('aria-label') ?? ''}`.trim();
  });
const savedSettings = () => JSON.parse(readFileSync(join(vaultDir, '.tinymorph', 'settings.json'), 'utf8')) as { steering: { spec: object; labels: Record<string, string> } };

async function press(key: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await page.keyboard.press(key);
}

test('steering panel: add a feature, its slider changes the suggestion with the same seed, back to 0 is the unsteered one; the spec survives a reload', { skip, timeout: 120_000 }, async () => {
  await page.goto(`${url}/?note=Welcome.md`);
  await page.waitForSelector('.cm-content');
  await page.keyboard.press('Alt+n');
  await page.waitForSelector('dialog[open] input');
  await page.keyboard.type('Story');
  await page.keyboard.press('Enter');
  assert.ok(await waitFor(() => page.url().includes('Story.md')));
  await page.keyboard.type(PROMPT);
  const plain = await expected();
  assert.equal(await showsGhost(plain), true, `unsteered suggestion ${JSON.stringify(plain)}`);

  // The feature: the first hit for "dog" (on the embedded model, +4 on it rewrites the sentence).
  const search = (await (await fetch(`${url}/v1/features/search?q=dog&limit=12`)).json()) as { data: { source: string; index: number; label: string }[] };
  const hit = search.data[0];
  assert.equal(hit.source, SOURCE);
  const steered = (strength: number) => ({ features: [{ source: SOURCE, index: hit.index, strength }] });
  const at4 = await expected(steered(4));
  assert.notEqual(at4, plain, 'the chosen feature changes the text at +4');

  await page.keyboard.press('Control+Shift+S');
  await page.waitForSelector('#steer-search');
  assert.equal(await focused(), 'input#steer-search Find features by words');
  await page.keyboard.type('dog');
  await page.waitForSelector('.steer-hit');
  await page.keyboard.press('ArrowDown');
  assert.match(await focused(), /^button/);
  await page.keyboard.press('Enter');
  // Added at the default strength (+4); the suggestion on screen is asked for again, steered.
  assert.equal(await focused(), `input Strength of ${hit.label}`);
  assert.equal(await showsGhost(at4), true, `steered at +4: ${JSON.stringify(at4)}`);
  assert.equal(await page.textContent('#status-steer'), 'Steered · 1 feature');
  await page.screenshot({ path: join(screenshotDir(), 'steering-suggestion-light.png') });

  await press('ArrowRight', 2);
  const at5 = await expected(steered(5));
  assert.equal(await showsGhost(at5), true, `steered at +5: ${JSON.stringify(at5)}`);
  await press('ArrowLeft', 10);
  assert.equal(await page.textContent('.steer-value'), '0');
  assert.equal(await showsGhost(plain), true, 'back at 0: the unsteered suggestion, identical');
  assert.equal(await waitFor(() => sentSteering.at(-1) === '"none"'), true, 'and the request carried no steering');
  assert.equal(await page.textContent('#status-steer'), '');
  await press('ArrowRight', 8);
  assert.equal(await showsGhost(at4), true, 'back at +4: the same steered suggestion (same seed)');
  assert.deepEqual(sentSteering.at(-1), JSON.stringify(steered(4)));

  // Saved in the vault; a reload shows the same spec and label.
  assert.equal(await waitFor(() => JSON.stringify(savedSettings().steering.spec) === JSON.stringify(steered(4))), true, 'settings.json has the spec');
  assert.equal(savedSettings().steering.labels[`${SOURCE}#${hit.index}`], hit.label);
  await page.reload();
  await page.waitForSelector('.cm-content');
  assert.equal(await waitFor(async () => (await page.textContent('#status-steer')) === 'Steered · 1 feature'), true);
  await page.click('#btn-steering');
  await page.waitForSelector('.steer-row[data-feature]');
  assert.equal(await page.inputValue('.steer-row[data-feature] input[type=range]'), '4');
  assert.equal(await page.textContent('.steer-row[data-feature] .steer-label'), hit.label);
  assert.deepEqual(JSON.parse(await page.inputValue('#steer-json')), steered(4));
});

test('steering panel: the JSON editor round-trips, names the refused field and keeps the writer’s text', { skip, timeout: 60_000 }, async () => {
  await page.waitForSelector('#steer-json');
  const json = page.locator('#steer-json');
  const message = () => page.textContent('#steer-json-message');

  await json.fill('{"features": [');
  await page.click('text=Apply JSON');
  assert.equal(await waitFor(async () => /^Not JSON/.test((await message()) ?? '')), true);
  assert.equal(await json.inputValue(), '{"features": [', 'the edit is kept');

  const refused = JSON.stringify({ features: [{ source: SOURCE, index: 5, strength: 'lots' }] });
  await json.fill(refused);
  await page.click('text=Apply JSON');
  assert.equal(await waitFor(async () => /steering\.features\[0\]\.strength/.test((await message()) ?? ''), 10_000), true, `names the field: ${await message()}`);
  assert.equal(await json.inputValue(), refused, 'the refused edit is kept');
  assert.equal(await json.getAttribute('aria-invalid'), 'true');
  await page.locator('#steer-json-message').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(screenshotDir(), 'steering-json-refused-light.png') });

  const written = { features: [{ source: SOURCE, index: 5, strength: 2.5, method: 'CLAMP' }], vectors: [{ vector: 'happy', strength: 6 }] };
  await json.fill(JSON.stringify(written, null, 2));
  await json.press('Control+Enter');
  assert.equal(await waitFor(async () => (await message()) === 'Applied.', 10_000), true);
  assert.equal(await waitFor(() => JSON.stringify(savedSettings().steering.spec) === JSON.stringify(written)), true, 'settings.json has exactly the JSON applied');
  assert.equal(await page.inputValue('.steer-row[data-feature] select'), 'CLAMP');
  assert.equal(await page.inputValue('.steer-row[data-feature] input[type=range]'), '2.5');
  assert.equal(await page.isChecked('#steer-tone-happy'), true);
  await page.reload();
  await page.waitForSelector('.cm-content');
  await page.click('#btn-steering');
  await page.waitForSelector('#steer-json');
  assert.deepEqual(JSON.parse(await json.inputValue()), written, 'the JSON reads back as written');
  assert.equal(await page.textContent('#status-steer'), 'Steered · 1 feature · 1 vector');
});

test('steering panel: the keyboard reaches every control; axe finds nothing serious; screenshots light and dark', { skip, timeout: 60_000 }, async () => {
  await page.focus('.panel-close');
  const controls = await page.$$eval('#panel button, #panel input, #panel select, #panel textarea', (els) => els.map((e, i) => (e.setAttribute('data-n', String(i)), String(i))));
  const reached = new Set<string>();
  for (let i = 0; i < controls.length + 5; i++) {
    const n = await page.evaluate(() => document.activeElement?.closest('#panel') && document.activeElement.getAttribute('data-n'));
    if (n) reached.add(n);
    await page.keyboard.press('Tab');
  }
  assert.deepEqual([...reached].sort(), [...controls].sort(), 'Tab reaches every button, field, slider and select in the panel');

  const check = async (view: string): Promise<void> => {
    const violations = await seriousAxeViolations(page);
    assert.deepEqual(violations, [], view);
    await page.screenshot({ path: join(screenshotDir(), `${view}.png`) });
  };
  for (const theme of ['light', 'dark', 'contrast'] as const) {
    const settings = JSON.parse(readFileSync(join(vaultDir, '.tinymorph', 'settings.json'), 'utf8')) as object;
    await page.request.put(`${url}/api/settings`, { data: { ...settings, theme } });
    await page.reload();
    await page.waitForSelector('.cm-content');
    await page.keyboard.press('Control+Shift+S');
    await page.waitForSelector('.steer-row[data-feature]');
    await check(`steering-${theme}`);
    await page.keyboard.type('dog');
    await page.waitForSelector('.steer-hit');
    await check(`steering-search-${theme}`);
  }
  // The refused spec of the JSON test is an expected 400; anything else (a CSP violation, a failed load) is not.
  assert.deepEqual(errors.filter((e) => !/status of 400 \(Bad Request\)/.test(e)), [], 'no console errors');
  assert.deepEqual(requests.filter((u) => !u.startsWith(`${url}/`)), [], 'no request leaves the origin');
});
