import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createAppServer } from '../../src/app-server/app-server.js';
import { Vault } from '../../src/vault/vault.js';
import { ConflictBody } from '../../src/vault/vault-api.js';
import { tempVault } from '../vault/vault-test-helpers.js';

const { dir, outside } = tempVault({ 'Note.md': 'hello', 'Folder/Inner.md': 'inner' });
writeFileSync(join(outside, 'secret.md'), 'secret');
symlinkSync(join(outside, 'secret.md'), join(dir, 'leak.md'));
symlinkSync(outside, join(dir, 'out'));
const pageDir = join(dir, '..', 'page');
mkdirSync(pageDir);
writeFileSync(join(pageDir, 'index.html'), '<meta name="csp-nonce" content="__CSP_NONCE__">');
writeFileSync(join(pageDir, 'app.js'), 'export {}');
const vault = new Vault(dir, { maxNoteBytes: 4096 });
const app = createAppServer({ vault, pageDir });
after(() => vault.close());

interface Reply {
  status: number;
  json: any;
  headers: Headers;
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await app.request(path, {
    method,
    headers: { host: '127.0.0.1:4848', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

const enc = encodeURIComponent;

test('reads, saves and lists through the API, with the hash as the conflict guard', async () => {
  const read = await call('GET', `/api/vault/note?path=${enc('Note.md')}`);
  assert.equal(read.status, 200);
  assert.equal(read.json.text, 'hello');
  const saved = await call('PUT', '/api/vault/note', { path: 'Note.md', text: 'hello again', baseHash: read.json.hash });
  assert.equal(saved.status, 200);
  assert.equal(readFileSync(join(dir, 'Note.md'), 'utf8'), 'hello again');
  const stale = await call('PUT', '/api/vault/note', { path: 'Note.md', text: 'lost?', baseHash: read.json.hash });
  assert.equal(stale.status, 409);
  const conflict = ConflictBody.parse(stale.json);
  assert.equal(conflict.disk.text, 'hello again');
  assert.equal(conflict.yours.text, 'lost?');
  assert.equal(readFileSync(join(dir, 'Note.md'), 'utf8'), 'hello again');
  const tree = await call('GET', '/api/vault/tree');
  assert.deepEqual(tree.json.children.map((c: { path: string }) => c.path), ['Folder', 'Note.md']);
});

test('traversal, absolute paths and symlinks out of the vault are 4xx, and nothing outside is read or written', async () => {
  const before = readdirSync(outside).sort();
  const attempts: [string, string, unknown?][] = [
    ['GET', `/api/vault/note?path=${enc('../outside/secret.md')}`],
    ['GET', `/api/vault/note?path=${enc('Folder/../../outside/secret.md')}`],
    ['GET', `/api/vault/note?path=${enc(join(outside, 'secret.md'))}`],
    ['GET', `/api/vault/note?path=${enc('leak.md')}`],
    ['GET', `/api/vault/note?path=${enc('out/secret.md')}`],
    ['GET', `/api/vault/note?path=${enc('.tinymorph/settings.json')}`],
    ['GET', `/api/vault/history?path=${enc('../x.md')}`],
    ['PUT', '/api/vault/note', { path: '../outside/new.md', text: 'x', baseHash: null }],
    ['PUT', '/api/vault/note', { path: 'out/new.md', text: 'x', baseHash: null }],
    ['PUT', '/api/vault/note', { path: '/tmp/abs.md', text: 'x', baseHash: null }],
    ['PUT', '/api/vault/note', { path: 'leak.md', text: 'overwrite', baseHash: null }],
    ['POST', '/api/vault/note', { path: 'out/created.md' }],
    ['POST', '/api/vault/folder', { path: '../made' }],
    ['POST', '/api/vault/rename', { from: 'Note.md', to: 'out/Note.md' }],
    ['POST', '/api/vault/rename', { from: 'out', to: 'in' }],
    ['POST', '/api/vault/trash', { path: 'out/secret.md' }],
    ['POST', '/api/vault/trash', { path: '..' }],
  ];
  for (const [method, path, body] of attempts) {
    const r = await call(method, path, body);
    assert.ok(r.status >= 400 && r.status < 500, `${method} ${path} ${JSON.stringify(body)} → ${r.status}`);
    assert.equal(typeof r.json.error.message, 'string');
  }
  assert.deepEqual(readdirSync(outside).sort(), before);
  assert.equal(readFileSync(join(outside, 'secret.md'), 'utf8'), 'secret');
  assert.equal(existsSync(join(dir, '..', 'made')), false);
});

test('an oversize note is refused (413) by the vault and by the body limit', async () => {
  const r = await call('PUT', '/api/vault/note', { path: 'Big.md', text: 'x'.repeat(5000), baseHash: null });
  assert.equal(r.status, 413);
  const huge = await call('PUT', '/api/vault/note', { path: 'Big.md', text: 'x'.repeat(20_000), baseHash: null });
  assert.equal(huge.status, 413);
  assert.equal(existsSync(join(dir, 'Big.md')), false);
});

test('malformed bodies name the field; a missing note is 404 in OpenAI error shape', async () => {
  const bad = await call('PUT', '/api/vault/note', { path: 'Note.md', text: 3, baseHash: null });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error.message, /body\.text/);
  const notJson = await call('PUT', '/api/vault/note', '{not json');
  assert.equal(notJson.status, 400);
  const missing = await call('GET', `/api/vault/note?path=${enc('Nope.md')}`);
  assert.equal(missing.status, 404);
  assert.deepEqual(Object.keys(missing.json.error).sort(), ['code', 'message', 'type']);
});

test('DNS rebinding and cross-site writes are refused: foreign Host, foreign Origin, non-JSON bodies', async () => {
  assert.equal((await call('GET', '/api/vault/tree', undefined, { host: 'evil.example:4848' })).status, 403);
  assert.equal((await call('GET', '/', undefined, { host: 'attacker.test' })).status, 403);
  const crossSite = await call('PUT', '/api/vault/note', { path: 'Note.md', text: 'x', baseHash: null }, { origin: 'https://evil.example' });
  assert.equal(crossSite.status, 403);
  // the guard the API server uses too, answering in the vault API's error shape
  assert.deepEqual(crossSite.json.error, { message: 'Origin "https://evil.example" is not allowed (start the server with --cors-origin https://evil.example to allow it)', type: 'permission_error', code: 'origin_not_allowed' });
  // a page on another loopback port is another origin
  assert.equal((await call('PUT', '/api/vault/note', { path: 'Note.md', text: 'x', baseHash: null }, { origin: 'http://127.0.0.1:5173' })).status, 403);
  const form = await call('POST', '/api/vault/note', 'path=x.md', { 'content-type': 'application/x-www-form-urlencoded' });
  assert.equal(form.status, 415);
  assert.equal((await call('GET', '/api/vault/tree', undefined, { host: 'localhost:4848' })).status, 200);
  assert.equal((await call('POST', '/api/vault/note', { path: 'Same origin.md' }, { origin: 'http://127.0.0.1:4848' })).status, 201);
});

test('the page comes with a strict CSP whose style nonce is fresh per response and written into the page', async () => {
  const a = await call('GET', '/?note=Note.md');
  const b = await call('GET', '/');
  const csp = a.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /connect-src 'self'/);
  const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
  assert.ok(nonce);
  assert.equal(a.json, `<meta name="csp-nonce" content="${nonce}">`);
  assert.notEqual(b.headers.get('content-security-policy'), csp);
  assert.equal((await call('GET', '/app.js')).headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal((await call('GET', '/../package.json')).status, 404);
});

test('search, history and settings round-trip through the API', async () => {
  const hits = await call('GET', `/api/vault/search?q=${enc('inner')}`);
  assert.deepEqual(hits.json.hits.map((h: { path: string }) => h.path), ['Folder/Inner.md']);
  const history = await call('GET', `/api/vault/history?path=${enc('Note.md')}`);
  assert.ok(history.json.versions.length >= 1);
  const version = await call('GET', `/api/vault/history/version?path=${enc('Note.md')}&id=${enc(history.json.versions.at(-1).id)}`);
  assert.equal(version.json.text, 'hello');
  const settings = await call('GET', '/api/settings');
  const changed = await call('PUT', '/api/settings', { ...settings.json, theme: 'contrast', textSize: 22 });
  assert.equal(changed.json.theme, 'contrast');
  assert.equal(JSON.parse(readFileSync(join(dir, '.tinymorph/settings.json'), 'utf8')).textSize, 22);
  assert.equal((await call('PUT', '/api/settings', { ...settings.json, textSize: 400 })).status, 400);
});

test('margin-note cards: PUT then GET through the API, validated and size-limited, confined like notes', async () => {
  const cards = { version: 1, sets: [{ before: 'hello', cards: [{ label: 'seed 1 · unsteered', text: ' world', seed: 1 }], createdAt: 1 }] };
  const put = await call('PUT', '/api/vault/cards', { path: 'Folder/Inner.md', cards });
  assert.equal(put.status, 200);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'Folder', '.Inner.md.cards.json'), 'utf8')), cards);
  const got = await call('GET', `/api/vault/cards?path=${enc('Folder/Inner.md')}`);
  assert.deepEqual(got.json, { path: 'Folder/Inner.md', cards });
  const bad = await call('PUT', '/api/vault/cards', { path: 'Folder/Inner.md', cards: { sets: [{ before: 'x', cards: [{ label: 'l', text: 't', seed: -1 }], createdAt: 1 }] } });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error.message, /body\.cards\.sets\.0\.cards\.0\.seed/);
  assert.equal((await call('GET', `/api/vault/cards?path=${enc('../outside/secret.md')}`)).status, 400);
  assert.equal((await call('PUT', '/api/vault/cards', { path: 'out/secret.md', cards })).status, 403);
  assert.equal((await call('GET', `/api/vault/cards?path=${enc('Nope.md')}`)).status, 404);
  const huge = await call('PUT', '/api/vault/cards', JSON.stringify({ path: 'Note.md', cards: { sets: [{ before: 'x'.repeat(600 * 1024), cards: [], createdAt: 1 }] } }), { 'content-type': 'application/json' });
  assert.equal(huge.status, 413);
});
