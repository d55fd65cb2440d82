import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gguf } from '@huggingface/gguf';
import { ModelFileError, SteeringError } from '../../src/errors.js';
import type { GgufValue } from '../../src/model/gguf/gguf-types.js';
import { writeGguf } from '../../src/model/gguf/gguf-writer.js';
import type { HookName } from '../../src/model/hook-points.js';
import { readControlVectorGguf, writeControlVectorGguf } from '../../src/steer/control-vector-gguf.js';
import type { SteeringVectorSet } from '../../src/steer/steering-vector-set.js';

const vec = (seed: number, n = 64): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7 + i) * 0.3);
const SET: SteeringVectorSet = {
  vectors: new Map<HookName, Float32Array>([
    ['blocks.3.hook_resid_post', vec(3)],
    ['blocks.1.hook_resid_post', vec(1)],
  ]),
  metadata: { method: 'caa', model: 'stories260K' },
};

async function inTempDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tinymorph-cvec-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ARCH: [string, GgufValue] = ['general.architecture', { type: 'string', value: 'controlvector' }];

test('control vector export → import gives the same vectors at the same hooks, with metadata', () =>
  inTempDir((dir) => {
    const path = join(dir, 'v.gguf');
    writeControlVectorGguf(path, SET, { modelHint: 'llama' });
    const back = readControlVectorGguf(path, 5);
    assert.deepEqual([...back.vectors.keys()].sort(), ['blocks.1.hook_resid_post', 'blocks.3.hook_resid_post']);
    for (const [hook, v] of SET.vectors) assert.deepEqual(back.vectors.get(hook), v);
    assert.deepEqual(back.metadata, SET.metadata);
    assert.equal(back.modelHint, 'llama');
  }));

test('@huggingface/gguf reads our control vector as llama.cpp expects it: keys, direction.N names, F32 1-D', () =>
  inTempDir(async (dir) => {
    const path = join(dir, 'v.gguf');
    writeControlVectorGguf(path, SET, { modelHint: 'llama' });
    const { metadata, tensorInfos } = await gguf(path, { allowLocalFile: true });
    const m = metadata as unknown as Record<string, unknown>;
    assert.equal(m['general.architecture'], 'controlvector');
    assert.equal(m['controlvector.model_hint'], 'llama');
    assert.equal(m['controlvector.layer_count'], 2);
    assert.equal(m['tinymorph.method'], 'caa');
    assert.deepEqual(
      tensorInfos.map((t) => [t.name, t.n_dims, t.shape, t.dtype]),
      [
        ['direction.1', 1, [64n], 0],
        ['direction.3', 1, [64n], 0],
      ],
    );
  }));

test('export refuses what llama.cpp cannot load: block 0, hooks other than hook_resid_post, mixed widths', () =>
  inTempDir((dir) => {
    const path = join(dir, 'v.gguf');
    const one = (hook: HookName, v = vec(0)): SteeringVectorSet => ({ vectors: new Map([[hook, v]]), metadata: {} });
    assert.throws(() => writeControlVectorGguf(path, one('blocks.0.hook_resid_post')), (e) => e instanceof SteeringError && /blocks\.0\.hook_resid_post.*block 0/.test(e.message));
    assert.throws(() => writeControlVectorGguf(path, one('blocks.2.hook_mlp_out')), (e) => e instanceof SteeringError && /blocks\.2\.hook_mlp_out.*hook_resid_post/.test(e.message));
    const mixed: SteeringVectorSet = { vectors: new Map([['blocks.1.hook_resid_post', vec(1)], ['blocks.2.hook_resid_post', vec(2, 32)]]), metadata: {} };
    assert.throws(() => writeControlVectorGguf(path, mixed), SteeringError);
  }));

test('import reads files written the way llama.cpp cvector-generator writes them (int32 layer_count, every layer 1..n−1)', () =>
  inTempDir((dir) => {
    const path = join(dir, 'cvec.gguf');
    writeGguf(
      path,
      [ARCH, ['controlvector.model_hint', { type: 'string', value: 'llama' }], ['controlvector.layer_count', { type: 'int32', value: 4 }]],
      [1, 2, 3, 4].map((n) => ({ name: `direction.${n}`, shape: [64], data: vec(n) })),
    );
    const back = readControlVectorGguf(path, 5);
    assert.equal(back.vectors.size, 4);
    assert.deepEqual(back.vectors.get('blocks.4.hook_resid_post'), vec(4));
  }));

test('import rejects files that are not control vectors, or that llama.cpp would reject', () =>
  inTempDir((dir) => {
    const path = join(dir, 'bad.gguf');
    const tensor = (name: string, shape = [64]) => ({ name, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    const expectError = (kind: typeof ModelFileError | typeof SteeringError, pattern: RegExp, nLayers?: number): void => {
      assert.throws(() => readControlVectorGguf(path, nLayers), (e) => e instanceof kind && pattern.test(e.message) && e.message.includes('bad.gguf'));
    };
    writeGguf(path, [['general.architecture', { type: 'string', value: 'llama' }]], [tensor('direction.1')]);
    expectError(ModelFileError, /general\.architecture is "llama"/);
    writeGguf(path, [ARCH], [tensor('direction.0')]);
    expectError(ModelFileError, /direction\.0 is not allowed/);
    writeGguf(path, [ARCH], [tensor('token_embd.weight')]);
    expectError(ModelFileError, /not a direction\.N tensor/);
    writeGguf(path, [ARCH], [tensor('direction.1', [8, 8])]);
    expectError(ModelFileError, /1-D/);
    writeGguf(path, [ARCH], [tensor('direction.1'), tensor('direction.2', [32])]);
    expectError(ModelFileError, /32 values but others have 64/);
    writeGguf(path, [ARCH], []);
    expectError(ModelFileError, /no direction tensors/);
    writeGguf(path, [ARCH], [tensor('direction.7')]);
    expectError(SteeringError, /direction\.7 is past the model's last layer 4/, 5);
    writeGguf(path, [ARCH], [{ name: 'direction.1', shape: [2], data: Float32Array.of(1, NaN) }]);
    expectError(ModelFileError, /NaN/);
  }));
