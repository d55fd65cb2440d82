import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { splitDocuments } from '../../src/model/documents.js';
import { trainSampleTextPath, validationTextPath } from '../../src/model/embedded.js';
import { buildFeatureIndex } from '../../src/sae/feature-index/build-feature-index.js';
import { contrastTexts } from '../../src/sae/feature-index/contrast-texts.js';
import { explainText } from '../../src/sae/feature-index/explain-text.js';
import { AUTO_LABEL_SOURCE, USER_LABEL_SOURCE } from '../../src/sae/feature-index/auto-label.js';
import { FeatureIndex } from '../../src/sae/feature-index/feature-index.js';
import { readSaeLensFolder } from '../../src/sae/saelens-format.js';
import { generateSteered } from '../../src/steer/generate-steered.js';
import { PRESETS } from '../../src/steer/presets.js';
import { SteeringContext } from '../../src/steer/steering-context.js';
import { parseSteeringSpec } from '../../src/steer/steering-spec.js';
import { styleVector } from '../../src/steer/vectors/style-vector.js';
import { assetPath } from '../../src/util/package-root.js';
import { post, reference, startTestServer } from './serve-test-helpers.js';

/**
 * Features and vectors over HTTP answer what the library answers for the same SAE, index, texts
 * and spec; an index missing on first use is built (the way the CLI builds it) while streams go on.
 */
const dir = mkdtempSync(join(tmpdir(), 'tm-serve-features-'));
const TOKENS = 20 * 128;
const server = await startTestServer({ features: { dir, buildTokens: TOKENS } });
after(() => server.close());
const HOOK = 'blocks.2.hook_resid_post';
const { model, tokenizer } = reference;
const sae = readSaeLensFolder(assetPath('saes', HOOK), { model: model.config });
const get = async (path: string) => {
  const res = await fetch(`${server.url}${path}`);
  return { status: res.status, json: (await res.json()) as any };
};

