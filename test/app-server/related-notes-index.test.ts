import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RelatedNotesIndex, type ProfileTexts } from '../../src/app-server/related/related-notes-index.js';
import { corpusIdf } from '../../src/app-server/related/related-ranking.js';
import { loadModel } from '../../src/model/load-model.js';
import { featureProfiles } from '../../src/sae/feature-index/feature-profile.js';
import { readSaeLensFolder } from '../../src/sae/saelens-format.js';
import { shippedSaeDir } from '../../src/steer/steering-context.js';
import { Vault } from '../../src/vault/vault.js';
import { KITCHEN, SEA, writeTwoTopicVault } from './two-topic-notes.js';

const { model, tokenizer } = loadModel();
const SAE_DIR = shippedSaeDir('blocks.2.hook_resid_post');
const sae = readSaeLensFolder(SAE_DIR, { model: model.config });

/** The real profiles, in this thread (the app runs the same function on its analysis thread); counts the texts profiled. */
function profiler(): { profile: ProfileTexts; texts: string[] } {
  const texts: string[] = [];
  return {
    texts,
    profile: async (batch, onProgress) => {
      texts.push(...batch);
      return featureProfiles(model, tokenizer, sae, batch, Number.MAX_SAFE_INTEGER, onProgress);
    },
  };
}

test('related-notes index: built once, kept in .tinymorph, only changed notes profiled again, removed notes dropped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tinymorph-related-index-'));
  writeTwoTopicVault(dir);
  const vault = new Vault(dir);
  const idf = corpusIdf(sae.sparsity!);
  const first = profiler();
  const index = new RelatedNotesIndex(vault, SAE_DIR, first.profile, idf);
  await index.update();
  assert.equal(first.texts.length, 12);
  assert.equal(index.progress, null);
  assert.equal(topicOf(index.related('Sea/Fish.md', 5)), 'Sea');
  assert.ok(existsSync(join(dir, '.tinymorph', 'related-notes.json')));

  // A second index over the same vault (the app restarted) reads the file and profiles nothing.
  const second = profiler();
  const again = new RelatedNotesIndex(vault, SAE_DIR, second.profile, idf);
  await again.update();
  assert.equal(second.texts.length, 0);
  assert.deepEqual(again.related('Sea/Fish.md', 11), index.related('Sea/Fish.md', 11));

  // Another program rewrites one note with the other topic's text and removes another.
  writeFileSync(join(dir, 'Kitchen/Pie.md'), `${SEA['Sea/Whale.md']}\n`);
  rmSync(join(dir, 'Sea/Crab.md'));
  await again.update();
  assert.deepEqual(second.texts, [`${SEA['Sea/Whale.md']}\n`]);
  assert.equal(again.related('Kitchen/Pie.md', 1)[0].path, 'Sea/Whale.md');
  assert.ok(!again.related('Sea/Fish.md', 20).some((r) => r.path === 'Sea/Crab.md'));
  // The index read the changed note behind the page's back: the watcher must still see it as another program's change.
  assert.ok(vault.changedOnDisk('Kitchen/Pie.md'), 'the change is still news to the watcher');

  // A renamed note keeps its profile (found by its hash): nothing is profiled again.
  vault.rename('Sea/Beach.md', 'Sea/Shore.md');
  const before = second.texts.length;
  await again.update();
  assert.equal(second.texts.length, before);
  assert.ok(again.related('Sea/Fish.md', 20).some((r) => r.path === 'Sea/Shore.md'));
  assert.ok(!again.related('Sea/Fish.md', 20).some((r) => r.path === 'Sea/Beach.md'));
  vault.close();
});

test('related-notes index: a file from another SAE, or a damaged one, is rebuilt', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tinymorph-related-index-'));
  mkdirSync(join(dir, 'Kitchen'));
  writeFileSync(join(dir, 'Kitchen/Cake.md'), KITCHEN['Kitchen/Cake.md']);
  const vault = new Vault(dir);
  const file = join(dir, '.tinymorph', 'related-notes.json');
  await new RelatedNotesIndex(vault, SAE_DIR, profiler().profile).update();
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).sae, SAE_DIR);
  const other = profiler();
  await new RelatedNotesIndex(vault, 'another/sae', other.profile).update();
  assert.equal(other.texts.length, 1);
  writeFileSync(file, '{"version":1,');
  const damaged = profiler();
  await new RelatedNotesIndex(vault, 'another/sae', damaged.profile).update();
  assert.equal(damaged.texts.length, 1);
  vault.close();
});

function topicOf(related: { path: string }[]): string {
  const topics = new Set(related.map((r) => r.path.split('/')[0]));
  return topics.size === 1 ? [...topics][0] : [...topics].join('+');
}
