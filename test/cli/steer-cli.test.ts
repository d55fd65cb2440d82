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
  assertOneLineError(runCli('steer', 'Lily', '--scope', 'middle'), 1, /steering\.scope must be/);
  assertOneLineError(runCli('steer', 'Lily', '--vector', join(dir, 'missing.safetensors')), 1, /neither a preset .* nor a file/);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"features": [');
  assertOneLineError(runCli('steer', 'Lily', '--spec', bad), 1, /--spec .*bad\.json: not a steering request/);
  writeFileSync(bad, '{"features": [{"source": 2, "index": 1, "strength": "x"}]}');
  assertOneLineError(runCli('steer', 'Lily', '--spec', bad), 1, /features\[0\]\.strength must be a finite number/);
});
