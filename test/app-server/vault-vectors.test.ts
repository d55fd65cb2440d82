import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadVaultVectors, saveVaultVector, vaultVectorsDir } from '../../src/app-server/vault-vectors.js';
import { SteeringError } from '../../src/errors.js';
import { loadModel } from '../../src/model/load-model.js';
import { SteeringContext } from '../../src/steer/steering-context.js';
import { readSteeringVectors } from '../../src/steer/steering-vector-set.js';

const { model, tokenizer } = loadModel();
const dim = model.config.dim;

test('vault vectors: saved in the steering-vector format under .tinymorph/vectors, defined again by name; bad files are reported and skipped', () => {
  const root = mkdtempSync(join(tmpdir(), 'tinymorph-vault-vectors-'));
  const v = Float32Array.from({ length: dim }, (_, i) => i / dim);
  saveVaultVector(root, 'my-style', { vectors: new Map([['blocks.2.hook_resid_post', v]]), metadata: { method: 'style', effect_clean_nats: '2' } });
  const file = join(vaultVectorsDir(root), 'my-style.safetensors');
  // The file is the format `tinymorph vector style` writes and `--vector FILE` reads.
  const read = readSteeringVectors(file, model.config.nLayers);
  assert.deepEqual([...read.vectors.get('blocks.2.hook_resid_post')!], [...v]);
  assert.equal(read.metadata.effect_clean_nats, '2');

  writeFileSync(join(vaultVectorsDir(root), 'broken.safetensors'), 'not a safetensors file');
  saveVaultVector(root, 'too-wide', { vectors: new Map([['blocks.1.hook_resid_post', new Float32Array(dim + 1)]]), metadata: {} });
  writeFileSync(join(vaultVectorsDir(root), 'not a word.safetensors'), '');
  const ctx = new SteeringContext(model, tokenizer);
  const warnings: string[] = [];
  assert.deepEqual(loadVaultVectors(root, ctx, (m) => warnings.push(m)), ['my-style']);
  assert.deepEqual([...ctx.definedVectorSets().keys()], ['my-style']);
  assert.deepEqual([...ctx.vectorSet('my-style').vectors.get('blocks.2.hook_resid_post')!], [...v]);
  assert.equal(warnings.length, 2, warnings.join('\n'));
  assert.ok(warnings.some((w) => w.includes('broken.safetensors')) && warnings.some((w) => w.includes('too-wide.safetensors')));
});

test('vault vectors: a name that is not a plain word never becomes a path', () => {
  const root = mkdtempSync(join(tmpdir(), 'tinymorph-vault-vectors-'));
  mkdirSync(join(root, '.tinymorph'));
  const set = { vectors: new Map([['blocks.2.hook_resid_post' as const, new Float32Array(dim)]]), metadata: {} };
  assert.throws(() => saveVaultVector(root, '../escape', set), SteeringError);
  assert.deepEqual(readdirSync(join(root, '.tinymorph')), []);
  assert.deepEqual(loadVaultVectors(root, new SteeringContext(model, tokenizer), () => {}), [], 'no vectors folder: nothing to load');
});
