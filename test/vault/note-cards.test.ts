import assert from 'node:assert/strict';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { VaultError } from '../../src/errors.js';
import { MAX_CARDS_BYTES, type NoteCards } from '../../src/vault/note-cards-api.js';
import { Vault } from '../../src/vault/vault.js';
import { tempVault } from './vault-test-helpers.js';

const CARDS: NoteCards = {
  version: 1,
  sets: [
    {
      before: 'Once upon a time',
      cards: [
        { label: 'seed 1 · happy +4', text: ' there was a dog.', seed: 1, steering: { vectors: [{ vector: 'happy', strength: 4 }] } },
        { label: 'seed 1 · unsteered', text: ' a girl sang.', seed: 1 },
      ],
      createdAt: 1700000000000,
    },
  ],
};

function refused(fn: () => unknown, problem: string): void {
  assert.throws(fn, (e: unknown) => e instanceof VaultError && e.problem === problem, `expected VaultError(${problem})`);
}

test('cards round-trip through a hidden sidecar beside the note, which the tree and search never show', () => {
  const { dir } = tempVault({ 'Ideas/Story.md': 'Once upon a time' });
  const vault = new Vault(dir);
  assert.deepEqual(vault.cards('Ideas/Story.md'), { version: 1, sets: [] }, 'no sidecar yet: no cards');
  vault.saveCards('Ideas/Story.md', CARDS);
  const file = join(dir, 'Ideas', '.Story.md.cards.json');
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), CARDS);
  assert.deepEqual(vault.cards('Ideas/Story.md'), CARDS);
  const ideas = vault.tree().children[0];
  assert.ok(ideas.kind === 'folder');
  assert.deepEqual(ideas.children.map((c) => c.path), ['Ideas/Story.md']);
  assert.deepEqual(vault.search('dog').map((h) => h.path), []);
  vault.close();
});

test('renaming, moving or trashing a note carries its sidecar; a folder move carries its notes\' sidecars', () => {
  const { dir } = tempVault({ 'A.md': 'a', 'Folder/B.md': 'b' });
  const vault = new Vault(dir);
  vault.saveCards('A.md', CARDS);
  vault.saveCards('Folder/B.md', CARDS);
  vault.rename('A.md', 'Renamed.md');
  assert.equal(existsSync(join(dir, '.A.md.cards.json')), false);
  assert.deepEqual(vault.cards('Renamed.md'), CARDS);
  vault.rename('Renamed.md', 'Deep/Moved.md');
  assert.deepEqual(vault.cards('Deep/Moved.md'), CARDS);
  vault.rename('Folder', 'Other');
  assert.deepEqual(vault.cards('Other/B.md'), CARDS);
  const trashed = vault.trash('Deep/Moved.md');
  assert.equal(trashed, '.trash/Deep/Moved.md');
  assert.deepEqual(JSON.parse(readFileSync(join(dir, '.trash', 'Deep', '.Moved.md.cards.json'), 'utf8')), CARDS);
  assert.equal(existsSync(join(dir, 'Deep', '.Moved.md.cards.json')), false);
  // Restoring it from the trash brings the cards back; deleting it for good deletes them.
  const [entry] = vault.trashList();
  vault.restoreFromTrash(entry.id);
  assert.deepEqual(vault.cards('Deep/Moved.md'), CARDS);
  vault.trash('Deep/Moved.md');
  vault.emptyTrash();
  assert.equal(existsSync(join(dir, '.trash', 'Deep', '.Moved.md.cards.json')), false);
  // A note without cards moves as before.
  vault.create('Plain.md', 'x');
  vault.rename('Plain.md', 'Plain 2.md');
  assert.deepEqual(vault.cards('Plain 2.md').sets, []);
  vault.close();
});

test('a missing note, a malformed, oversize or symlinked sidecar and a path out of the vault are VaultErrors', () => {
  const { dir, outside } = tempVault({ 'N.md': 'n', 'Bad.md': 'b', 'Big.md': 'b', 'Link.md': 'l' });
  const vault = new Vault(dir);
  refused(() => vault.cards('Missing.md'), 'not_found');
  refused(() => vault.saveCards('Missing.md', CARDS), 'not_found');
  refused(() => vault.cards('../outside/N.md'), 'bad_path');
  refused(() => vault.cards('.tinymorph/settings.json'), 'bad_path');
  writeFileSync(join(dir, '.Bad.md.cards.json'), '{"version":1,"sets":[{"before":3}]}');
  assert.throws(() => vault.cards('Bad.md'), (e: unknown) => e instanceof VaultError && e.problem === 'bad_file' && /sets\.0\.before/.test(e.message));
  // A steering spec nested thousands deep would overflow JSON.stringify's stack on the next save.
  const deep = `{"version":1,"sets":[{"before":"b","createdAt":1,"cards":[{"label":"l","text":"t","seed":1,"steering":{"x":${'['.repeat(5000)}${']'.repeat(5000)}}}]}]}`;
  writeFileSync(join(dir, '.Bad.md.cards.json'), deep);
  assert.throws(() => vault.cards('Bad.md'), (e: unknown) => e instanceof VaultError && e.problem === 'bad_file' && /steering: must be plain JSON/.test(e.message));
  writeFileSync(join(dir, '.Big.md.cards.json'), ' '.repeat(MAX_CARDS_BYTES + 1));
  refused(() => vault.cards('Big.md'), 'too_large');
  const huge: NoteCards = { version: 1, sets: Array.from({ length: 40 }, (_, i) => ({ before: `${i}`, cards: Array.from({ length: 4 }, () => ({ label: 'x', text: 'y'.repeat(2000), seed: 1 })), createdAt: 0 })) };
  refused(() => vault.saveCards('N.md', huge), 'too_large');
  writeFileSync(join(outside, 'secret.json'), JSON.stringify(CARDS));
  symlinkSync(join(outside, 'secret.json'), join(dir, '.Link.md.cards.json'));
  refused(() => vault.cards('Link.md'), 'bad_file');
  refused(() => vault.saveCards('Link.md', CARDS), 'bad_file');
  assert.equal(readFileSync(join(outside, 'secret.json'), 'utf8'), JSON.stringify(CARDS), 'nothing outside was written');
  vault.close();
});
