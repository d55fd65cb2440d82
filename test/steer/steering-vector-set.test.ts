import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ModelFileError, SteeringError } from '../../src/errors.js';
import type { HookName } from '../../src/model/hook-points.js';
import { writeSafetensors } from '../../src/model/safetensors.js';
import { readSteeringVectors, writeSteeringVectors } from '../../src/steer/steering-vector-set.js';

const dir = mkdtempSync(join(tmpdir(), 'tinymorph-vecs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('vector file round trip: every hook, width and value, and the metadata', () => {
  const path = join(dir, 'v.safetensors');
  const vectors = new Map<HookName, Float32Array>([
    ['blocks.2.hook_resid_post', Float32Array.from({ length: 64 }, (_, i) => Math.cos(i) / 3)],
    ['blocks.0.mlp.hook_post', Float32Array.from({ length: 172 }, (_, i) => -i / 1e3)],
    ['hook_embed', Float32Array.of(...new Array(64).fill(1e-30))],
  ]);
  writeSteeringVectors(path, { vectors, metadata: { method: 'style', sample_tokens: '512' } });
  const back = readSteeringVectors(path, 5);
  assert.deepEqual([...back.vectors.keys()].sort(), [...vectors.keys()].sort());
  for (const [h, v] of vectors) assert.deepEqual(back.vectors.get(h), v);
  assert.deepEqual(back.metadata, { method: 'style', sample_tokens: '512' });
});

test('vector files that do not fit the model, or hold no usable vectors, are refused with the file named', () => {
  const path = join(dir, 'bad.safetensors');
  writeSteeringVectors(path, { vectors: new Map([['blocks.7.hook_resid_post', new Float32Array(64)]]), metadata: {} });
  assert.throws(() => readSteeringVectors(path, 5), (e) => e instanceof SteeringError && /bad\.safetensors.*blocks\.7\.hook_resid_post/.test(e.message));
  writeSafetensors(path, { 'blocks.1.hook_resid_post': { shape: [2, 32], data: new Float32Array(64) } });
  assert.throws(() => readSteeringVectors(path), (e) => e instanceof ModelFileError && /1-D/.test(e.message));
  writeSafetensors(path, { 'blocks.1.hook_resid_post': { shape: [1], data: Float32Array.of(Infinity) } });
  assert.throws(() => readSteeringVectors(path), (e) => e instanceof ModelFileError && /NaN or Inf/.test(e.message));
  writeSafetensors(path, {});
  assert.throws(() => readSteeringVectors(path), (e) => e instanceof ModelFileError && /holds no vectors/.test(e.message));
});
