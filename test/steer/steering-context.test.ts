import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SteeringError } from '../../src/errors.js';
import type { HookName } from '../../src/model/hook-points.js';
import { writeControlVectorGguf } from '../../src/steer/control-vector-gguf.js';
import { SteeringContext } from '../../src/steer/steering-context.js';
import { writeSteeringVectors } from '../../src/steer/steering-vector-set.js';
import { model, tokenizer } from './steer-test-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tinymorph-steering-context-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, vectors: [HookName, number][]): string => {
  const path = join(dir, name);
  writeSteeringVectors(path, { vectors: new Map(vectors.map(([hook, width]) => [hook, new Float32Array(width).fill(0.5)])), metadata: {} });
  return path;
};

test("a vector set loads when each vector is as wide as its hook (64 for the residual stream, 172 for mlp.hook_post)", () => {
  const path = write('fits.safetensors', [['blocks.2.hook_resid_post', 64], ['blocks.0.mlp.hook_post', 172]]);
  const set = new SteeringContext(model, tokenizer).vectorSet(path);
  assert.deepEqual([...set.vectors].map(([hook, v]) => [hook, v.length]), [['blocks.2.hook_resid_post', 64], ['blocks.0.mlp.hook_post', 172]]);
});

test('a vector narrower or wider than its hook is refused when resolved, naming the file, its width and the hook\'s', () => {
  const ctx = new SteeringContext(model, tokenizer);
  for (const [name, hook, width, hookWidth] of [
    ['narrow.safetensors', 'blocks.2.hook_resid_post', 10, 64],
    ['wide.safetensors', 'blocks.2.hook_resid_post', 100, 64],
    ['mlp.safetensors', 'blocks.1.mlp.hook_pre', 64, 172],
  ] as const) {
    const path = write(name, [[hook, width]]);
    assert.throws(() => ctx.vectorSet(path), (e) => e instanceof SteeringError && e.message === `${path}: the vector for ${hook} is ${width} wide, the hook is ${hookWidth} wide`);
  }
  // llama.cpp control vectors too: direction.N is added to blocks.N's output.
  const gguf = join(dir, 'narrow.gguf');
  writeControlVectorGguf(gguf, { vectors: new Map([['blocks.1.hook_resid_post', new Float32Array(32).fill(1)]]), metadata: {} });
  assert.throws(() => ctx.vectorSet(gguf), (e) => e instanceof SteeringError && e.message === `${gguf}: the vector for blocks.1.hook_resid_post is 32 wide, the hook is 64 wide`);
});
