import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadModel } from '../../src/model/load-model.js';
import { generateSteered } from '../../src/steer/generate-steered.js';
import { SteeringContext } from '../../src/steer/steering-context.js';
import { parseSteeringSpec } from '../../src/steer/steering-spec.js';
import { assertOneLineError, runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tinymorph-steer-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const { model, tokenizer } = loadModel();
const ctx = new SteeringContext(model, tokenizer);
interface SteerJson {
  default: string;
  steered: string;
  seed: number;
  steering: unknown;
}

/**
 * What the library generates for the same prompt, seed and steering request, written here as a
 * request (not through the CLI's flags), one row alone; sampling as the CLI's defaults (run.c's
 * temperature 1, top-p 0.9).
 */
function libraryText(prompt: string, maxTokens: number, seed: number, request: unknown): string {
  const [r] = generateSteered(ctx, [{ prompt, maxTokens, seed, sampling: { temperature: 1, topP: 0.9 }, steering: parseSteeringSpec(request) }]);
  return r.text;
}

function steerJson(...args: string[]): SteerJson {
  const r = runCli('steer', ...args, '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as SteerJson;
}

test('steer: STEERED is the library\'s steered generation for the same request and seed; DEFAULT is plain generation', () => {
  const out = steerJson('Once upon a time', '--feature', 'blocks.2.hook_resid_post:248:+3', '--seed', '7', '-n', '30');
  assert.equal(out.steered, libraryText('Once upon a time', 30, 7, { features: [{ source: 'blocks.2.hook_resid_post', index: 248, strength: 3 }] }));
  const plain = runCli('generate', 'Once upon a time', '--seed', '7', '-n', '30', '--json');
  assert.equal(out.default, (JSON.parse(plain.stdout) as { text: string }).text);
  assert.equal(out.default, libraryText('Once upon a time', 30, 7, undefined));
  assert.notEqual(out.steered, out.default, 'the check above would hold for a steering that does nothing');
  const table = runCli('steer', 'Lily', '--feature', '2:248:3', '--scope', 'generated', '--seed', '1', '-n', '20');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /DEFAULT\s+│\s+STEERED/);
});

test('steer: a JSON spec file and flags combine into the request the library is given', () => {
  const spec = join(dir, 'spec.json');
  writeFileSync(spec, JSON.stringify({ features: [{ layer: 2, index: 248, strength: 2 }], steer_method: 'SIMPLE_ADDITIVE' }));
  const out = steerJson('Lily', '--spec', spec, '--guide', '2:248:2', '--multiplier', '1.5', '--normalize', '-n', '10', '--seed', '3');
  const request = {
    features: [{ layer: 2, index: 248, strength: 2 }],
    guide: [{ source: '2', index: 248, strength: 2 }],
    steer_method: 'SIMPLE_ADDITIVE',
    strength_multiplier: 1.5,
    normalize_steering: true,
  };
  assert.deepEqual(out.steering, JSON.parse(JSON.stringify(parseSteeringSpec(request))));
  assert.equal(out.steered, libraryText('Lily', 10, 3, request));
});

test('steer: a preset runs at its tuned strength, or at the one given, as the library runs that vector', () => {
  const tuned = steerJson('Once upon a time', '--preset', 'dialogue', '--seed', '4', '-n', '30');
  assert.deepEqual((tuned.steering as { vectors: unknown }).vectors, [{ vector: 'dialogue', strength: 1 }]);
  assert.equal(tuned.steered, libraryText('Once upon a time', 30, 4, { vectors: [{ vector: 'dialogue', strength: 1 }] }));
  // Without --seed the CLI draws one and reports it: the same seed reproduces its text.
  const given = steerJson('Lily', '--preset', 'animals:0.5', '-n', '5');
  assert.deepEqual((given.steering as { vectors: unknown }).vectors, [{ vector: 'animals', strength: 0.5 }]);
  assert.equal(given.steered, libraryText('Lily', 5, given.seed, { vectors: [{ vector: 'animals', strength: 0.5 }] }));
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
