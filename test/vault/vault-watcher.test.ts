import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { VaultEvent } from '../../src/vault/vault-api.js';
import { Vault } from '../../src/vault/vault.js';
import { VaultWatcher } from '../../src/vault/vault-watcher.js';
import { tempVault } from './vault-test-helpers.js';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The events seen until `settleMs` pass without a new one. */
async function collect(watcher: VaultWatcher, act: () => void, settleMs = 700): Promise<VaultEvent[]> {
  const events: VaultEvent[] = [];
  let last = Date.now();
  const stop = watcher.subscribe((e) => {
    events.push(e);
    last = Date.now();
  });
  act();
  last = Date.now();
  while (Date.now() - last < settleMs) await new Promise((r) => setTimeout(r, 50));
  stop();
  return events;
}

test("another program's change is reported with its content hash; the app's own saves never are", async () => {
  const { dir } = tempVault({ 'n.md': 'v1' });
  const vault = new Vault(dir);
  const watcher = await VaultWatcher.start(vault);
  try {
    let hash = vault.read('n.md').hash;
    const own = await collect(watcher, () => {
      for (const text of ['v2', 'v3', 'v4']) hash = vault.save('n.md', text, hash).hash;
      vault.create('Fresh.md', 'made here');
    });
    assert.deepEqual(own.filter((e) => e.type !== 'tree'), []);

    const external = await collect(watcher, () => writeFileSync(join(dir, 'n.md'), 'edited elsewhere'));
    assert.deepEqual(external.filter((e) => e.type === 'changed'), [{ type: 'changed', path: 'n.md', hash: sha256('edited elsewhere') }]);
    assert.deepEqual(vault.search('elsewhere').map((h) => h.path), ['n.md']);

    // The same bytes written again (an mtime change only) are not news.
    const touched = await collect(watcher, () => writeFileSync(join(dir, 'n.md'), 'edited elsewhere'));
    assert.deepEqual(touched, []);

    // An editor that saves by renaming a temp file over the note (vim, most editors) is seen too.
    const renamed = await collect(watcher, () => {
      writeFileSync(join(dir, '.n.md.swp'), 'atomic elsewhere');
      renameSync(join(dir, '.n.md.swp'), join(dir, 'n.md'));
    });
    assert.deepEqual(renamed.filter((e) => e.type === 'changed').at(-1), { type: 'changed', path: 'n.md', hash: sha256('atomic elsewhere') });
  } finally {
    await watcher.close();
    vault.close();
  }
});
