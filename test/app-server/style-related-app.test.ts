import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RelatedNotes } from '../../src/vault/related-notes-api.js';
import { KITCHEN, SEA, writeTwoTopicVault } from './two-topic-notes.js';
import { startTinymorphApp } from '../helpers/tinymorph-app.js';

// The real `tinymorph app` on a vault of two topics: related notes rank a note's own topic first,
// follow a save, and a style vector built from one topic's notes reports its effect, is kept in the
// vault, changes a suggestion, and is there again after a restart.
let vaultDir: string;
let app: ChildProcess | undefined;
let url: string;

async function startApp(): Promise<void> {
  ({ app, url } = await startTinymorphApp(vaultDir));
}

async function stopApp(): Promise<void> {
  const child = app;
  app = undefined;
  if (!child || child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

before(async () => {
  vaultDir = join(mkdtempSync(join(tmpdir(), 'tinymorph-style-related-')), 'vault');
  mkdirSync(vaultDir);
  writeTwoTopicVault(vaultDir);
  await startApp();
});

after(stopApp);

/** The related list once the index is up to date (the route answers with progress until then). */
async function related(path: string): Promise<RelatedNotes> {
  for (let i = 0; i < 600; i++) {
    const res = await fetch(`${url}/api/related?path=${encodeURIComponent(path)}`);
    if (res.status !== 503) {
      assert.equal(res.status, 200, await res.clone().text());
      const r = RelatedNotes.parse(await res.json());
      if (r.building === null) return r;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no related list for ${path}`);
}

const topicOf = (path: string): string => path.split('/')[0];

test('related notes: every note of a two-topic vault lists the five notes of its own topic first, with the shared features named', { timeout: 180_000 }, async () => {
  for (const path of [...Object.keys(KITCHEN), ...Object.keys(SEA)]) {
    const r = await related(path);
    assert.equal(r.notes.length, 8, `${path}: the default limit`);
    assert.deepEqual(
      r.notes.slice(0, 5).map((n) => topicOf(n.path)),
      Array(5).fill(topicOf(path)),
      `${path}: ${r.notes.map((n) => `${n.path} ${n.score.toFixed(3)}`).join(', ')}`,
    );
    assert.ok(!r.notes.some((n) => n.path === path), 'a note is not related to itself');
    for (const n of r.notes) {
      assert.ok(n.shared.length > 0 && n.shared.every((f) => f.label.length > 0), `${n.path}: shared features carry labels`);
    }
  }
  assert.ok(existsSync(join(vaultDir, '.tinymorph', 'related-notes.json')));
});

test('related notes: a bad path or a missing note is the vault’s 4xx, naming it', async () => {
  const outside = await fetch(`${url}/api/related?path=${encodeURIComponent('../outside.md')}`);
  assert.ok([400, 403].includes(outside.status), `../outside.md: ${outside.status}`);
  assert.match(((await outside.json()) as { error: { message: string } }).error.message, /outside\.md/);
  const missing = await fetch(`${url}/api/related?path=${encodeURIComponent('No such note.md')}`);
  assert.equal(missing.status, 404);
  assert.match(((await missing.json()) as { error: { message: string } }).error.message, /No such note\.md/);
  assert.equal((await fetch(`${url}/api/related?path=Sea/Boat.md&limit=0`)).status, 400);
});

test('related notes: a note saved with the other topic’s text is related to that topic next time', { timeout: 60_000 }, async () => {
  const path = 'Kitchen/Soup.md';
  const note = (await (await fetch(`${url}/api/vault/note?path=${encodeURIComponent(path)}`)).json()) as { hash: string };
  const saved = await fetch(`${url}/api/vault/note`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ path, text: SEA['Sea/Storm.md'].replace('storm', 'big storm'), baseHash: note.hash }) });
  assert.equal(saved.status, 200);
  const r = await related(path);
  assert.equal(topicOf(r.notes[0].path), 'Sea', r.notes.map((n) => n.path).join(', '));
  assert.equal(r.notes[0].path, 'Sea/Storm.md');
});

test('style vector from a folder of notes: progress streams, the effect lowers the notes’ CE, it changes a suggestion, and it survives a restart', { timeout: 180_000 }, async () => {
  const res = await fetch(`${url}/v1/vectors/style`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'sea-notes', texts: Object.values(SEA), stream: true }) });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const events = (await res.text())
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => l.slice(6));
  assert.equal(events.at(-1), '[DONE]');
  const parsed = events.slice(0, -1).map((e) => JSON.parse(e) as Record<string, unknown>);
  const progress = parsed.filter((e) => e.object === 'vector.progress');
  assert.ok(progress.some((p) => p.phase === 'vector') && progress.some((p) => p.phase === 'effect' && p.done === p.total), JSON.stringify(progress));
  const built = parsed.at(-1) as { name: string; strength: number; effect: { strength: number; clean_nats: number; steered_nats: number; tokens: number } };
  assert.equal(built.name, 'sea-notes');
  assert.ok(built.effect.steered_nats < built.effect.clean_nats, JSON.stringify(built.effect));
  assert.equal(built.strength, built.effect.strength);
  assert.ok(existsSync(join(vaultDir, '.tinymorph', 'vectors', 'sea-notes.safetensors')), 'kept in the vault');

  const complete = async (steering?: unknown): Promise<string> => {
    const r = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ prompt: 'Once upon a time, there was a', max_tokens: 24, temperature: 0.8, top_p: 0.9, seed: 1, ...(steering ? { steering } : {}) }) });
    assert.equal(r.status, 200, await r.clone().text());
    return ((await r.json()) as { choices: { text: string }[] }).choices[0].text;
  };
  const steering = { vectors: [{ vector: 'sea-notes', strength: built.strength }] };
  const plain = await complete();
  const steered = await complete(steering);
  assert.notEqual(steered, plain, 'the preset changes the suggestion (same seed)');

  await stopApp();
  await startApp();
  let listed: { name: string; strength: number; effect: unknown } | undefined;
  for (let i = 0; i < 300 && !listed; i++) {
    const r = await fetch(`${url}/v1/vectors`);
    if (r.status === 200) listed = ((await r.json()) as { data: { name: string; strength: number; effect: unknown }[] }).data.find((v) => v.name === 'sea-notes');
    else await new Promise((res) => setTimeout(res, 200));
  }
  assert.ok(listed, 'defined again from the vault after a restart');
  assert.deepEqual(listed.effect, built.effect);
  assert.equal(await complete(steering), steered, 'the reloaded vector steers exactly as before');
});
