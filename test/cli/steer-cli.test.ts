import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { assertOneLineError, runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tinymorph-steer-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('steer prints DEFAULT and STEERED side by side; the default column is plain generation with the same seed', () => {
  const r = runCli('steer', 'Once upon a time', '--feature', 'blocks.2.hook_resid_post:248:+3', '--seed', '7', '-n', '30', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { default: string; steered: string; seed: number };
  const plain = runCli('generate', 'Once upon a time', '--seed', '7', '-n', '30', '--json');
  assert.equal(out.default, (JSON.parse(plain.stdout) as { text: string }).text);
  assert.notEqual(out.steered, out.default);
  const table = runCli('steer', 'Lily', '--feature', '2:248:3', '--scope', 'generated', '--seed', '1', '-n', '20');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /DEFAULT\s+│\s+STEERED/);
});

test('a JSON spec file and flags combine', () => {
  const spec = join(dir, 'spec.json');
  writeFileSync(spec, JSON.stringify({ features: [{ layer: 2, index: 248, strength: 2 }], steer_method: 'SIMPLE_ADDITIVE' }));
  const r = runCli('steer', 'Lily', '--spec', spec, '--guide', '2:248:2', '--multiplier', '1.5', '--normalize', '-n', '10', '--seed', '3', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { steering: { features: unknown[]; guide: unknown[]; strength_multiplier: number; normalize_steering: boolean } };
  assert.equal(out.steering.features.length, 1);
  assert.equal(out.steering.guide.length, 1);
  assert.equal(out.steering.strength_multiplier, 1.5);
  assert.equal(out.steering.normalize_steering, true);
});

test('a preset runs at its tuned strength, or at the one given', () => {
  const tuned = runCli('steer', 'Once upon a time', '--preset', 'dialogue', '--seed', '4', '-n', '30', '--json');
  assert.equal(tuned.code, 0, tuned.stderr);
  const out = JSON.parse(tuned.stdout) as { default: string; steered: string; steering: { vectors: { vector: string; strength: number }[] } };
  assert.deepEqual(out.steering.vectors, [{ vector: 'dialogue', strength: 1 }]);
  assert.notEqual(out.steered, out.default);
  const given = JSON.parse(runCli('steer', 'Lily', '--preset', 'animals:0.5', '-n', '5', '--json').stdout) as typeof out;
  assert.deepEqual(given.steering.vectors, [{ vector: 'animals', strength: 0.5 }]);
});

test('bad steering input is one line naming the problem', () => {
  assertOneLineError(runCli('steer', 'Lily', '--preset', 'grumpy'), 1, /--preset "grumpy": no such preset \(available: happy, dialogue, animals, short-sentences\)/);
  assertOneLineError(runCli('steer', 'Lily', '--feature', '2:248'), 1, /--feature "2:248": expected source:index:strength/);
  assertOneLineError(runCli('steer', 'Lily', '--feature', '2:248:1:push'), 1, /unknown method "push"/);
  assertOneLineError(runCli('steer', 'Lily', '--feature', '2:5000:1'), 1, /index 5000 is outside 0\.\.1023/);
  assertOneLineError(runCli('steer', 'Lily', '--feature', 'nowhere:1:1'), 1, /no shipped SAE/);
  assertOneLineError(runCli('steer', 'Lily', '--scope', 'middle'), 1, /^tinymorph: --scope must be "all", .*, got "middle"$/);
  assertOneLineError(runCli('steer', 'Lily', '--vector', join(dir, 'missing.safetensors')), 1, /neither a preset .* nor a file/);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"features": [');
  assertOneLineError(runCli('steer', 'Lily', '--spec', bad), 1, /--spec .*bad\.json: not a steering request/);
  writeFileSync(bad, '{"features": [{"source": 2, "index": 1, "strength": "x"}]}');
  assertOneLineError(runCli('steer', 'Lily', '--spec', bad), 1, /features\[0\]\.strength must be a finite number/);
});

test('spec-file errors name the file and the field as written there, flag errors the flag; never an internal row', () => {
  const spec = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const big = spec('big.json', '{"features": [{"source": 2, "index": 1, "strength": 1e400}]}');
  assertOneLineError(runCli('steer', 'Lily', '--spec', big), 1, /big\.json: features\[0\]\.strength must be a finite number, got Infinity$/);
  const idx = spec('idx.json', '{"features": [{"layer": 2, "index": 1, "strength": 1}, {"layer": 2, "index": 6000, "strength": 1}]}');
  const both = runCli('steer', 'Lily', '--spec', idx, '--feature', '2:3:1', '-n', '2');
  assertOneLineError(both, 1, /idx\.json: features\[1\]\.index 6000 is outside 0\.\.1023/);
  const flag = runCli('steer', 'Lily', '--feature', '2:5000:1', '-n', '2');
  assertOneLineError(flag, 1, /^tinymorph: --feature "2:5000:1": index 5000 is outside 0\.\.1023/);
  for (const r of [both, flag]) assert.doesNotMatch(r.stderr, /requests|steering\./);
  const notList = spec('not-list.json', '{"features": {}}');
  assertOneLineError(runCli('steer', 'Lily', '--spec', notList, '--feature', '2:3:1'), 1, /not-list\.json: features must be an array, got \{\}$/);
});

test('a deeply nested or huge spec file is one short line', () => {
  for (const [name, text] of [
    ['deep-array.json', `${'['.repeat(100_000)}${']'.repeat(100_000)}`],
    ['deep-object.json', `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`],
  ]) {
    const path = join(dir, name);
    writeFileSync(path, text);
    assertOneLineError(runCli('steer', 'Lily', '--spec', path), 1, /not a steering request \(it nests deeper than 64 levels\)$/);
  }
  const long = join(dir, 'long.json');
  writeFileSync(long, JSON.stringify({ steer_method: 'x'.repeat(1 << 20) }));
  const r = runCli('steer', 'Lily', '--spec', long);
  assertOneLineError(r, 1, /long\.json: steer_method must be one of .*, got "x+…$/);
  assert.ok(r.stderr.length < 400, `${r.stderr.length} characters`);
});
