import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createAppServer } from '../../src/app-server/app-server.js';
import { Vault } from '../../src/vault/vault.js';
import { TrashList, TrashRestored, type TrashEntry } from '../../src/vault/vault-api.js';
import { tempVault } from '../vault/vault-test-helpers.js';

// The trash through the HTTP API, as the page and any script use it: list, restore (refused with a
// 409 naming the path when something lives there now, or under a free name), delete, empty.
const { dir, outside } = tempVault({ 'Note.md': 'first words', 'Folder/Inner.md': 'inner', 'Folder/Deeper/Leaf.md': 'leaf' });
writeFileSync(join(outside, 'secret.md'), 'secret');
const pageDir = join(dir, '..', 'page');
mkdirSync(pageDir);
writeFileSync(join(pageDir, 'index.html'), '<meta name="csp-nonce" content="__CSP_NONCE__">');
const vault = new Vault(dir, { historyCoalesceMs: 0 });
const app = createAppServer({ vault, pageDir });
after(() => vault.close());

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await app.request(path, {
    method,
    headers: { host: '127.0.0.1:4848', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

const list = async (): Promise<TrashEntry[]> => TrashList.parse((await call('GET', '/api/vault/trash')).json).entries;

test('a trashed note is listed with where it was, when, and its size; restoring puts it back with its history', async () => {
  const before = Date.now();
  const hash = vault.read('Note.md').hash;
  vault.save('Note.md', 'second words', hash);
  assert.equal((await call('POST', '/api/vault/trash', { path: 'Note.md' })).status, 200);
  assert.equal(existsSync(join(dir, 'Note.md')), false);
  const [entry] = await list();
  assert.deepEqual({ ...entry, trashedAt: 0 }, { id: 'Note.md', path: 'Note.md', trashedAt: 0, kind: 'note', notes: 1, bytes: Buffer.byteLength('second words') });
  assert.ok(entry.trashedAt >= before && entry.trashedAt <= Date.now());
  const restored = TrashRestored.parse((await call('POST', '/api/vault/trash/restore', { id: 'Note.md' })).json);
  assert.equal(restored.path, 'Note.md');
  assert.equal(readFileSync(join(dir, 'Note.md'), 'utf8'), 'second words');
  assert.deepEqual(await list(), []);
  const texts = vault.versions('Note.md').map((v) => vault.version('Note.md', v.id));
  assert.deepEqual(texts, ['second words', 'first words'], 'the history came back with the note');
  assert.deepEqual(vault.search('second').map((h) => h.path), ['Note.md'], 'the search index has it again');
});

test('restoring over a note that now lives there is a 409 naming the path; freeName restores beside it', async () => {
  await call('POST', '/api/vault/trash', { path: 'Note.md' });
  vault.create('Note.md', 'a new note in its place');
  const refused = await call('POST', '/api/vault/trash/restore', { id: 'Note.md' });
  assert.equal(refused.status, 409);
  assert.equal(refused.json.error.code, 'vault_exists');
  assert.match(refused.json.error.message, /"Note\.md".*"Note \(restored\)\.md"/);
  assert.equal(readFileSync(join(dir, 'Note.md'), 'utf8'), 'a new note in its place', 'nothing was overwritten');
  const restored = await call('POST', '/api/vault/trash/restore', { id: 'Note.md', freeName: true });
  assert.equal(restored.status, 200);
  assert.equal(restored.json.path, 'Note (restored).md');
  assert.equal(readFileSync(join(dir, 'Note (restored).md'), 'utf8'), 'second words');
  assert.deepEqual(
    vault.versions('Note (restored).md').map((v) => vault.version('Note (restored).md', v.id)),
    ['second words', 'first words'],
    'the history follows the free name',
  );
  assert.deepEqual(vault.versions('Note.md').map((v) => vault.version('Note.md', v.id)), ['a new note in its place'], 'the new note keeps a history of its own');
});

test('a folder comes back whole, and a note trashed from inside a trashed folder stays a separate entry', async () => {
  await call('POST', '/api/vault/trash', { path: 'Folder' });
  vault.create('Folder/Inner.md', 'a second inner');
  await call('POST', '/api/vault/trash', { path: 'Folder/Inner.md' });
  const entries = await list();
  assert.deepEqual(entries.map((e) => [e.id, e.path, e.kind, e.notes]).sort(), [
    ['Folder 2/Inner.md', 'Folder/Inner.md', 'note', 1],
    ['Folder', 'Folder', 'folder', 2],
  ]);
  const r = await call('POST', '/api/vault/trash/restore', { id: 'Folder' });
  assert.deepEqual(r.json.moved.map((m: { to: string }) => m.to).sort(), ['Folder/Deeper/Leaf.md', 'Folder/Inner.md']);
  assert.equal(readFileSync(join(dir, 'Folder/Deeper/Leaf.md'), 'utf8'), 'leaf');
  assert.equal(readFileSync(join(dir, 'Folder/Inner.md'), 'utf8'), 'inner');
  assert.deepEqual((await list()).map((e) => e.id), ['Folder 2/Inner.md']);
});

test('delete and empty remove trash entries for good; unknown ids and paths out of the trash are 4xx', async () => {
  await call('POST', '/api/vault/trash', { path: 'Note (restored).md' });
  writeFileSync(join(dir, '.trash', 'Dropped by Obsidian.md'), 'from another program');
  const ids = (await list()).map((e) => e.id).sort();
  assert.deepEqual(ids, ['Dropped by Obsidian.md', 'Folder 2/Inner.md', 'Note (restored).md']);
  assert.deepEqual((await call('POST', '/api/vault/trash/delete', { id: 'Folder 2/Inner.md' })).json, { deleted: ['Folder 2/Inner.md'] });
  assert.equal(existsSync(join(dir, '.trash', 'Folder 2')), true, 'the folder it sat in may stay; the note is gone');
  assert.equal(existsSync(join(dir, '.trash', 'Folder 2', 'Inner.md')), false);
  for (const id of ['Folder 2/Inner.md', '../Note.md', '..', '/etc/passwd', '../../outside/secret.md', 'Folder 2']) {
    for (const route of ['restore', 'delete']) {
      const r = await call('POST', `/api/vault/trash/${route}`, { id });
      assert.ok(r.status >= 400 && r.status < 500, `${route} ${id}: ${r.status}`);
    }
  }
  const emptied = await call('POST', '/api/vault/trash/empty', {});
  assert.deepEqual(emptied.json.deleted.sort(), ['Dropped by Obsidian.md', 'Note (restored).md']);
  assert.deepEqual(await list(), []);
  assert.equal(readFileSync(join(outside, 'secret.md'), 'utf8'), 'secret');
  assert.ok(readdirSync(dir).includes('Note.md'), 'notes outside the trash are untouched');
});
