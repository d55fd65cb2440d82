import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { NoteConflictError, VaultError } from '../../src/errors.js';
import { Vault } from '../../src/vault/vault.js';
import { tempVault } from './vault-test-helpers.js';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

function refused(fn: () => unknown, problem: string): void {
  assert.throws(fn, (e: unknown) => e instanceof VaultError && e.problem === problem, `expected VaultError(${problem})`);
}

test('tree lists folders then notes, by name, without hidden folders or other files', () => {
  const { dir } = tempVault({ 'b.md': 'b', 'A note.md': 'a', 'Ideas/x.md': 'x', 'Ideas/Deep/y.md': 'y', 'image.png': '', '.obsidian/z.md': '' });
  const vault = new Vault(dir);
  const tree = vault.tree();
  assert.deepEqual(
    tree.children.map((c) => c.path),
    ['Ideas', 'A note.md', 'b.md'],
  );
  const ideas = tree.children[0];
  assert.ok(ideas.kind === 'folder');
  assert.deepEqual(ideas.children.map((c) => c.path), ['Ideas/Deep', 'Ideas/x.md']);
  vault.close();
});

test('read gives the text and the SHA-256 of its bytes; a save from that hash lands atomically on disk', () => {
  const { dir } = tempVault({ 'n.md': 'old' });
  const vault = new Vault(dir);
  const note = vault.read('n.md');
  assert.deepEqual(note, { path: 'n.md', text: 'old', hash: sha256('old') });
  const saved = vault.save('n.md', 'new text', note.hash);
  assert.equal(saved.hash, sha256('new text'));
  assert.equal(readFileSync(join(dir, 'n.md'), 'utf8'), 'new text');
  vault.close();
});

test('a save from a stale hash is a conflict carrying both versions, and leaves the disk alone', () => {
  const { dir } = tempVault({ 'n.md': 'v1' });
  const vault = new Vault(dir);
  const base = vault.read('n.md').hash;
  writeFileSync(join(dir, 'n.md'), 'changed by another program');
  assert.throws(
    () => vault.save('n.md', 'mine', base),
    (e: unknown) => e instanceof NoteConflictError && e.disk.text === 'changed by another program' && e.disk.hash === sha256('changed by another program') && e.yours.text === 'mine',
  );
  assert.equal(readFileSync(join(dir, 'n.md'), 'utf8'), 'changed by another program');
  // Nothing lost: both versions are in the note's history.
  const versions = vault.versions('n.md');
  const texts = versions.map((v) => vault.version('n.md', v.id));
  assert.ok(texts.includes('mine') && texts.includes('changed by another program'));
  // Saving from the disk's hash (the writer chose "keep mine") succeeds.
  vault.save('n.md', 'mine', sha256('changed by another program'));
  assert.equal(readFileSync(join(dir, 'n.md'), 'utf8'), 'mine');
  vault.close();
});

test('create refuses an existing note; a new note saved with a null base must not exist yet', () => {
  const { dir } = tempVault({ 'n.md': 'x' });
  const vault = new Vault(dir);
  refused(() => vault.create('n.md'), 'exists');
  assert.throws(() => vault.save('n.md', 'y', null), NoteConflictError);
  vault.create('Folder/new.md', 'hello');
  assert.equal(readFileSync(join(dir, 'Folder/new.md'), 'utf8'), 'hello');
  vault.close();
});

test('paths: traversal, absolute, hidden, non-markdown and symlinks out of the vault are refused', () => {
  const { dir, outside } = tempVault({ 'n.md': 'x' });
  writeFileSync(join(outside, 'secret.md'), 'secret');
  symlinkSync(join(outside, 'secret.md'), join(dir, 'link.md'));
  symlinkSync(outside, join(dir, 'escape'));
  const vault = new Vault(dir);
  refused(() => vault.read('../outside/secret.md'), 'bad_path');
  refused(() => vault.read('a/../../outside/secret.md'), 'bad_path');
  refused(() => vault.read(join(outside, 'secret.md')), 'bad_path');
  refused(() => vault.read('C:/x.md'), 'bad_path');
  refused(() => vault.read('.tinymorph/settings.json'), 'bad_path');
  refused(() => vault.read('n.txt'), 'bad_path');
  refused(() => vault.read('a\\b.md'), 'bad_path');
  refused(() => vault.read('link.md'), 'outside_vault');
  refused(() => vault.read('escape/secret.md'), 'outside_vault');
  refused(() => vault.save('escape/new.md', 'x', null), 'outside_vault');
  refused(() => vault.rename('n.md', 'escape/n.md'), 'outside_vault');
  assert.equal(existsSync(join(outside, 'new.md')), false);
  assert.equal(existsSync(join(outside, 'n.md')), false);
  // Neither is listed: the note links out, and symlinked folders are never followed (they could loop).
  assert.deepEqual(vault.tree().children.map((c) => c.path), ['n.md']);
  vault.close();
});

test('oversize notes are refused on read and on save', () => {
  const { dir } = tempVault({ 'big.md': 'x'.repeat(2000) });
  const vault = new Vault(dir, { maxNoteBytes: 1000 });
  refused(() => vault.read('big.md'), 'too_large');
  refused(() => vault.save('small.md', 'é'.repeat(501), null), 'too_large');
  vault.close();
});

