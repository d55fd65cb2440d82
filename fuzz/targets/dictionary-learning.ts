/**
 * dictionary_learning safetensors files, one seed per class the reader recognises (AutoEncoder,
 * GatedAutoEncoder, AutoEncoderTopK with its I64 `k`, BatchTopKSAE via config.json, JumpRelu,
 * Matryoshka), for the embedded model's blocks.2 residual stream; one file mutated, read as
 * `sae convert --from dictionary-learning` does, then used.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readDictionaryLearning } from '../../src/sae/dictionary-learning-format.js';
import { randomArray } from '../../test/sae/sae-test-helpers.js';
import type { FuzzTarget } from '../fuzz-target.js';
import type { SeedFolder } from './folder-mutation.js';
import { readSeedFolder, writeMutatedFolder, writeSeedFolder } from './folder-mutation.js';
import { rawSafetensors } from './safetensors.js';
import { embeddedConfig } from './saelens.js';
import { SAE_STRINGS, useSae } from './sae-use.js';
import { writeFile } from './seed-files.js';

const D = 64;
const N = 32;
const f32 = (shape: number[], seed: number, scale = 0.3) => {
  const a = randomArray(shape.reduce((x, y) => x * y, 1), seed, scale);
  return { dtype: 'F32' as const, shape, data: new Uint8Array(a.buffer) };
};
const i64 = (v: number) => ({ dtype: 'I64' as const, shape: [], data: new Uint8Array(new BigInt64Array([BigInt(v)]).buffer) });
const scalarF32 = (v: number) => ({ dtype: 'F32' as const, shape: [], data: new Uint8Array(new Float32Array([v]).buffer) });

type Tensors = Record<string, { dtype: 'F32' | 'I64'; shape: number[]; data: Uint8Array }>;

const CLASSES: Record<string, { tensors: Tensors; config?: Record<string, unknown> }> = {
  standard: { tensors: { 'encoder.weight': f32([N, D], 1), 'encoder.bias': f32([N], 2, 0.1), 'decoder.weight': f32([D, N], 3), bias: f32([D], 4, 0.1) } },
  gated: {
    tensors: { 'encoder.weight': f32([N, D], 1), 'decoder.weight': f32([D, N], 3), decoder_bias: f32([D], 4), gate_bias: f32([N], 5), mag_bias: f32([N], 6), r_mag: f32([N], 7) },
  },
  topk: { tensors: { 'encoder.weight': f32([N, D], 1), 'encoder.bias': f32([N], 2), 'decoder.weight': f32([D, N], 3), b_dec: f32([D], 4), k: i64(4), threshold: scalarF32(-1) } },
  batchtopk: {
    tensors: { 'encoder.weight': f32([N, D], 1), 'encoder.bias': f32([N], 2), 'decoder.weight': f32([D, N], 3), b_dec: f32([D], 4), k: i64(4), threshold: scalarF32(0.2) },
    config: { dict_class: 'BatchTopKSAE', k: 4, activation_dim: D, dict_size: N },
  },
  jumprelu: { tensors: { W_enc: f32([D, N], 1), b_enc: f32([N], 2), W_dec: f32([N, D], 3), b_dec: f32([D], 4), threshold: f32([N], 5, 0.2) } },
  matryoshka: {
    tensors: { W_enc: f32([D, N], 1), b_enc: f32([N], 2), W_dec: f32([N, D], 3), b_dec: f32([D], 4), k: i64(4), threshold: scalarF32(0.1), group_sizes: { dtype: 'I64', shape: [2], data: new Uint8Array(new BigInt64Array([8n, 24n]).buffer) } },
  },
};

export const dictionaryLearningTarget: FuzzTarget = {
  name: 'dictionary-learning',
  prepare(work) {
    const model = embeddedConfig();
    const seeds: SeedFolder[] = Object.entries(CLASSES).map(([name, c]) => {
      const dir = join(work, name);
      mkdirSync(dir);
      writeFile(dir, 'ae.safetensors', rawSafetensors(Object.entries(c.tensors).map(([n, t]) => ({ name: n, ...t }))));
      if (c.config) writeFile(dir, 'config.json', JSON.stringify(c.config));
      return readSeedFolder(dir);
    });
    const names = [...SAE_STRINGS, 'BatchTopKSAE', 'AutoEncoderTopK', 'encoder.weight', 'decoder.weight', 'W_enc', 'threshold', 'k', 'group_sizes', 'I64', 'F32'];
    return {
      write: (rng, dir) => writeMutatedFolder(rng.pick(seeds), rng, dir, { strings: names }),
      writeSeed: (dir) => writeSeedFolder(seeds[2], dir),
      read(dir) {
        useSae(readDictionaryLearning(dir, { model, hookName: 'blocks.2.hook_resid_post' }));
      },
    };
  },
};
