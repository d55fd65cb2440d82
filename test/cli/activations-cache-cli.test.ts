import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli as run } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tm-acts-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface FileState {
  bytes: Buffer;
  mtimeNs: bigint;
}

/** Every file under root (relative path → bytes and modification time in nanoseconds). */
function snapshot(root: string): Map<string, FileState> {
  const out = new Map<string, FileState>();
  for (const name of readdirSync(root, { recursive: true, encoding: 'utf8' }).sort()) {
    const path = join(root, name);
    const st = statSync(path, { bigint: true });
    if (st.isFile()) out.set(name, { bytes: readFileSync(path), mtimeNs: st.mtimeNs });
  }
  return out;
}

function assertUntouched(before: Map<string, FileState>, now: Map<string, FileState>, what: string): void {
  for (const [name, was] of before) {
    const is = now.get(name);
    assert.ok(is, `${what}: ${name} is gone`);
    assert.ok(is.bytes.equals(was.bytes), `${what}: ${name} was rewritten with other bytes`);
    assert.equal(is.mtimeNs, was.mtimeNs, `${what}: ${name} was written again`);
  }
}

const cache = (out: string, tokens: number): string[] =>
  ['activations', 'cache', '--hook', 'blocks.2.hook_resid_post', '--out', out, '--tokens', String(tokens), '--context-size', '32', '--shard-tokens', '1000'];

test('activations cache: a rerun on a complete cache writes nothing (same files, bytes and times)', () => {
  const out = join(dir, 'complete');
  const first = run(...cache(out, 3000));
  assert.equal(first.code, 0, first.stderr);
  const before = snapshot(out);
  assert.deepEqual([...before.keys()], ['manifest.json', 'shard-00000.safetensors', 'shard-00001.safetensors', 'shard-00002.safetensors']);
  const again = run(...cache(out, 3000));
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^cached 3000 activations .* in 3 shards .*, resumed after 3000;/);
  const now = snapshot(out);
  assert.deepEqual([...now.keys()], [...before.keys()], 'no file added or removed');
  assertUntouched(before, now, 'rerun');
});

test('activations cache: a larger --tokens keeps the shards already written and adds those of a fresh run to the new target', () => {
  const out = join(dir, 'extended');
  assert.equal(run(...cache(out, 2000)).code, 0);
  const before = snapshot(out);
  before.delete('manifest.json'); // the manifest records the new target and shard, so it must change
  const more = run(...cache(out, 3500));
  assert.equal(more.code, 0, more.stderr);
  assert.match(more.stdout, /^cached 3500 activations .* in 4 shards .*, resumed after 2000;/);
  assertUntouched(before, snapshot(out), 'extension');
  const fresh = join(dir, 'fresh');
  assert.equal(run(...cache(fresh, 3500)).code, 0);
  const extended = snapshot(out);
  const whole = snapshot(fresh);
  assert.deepEqual([...extended.keys()], [...whole.keys()]);
  for (const name of whole.keys()) {
    if (name === 'manifest.json') continue;
    assert.ok(extended.get(name)!.bytes.equals(whole.get(name)!.bytes), `${name}: extended cache differs from a fresh run`);
  }
  const manifest = (p: string) => JSON.parse(readFileSync(join(p, 'manifest.json'), 'utf8')) as { shards: unknown[]; total_tokens: number };
  assert.deepEqual(manifest(out).shards, manifest(fresh).shards);
  assert.equal(manifest(out).total_tokens, 3500);
});