test('rename and move update [[wikilinks]] in every note, and the moved note keeps its history', () => {
  const { dir } = tempVault({ 'Draft.md': 'first', 'Index.md': 'See [[Draft]] and [[Draft|it]].', 'Other.md': 'No link.' });
  const vault = new Vault(dir, { historyCoalesceMs: 0 });
  vault.save('Draft.md', 'second', sha256('first'));
  const r = vault.rename('Draft.md', 'Book/Chapter 1.md');
  assert.deepEqual(r.moved, [{ from: 'Draft.md', to: 'Book/Chapter 1.md' }]);
  assert.deepEqual(r.updated, ['Index.md']);
  assert.equal(readFileSync(join(dir, 'Index.md'), 'utf8'), 'See [[Chapter 1]] and [[Chapter 1|it]].');
  assert.equal(readFileSync(join(dir, 'Book/Chapter 1.md'), 'utf8'), 'second');
  assert.equal(existsSync(join(dir, 'Draft.md')), false);
  assert.deepEqual(vault.versions('Book/Chapter 1.md').map((v) => vault.version('Book/Chapter 1.md', v.id)), ['second', 'first']);
  refused(() => vault.rename('Index.md', 'Other.md'), 'exists');
  refused(() => vault.rename('Missing.md', 'X.md'), 'not_found');
  vault.close();
});

test('renaming a folder moves its notes and rewrites path links to them', () => {
  const { dir } = tempVault({ 'Ideas/a.md': 'A', 'Ideas/Sub/b.md': 'B', 'Index.md': '[[Ideas/a]] [[Ideas/Sub/b]] [[b]]' });
  const vault = new Vault(dir);
  const r = vault.rename('Ideas', 'Archive/Ideas');
  assert.deepEqual(r.moved.map((m) => m.to).sort(), ['Archive/Ideas/Sub/b.md', 'Archive/Ideas/a.md']);
  assert.equal(readFileSync(join(dir, 'Index.md'), 'utf8'), '[[Archive/Ideas/a]] [[Archive/Ideas/Sub/b]] [[b]]');
  refused(() => vault.rename('Archive', 'Archive/Inner'), 'bad_path');
  vault.close();
});

test('trash moves notes and folders into .trash/ keeping their folders, never overwriting', () => {
  const { dir } = tempVault({ 'n.md': 'one', 'F/m.md': 'm' });
  const vault = new Vault(dir);
  assert.equal(vault.trash('n.md'), '.trash/n.md');
  vault.create('n.md', 'two');
  assert.equal(vault.trash('n.md'), '.trash/n 2.md');
  assert.equal(vault.trash('F'), '.trash/F');
  assert.equal(readFileSync(join(dir, '.trash/n.md'), 'utf8'), 'one');
  assert.equal(readFileSync(join(dir, '.trash/n 2.md'), 'utf8'), 'two');
  assert.equal(readFileSync(join(dir, '.trash/F/m.md'), 'utf8'), 'm');
  assert.deepEqual(vault.tree().children, []);
  assert.deepEqual(vault.search('one'), []);
  vault.close();
});

test('history coalesces saves made close together, keeps the version found on disk, and restores', () => {
  const { dir } = tempVault({ 'n.md': 'original' });
  const vault = new Vault(dir, { historyCoalesceMs: 60_000 });
  let hash = vault.read('n.md').hash;
  for (const text of ['a', 'ab', 'abc']) hash = vault.save('n.md', text, hash).hash;
  const versions = vault.versions('n.md');
  assert.deepEqual(versions.map((v) => [v.source, vault.version('n.md', v.id)]), [
    ['save', 'abc'],
    ['disk', 'original'],
  ]);
  const restored = vault.restore('n.md', versions[1].id, hash);
  assert.equal(restored.text, 'original');
  assert.equal(readFileSync(join(dir, 'n.md'), 'utf8'), 'original');
  // The restore is a version of its own, and the text it replaced is still there.
  assert.deepEqual(vault.versions('n.md').map((v) => v.source), ['restore', 'save', 'disk']);
  refused(() => vault.version('n.md', '../../etc/passwd'), 'not_found');
  vault.close();
});

test('full-text search finds words and prefixes, follows saves, and survives reopening the vault', () => {
  const { dir } = tempVault({ 'Garden.md': 'The roses bloomed in June.', 'Sea.md': 'Waves and salt.' });
  let vault = new Vault(dir);
  assert.deepEqual(vault.search('roses').map((h) => h.path), ['Garden.md']);
  assert.deepEqual(vault.search('bloo').map((h) => h.path), ['Garden.md']);
  assert.match(vault.search('salt')[0].snippet, /\u0002salt\u0003/);
  assert.deepEqual(vault.search('garden').map((h) => h.path), ['Garden.md'], 'the note name is searched too');
  assert.deepEqual(vault.search('NEAR AND "'), [], 'FTS5 operators in the query are plain words');
  vault.save('Sea.md', 'Waves, salt and roses.', vault.read('Sea.md').hash);
  assert.deepEqual(vault.search('roses').map((h) => h.path).sort(), ['Garden.md', 'Sea.md']);
  vault.close();
  // Changed while the app was closed: the index catches up when the vault opens.
  writeFileSync(join(dir, 'Garden.md'), 'Only tulips now.');
  vault = new Vault(dir);
  assert.deepEqual(vault.search('roses').map((h) => h.path), ['Sea.md']);
  assert.deepEqual(vault.search('tulips').map((h) => h.path), ['Garden.md']);
  vault.close();
});

test('a corrupt search index is rebuilt; a malformed settings file is named with its bad field', () => {
  const { dir } = tempVault({ 'n.md': 'findable words' });
  new Vault(dir).close();
  writeFileSync(join(dir, '.tinymorph/search.sqlite'), 'not a database');
  const vault = new Vault(dir);
  assert.deepEqual(vault.search('findable').map((h) => h.path), ['n.md']);
  vault.saveSettings({ ...vault.settings(), theme: 'dark' });
  assert.equal(vault.settings().theme, 'dark');
  vault.close();
  writeFileSync(join(dir, '.tinymorph/settings.json'), '{"textSize": 3}');
  assert.throws(() => new Vault(dir), /settings\.json.*textSize/);
});