test('first use builds the index as `features build` would, without stopping a running stream; show is its dashboard', async () => {
  // A stream runs while the first feature request waits for the build on the analysis thread.
  const stream = fetch(`${server.url}/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: 'Once upon a time', max_tokens: 500, ignore_eos: true, temperature: 0, stream: true }) });
  const reader = ((await stream).body as ReadableStream<Uint8Array>).getReader();
  await reader.read();
  let chunks = 0;
  let building = true;
  const counting = (async () => {
    while (building) {
      const r = await reader.read();
      if (r.done) break;
      chunks += (new TextDecoder().decode(r.value).match(/^data: /gm) ?? []).length;
    }
  })();
  const shown = await get(`/v1/features/${HOOK}/117`);
  // Asked now, not after the reference build below: that build blocks this process (the server's
  // too) for seconds, and a keep-alive socket idle that long races the server's keep-alive timeout.
  const byLayer = await get('/v1/features/2/117');
  building = false;
  await reader.cancel();
  await counting;
  assert.equal(shown.status, 200, JSON.stringify(shown.json));
  // Built on the main thread, the build would stop every decode step until it ended: the stream
  // would get only the token or two of the loop turns before the build began.
  assert.ok(chunks >= 20, `the stream got ${chunks} chunks while the index was built`);

  const refDb = join(dir, 'reference.sqlite');
  buildFeatureIndex(model, tokenizer, sae, trainSampleTextPath(), { db: refDb, saePath: assetPath('saes', HOOK), tokens: TOKENS });
  const ref = FeatureIndex.open(refDb);
  try {
    assert.deepEqual(shown.json, { source: HOOK, index: 117, ...JSON.parse(JSON.stringify(ref.show(117))) });
    // layer numbers name the same SAE
    assert.deepEqual(byLayer.json, shown.json);
  } finally {
    ref.close();
  }
});

test('search and label: hits as the index gives them; a label set over HTTP is searchable at once', async () => {
  const index = FeatureIndex.open(join(dir, `${HOOK}.sqlite`));
  try {
    const word = index.show(40).label.match(/[A-Za-z]{3,}/)?.[0] ?? 'Lily';
    const found = await get(`/v1/features/search?q=${encodeURIComponent(word)}&limit=5`);
    assert.equal(found.status, 200);
    assert.deepEqual(found.json.data, JSON.parse(JSON.stringify(index.search(word, 5).map((h) => ({ source: HOOK, index: h.feature, ...h })))));
  } finally {
    index.close();
  }
  const labelled = await post(server, `/v1/features/${HOOK}/40/label`, { label: 'quokka detector' });
  assert.equal(labelled.status, 200, labelled.text);
  assert.equal(labelled.json().label, 'quokka detector');
  assert.equal(labelled.json().labelSource, USER_LABEL_SOURCE);
  const hits = await get('/v1/features/search?q=quokka');
  assert.deepEqual(hits.json.data.map((h: { index: number }) => h.index), [40]);
  assert.equal((await post(server, '/v1/features/2/40/label', { label: '' })).json().labelSource, AUTO_LABEL_SOURCE);
  assert.deepEqual((await get('/v1/features/search?q=quokka')).json.data, []);
});

test('explain-text and contrast equal the library\'s, with the index\'s labels', async () => {
  const text = 'Lily saw many things in the park. She was happy.';
  const res = await post(server, '/v1/features/explain-text', { text, per_token: 3, top: 6 });
  assert.equal(res.status, 200, res.text);
  const lib = explainText(model, tokenizer, sae, text, { perToken: 3, top: 6 });
  const { labels, source, ...rest } = res.json();
  assert.equal(source, HOOK);
  assert.deepEqual(rest, JSON.parse(JSON.stringify(lib)));
  assert.deepEqual(Object.keys(labels).map(Number).sort((x, y) => x - y), [...new Set([...lib.top.map((f) => f.feature), ...lib.tokens.flatMap((t) => t.features.map((f) => f.feature))])].sort((x, y) => x - y));

  const a = ['Tom was sad. He cried.', 'The girl was very sad and lonely.'];
  const b = ['Tom was happy. He laughed.', 'The girl was very happy and smiled.'];
  const c = await post(server, '/v1/features/contrast', { a, b, top: 4, source: '2' });
  assert.equal(c.status, 200, c.text);
  const { labels: _l, source: _s, ...contrast } = c.json();
  assert.deepEqual(contrast, JSON.parse(JSON.stringify(contrastTexts(model, tokenizer, sae, a, b, { top: 4 }))));
});

test('explain-text: each token\'s UTF-16 span in the posted text, and the activations of the features asked for at every token', async () => {
  const text = 'Tom ran — “fast” — to the café. 😀';
  const all = explainText(model, tokenizer, sae, text, { perToken: 64 });
  const chosen = [all.top[0].feature, all.top[1].feature, 0];
  const res = await post(server, '/v1/features/explain-text', { text, per_token: 64, features: chosen });
  assert.equal(res.status, 200, res.text);
  const tokens = res.json().tokens as { start: number; end: number; token: string; features: { feature: number; act: number }[]; chosen: number[] }[];
  assert.equal(tokens.length, tokenizer.encode(text, { bos: false }).length);
  assert.equal(tokens[0].start, 0);
  assert.equal(tokens.at(-1)?.end, text.length);
  for (const t of tokens) {
    if (!t.token.includes('\uFFFD')) assert.equal(text.slice(t.start, t.end), t.token);
    // A top-k SAE fires at most 16 features per token, so per_token 64 lists every one that fires.
    assert.deepEqual(t.chosen, chosen.map((f) => t.features.find((a) => a.feature === f)?.act ?? 0));
  }
  assert.ok(tokens.some((t) => t.chosen[0] > 0));
  assert.ok(res.json().labels[String(chosen[2])] !== undefined, 'the features asked for are labelled');
  const bad = await post(server, '/v1/features/explain-text', { text, features: [sae.config.d_sae] });
  assert.equal(bad.status, 400);
  assert.equal(bad.json().error.param, 'features');
});

test('vectors: presets with their tuned strengths; a style vector built from posted texts steers requests by name', async () => {
  const list = await get('/v1/vectors');
  assert.deepEqual(list.json.data.map((v: { name: string; strength: number }) => [v.name, v.strength]), PRESETS.map((p) => [p.name, p.strength]));
  const texts = ['"Hello!" said the dog. "Hello!" said the cat.', '"Can we play?" asked Sam. "Yes!" said Mia.'];
  const made = await post(server, '/v1/vectors/style', { name: 'quotes', texts });
  assert.equal(made.status, 200, made.text);
  assert.equal(made.json().kind, 'built');
  assert.equal((await get('/v1/vectors')).json.data.at(-1).name, 'quotes');

  const ctx = new SteeringContext(model, tokenizer);
  ctx.defineVectorSet('quotes', styleVector(model, tokenizer, texts, splitDocuments(readFileSync(validationTextPath(), 'utf8'))));
  const spec = { vectors: [{ vector: 'quotes', strength: 4 }] };
  const res = await post(server, '/v1/completions', { prompt: 'Once upon a time', max_tokens: 40, temperature: 0, steering: spec });
  assert.equal(res.status, 200, res.text);
  const expected = generateSteered(ctx, [{ prompt: 'Once upon a time', maxTokens: 40, sampling: { temperature: 0 }, steering: parseSteeringSpec(spec) }])[0].text;
  assert.equal(res.json().choices[0].text, expected);
  assert.notEqual(expected, generateSteered(ctx, [{ prompt: 'Once upon a time', maxTokens: 40, sampling: { temperature: 0 } }])[0].text);
});

test('bad feature and vector requests: 4xx naming the field', async () => {
  const gets: [string, number, string | null][] = [
    ['/v1/features/blocks.9.hook_resid_post/3', 404, 'source'],
    ['/v1/features/..%2F..%2Fetc/3', 404, 'source'],
    [`/v1/features/${HOOK}/1024`, 404, 'index'],
    [`/v1/features/${HOOK}/-1`, 404, 'index'],
    [`/v1/features/${HOOK}/1e3`, 404, 'index'],
    ['/v1/features/search', 400, 'q'],
    ['/v1/features/search?q=***', 400, 'q'],
    ['/v1/features/search?q=Lily&limit=0', 400, 'limit'],
    ['/v1/features/search?q=Lily&source=/tmp', 400, 'source'],
  ];
  for (const [path, status, param] of gets) {
    const r = await get(path);
    assert.equal(r.status, status, `${path}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.error.param, param, path);
  }
  const posts: [string, unknown, number, string | null][] = [
    ['/v1/features/explain-text', { text: '' }, 400, 'text'],
    ['/v1/features/explain-text', { text: 'x', source: 'blocks.4.hook_resid_post' }, 400, 'source'],
    ['/v1/features/explain-text', { text: 'x', per_token: 0 }, 400, 'per_token'],
    ['/v1/features/contrast', { a: ['x'], b: [] }, 400, 'b'],
    ['/v1/features/contrast', { a: ['x', ''], b: ['y'] }, 400, 'a[1]'],
    [`/v1/features/${HOOK}/3/label`, { label: 7 }, 400, 'label'],
    ['/v1/vectors/style', { name: '../x', texts: ['a'] }, 400, 'name'],
    ['/v1/vectors/style', { name: 'happy', texts: ['a'] }, 400, 'name'],
    ['/v1/vectors/style', { name: 'x', texts: [] }, 400, 'texts'],
  ];
  for (const [path, body, status, param] of posts) {
    const r = await post(server, path, body);
    assert.equal(r.status, status, `${path} ${JSON.stringify(body)}: ${r.text}`);
    assert.equal(r.json().error.param, param, r.text);
  }
});
