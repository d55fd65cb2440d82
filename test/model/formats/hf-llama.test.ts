import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ModelFileError, TokenizerFileError } from '../../../src/errors.js';
import { embeddedModelPath, embeddedTokenizerPath } from '../../../src/model/embedded.js';
import { generate } from '../../../src/model/generate.js';
import { HF_INDEX_FILE, hfLayerName } from '../../../src/model/hf-llama-read.js';
import { writeHfLlama } from '../../../src/model/hf-llama-write.js';
import type { LoadedModel } from '../../../src/model/load-model.js';
import { loadModel } from '../../../src/model/load-model.js';
import { readLlama2c } from '../../../src/model/llama2c-format.js';
import { SafetensorsFile, writeSafetensors } from '../../../src/model/safetensors.js';
import { assertAllClose, maxAbsDiff } from '../../helpers/assert-all-close.js';

/**
 * HF Llama folders: the embedded llama2.c model written as one (q/k rows in HF's rotary order) and
 * read back gives the llama2.c file's logits and greedy text; the stored q_proj is what transformers'
 * convert script's `permute` makes of llama2.c's wq; every kind of bad folder is one ModelFileError.
 */

const tmp = mkdtempSync(join(tmpdir(), 'tinymorph-hf-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const src = readLlama2c(embeddedModelPath());
const base = loadModel();
const PROMPT = 'Once upon a time';

function logitsOf(m: LoadedModel): Float32Array {
  return m.model.forward(m.model.newCache(1), [m.tokenizer.encode(PROMPT)], { allLogits: true }).logits;
}
function greedy(m: LoadedModel): string {
  return generate(m.model, m.tokenizer, [{ prompt: PROMPT, maxTokens: 40, sampling: { temperature: 0 } }])[0].text;
}
const load = (dir: string) => loadModel({ model: dir, tokenizer: embeddedTokenizerPath() });

for (const [label, opts, tol] of [
  ['F32, one file', {}, { atol: 1e-4 }],
  ['F32, sharded', { maxShardBytes: 100_000 }, { atol: 1e-4 }],
  // F16 rounding of every weight moves the logits of all 5 positions by at most 0.017 (measured).
  ['F16, sharded', { dtype: 'F16', maxShardBytes: 100_000 }, { atol: 2e-2 }],
] as const) {
  test(`llama2.c → HF folder (${label}) → load: the same logits and greedy text`, () => {
    const dir = join(tmp, label.replace(/\W+/g, '-'));
    writeHfLlama(dir, src.config, src.weights, opts);
    const m = load(dir);
    assert.equal(m.format, 'hf-llama');
    assert.deepEqual({ ...m.model.config, normEps: 1e-5 }, src.config);
    assertAllClose(logitsOf(m), logitsOf(base), tol, 'logits');
    if (label.startsWith('F32')) assert.equal(greedy(m), greedy(base));
  });
}

test('the stored q_proj and k_proj are transformers\' permute(w) = w.view(n_heads, hs/2, 2, dim).transpose(1, 2) of llama2.c\'s rows', () => {
  const dir = join(tmp, 'perm');
  writeHfLlama(dir, src.config, src.weights);
  const st = SafetensorsFile.open(join(dir, 'model.safetensors'));
  const c = src.config;
  const hs = c.dim / c.nHeads;
  for (const [name, w, heads] of [['wq', src.weights.wq[1] as Float32Array, c.nHeads], ['wk', src.weights.wk[1] as Float32Array, c.nKvHeads]] as const) {
    const stored = st.readF32(hfLayerName(1, name));
    // index of view(heads, hs/2, 2, dim) element [h, i, j, :] is row h*hs + 2i + j; after transpose(1, 2) it sits at [h, j, i, :] = row h*hs + j*hs/2 + i.
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < hs / 2; i++)
        for (let j = 0; j < 2; j++)
          for (let col = 0; col < c.dim; col++) assert.equal(stored[(h * hs + j * (hs / 2) + i) * c.dim + col], w[(h * hs + 2 * i + j) * c.dim + col]);
  }
});

test('an untied model keeps lm_head; the llama2.c file round trip holds too', () => {
  const untied = { ...src.config, sharedClassifier: false };
  const weights = { ...src.weights, classifier: src.weights.tokenEmbedding.map((v, i) => v * (1 + (i % 7) / 10)) };
  const dir = join(tmp, 'untied');
  writeHfLlama(dir, untied, weights);
  const st = SafetensorsFile.open(join(dir, 'model.safetensors'));
  assert.ok(st.has('lm_head.weight'));
  const m = load(dir);
  assert.equal(m.model.config.sharedClassifier, false);
  assert.deepEqual(m.model.weights.classifier, weights.classifier);
});

test('Llama-3 rope_scaling written to config.json comes back in the loaded config and changes the rotations', () => {
  const ropeScaling = { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 };
  const dir = join(tmp, 'llama3');
  writeHfLlama(dir, { ...src.config, ropeScaling }, src.weights);
  const m = load(dir);
  assert.deepEqual(m.model.config.ropeScaling, ropeScaling);
  assert.ok(maxAbsDiff(logitsOf(m), logitsOf(base)) > 1e-3, 'scaled frequencies give other logits');
});

test('an HF folder without tokenizer.json, given no --tokenizer, is a TokenizerFileError naming the folder and the flag', () => {
  const dir = join(tmp, 'notok');
  writeHfLlama(dir, src.config, src.weights);
  assert.throws(() => loadModel({ model: dir }), (e: unknown) => e instanceof TokenizerFileError && e.message.includes(dir) && e.message.includes('--tokenizer'));
});

/** A fresh good sharded folder to break. */
function sharded(name: string): string {
  const dir = join(tmp, name);
  writeHfLlama(dir, src.config, src.weights, { maxShardBytes: 100_000 });
  return dir;
}
function rewriteJson(path: string, edit: (j: Record<string, unknown>) => void): void {
  const j = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(j);
  writeFileSync(path, JSON.stringify(j));
}
function throwsModelFile(dir: string, ...parts: string[]): void {
  assert.throws(
    () => load(dir),
    (e: unknown) => {
      assert.ok(e instanceof ModelFileError, `expected a ModelFileError, got ${String(e)}`);
      for (const p of parts) assert.ok(e.message.includes(p), `"${e.message}" should name ${p}`);
      assert.ok(!e.message.includes('\n'));
      return true;
    },
  );
}

test('bad folders: one ModelFileError each, naming the file and the field', () => {
  let dir = sharded('missing-shard');
  const shardOf = (d: string, tensor: string) => (JSON.parse(readFileSync(join(d, HF_INDEX_FILE), 'utf8')) as { weight_map: Record<string, string> }).weight_map[tensor];
  const shard = shardOf(dir, 'model.norm.weight');
  unlinkSync(join(dir, shard));
  throwsModelFile(dir, HF_INDEX_FILE, shard, 'missing');

  dir = sharded('absent-tensor');
  rewriteJson(join(dir, HF_INDEX_FILE), (j) => ((j.weight_map as Record<string, string>)['model.layers.0.mlp.extra.weight'] = shardOf(dir, 'model.norm.weight')));
  throwsModelFile(dir, HF_INDEX_FILE, 'model.layers.0.mlp.extra.weight');

  dir = sharded('unlisted');
  rewriteJson(join(dir, HF_INDEX_FILE), (j) => delete (j.weight_map as Record<string, string>)['model.norm.weight']);
  throwsModelFile(dir, HF_INDEX_FILE, 'model.norm.weight');

  dir = sharded('escape');
  rewriteJson(join(dir, HF_INDEX_FILE), (j) => ((j.weight_map as Record<string, string>)['model.norm.weight'] = '../x.safetensors'));
  throwsModelFile(dir, HF_INDEX_FILE, '../x.safetensors');

  for (const [field, value, words] of [
    ['hidden_size', undefined, 'missing'],
    ['num_attention_heads', 0, 'positive integer'],
    ['num_key_value_heads', 3, 'multiple'],
    ['rms_norm_eps', -1, 'rms_norm_eps'],
    ['rope_scaling', { rope_type: 'yarn', factor: 2 }, 'yarn'],
    ['model_type', 'gemma2', 'unsupported architecture'],
    ['hidden_act', 'gelu', 'gelu'],
  ] as const) {
    dir = join(tmp, `config-${field}`);
    writeHfLlama(dir, src.config, src.weights);
    rewriteJson(join(dir, 'config.json'), (j) => (value === undefined ? delete j[field] : (j[field] = value)));
    throwsModelFile(dir, 'config.json', field === 'model_type' ? 'gemma2' : field, words);
  }

  // A tensor of the wrong dtype, and one of the wrong shape.
  const one = (name: string, t: Parameters<typeof writeSafetensors>[1][string]) => {
    dir = join(tmp, `tensor-${name}`);
    writeHfLlama(dir, src.config, src.weights);
    const st = SafetensorsFile.open(join(dir, 'model.safetensors'));
    const all = Object.fromEntries(st.names().map((n) => [n, { shape: st.info(n).shape, data: st.readF32(n).slice() }]));
    writeSafetensors(join(dir, 'model.safetensors'), { ...all, [name]: t });
  };
  one('model.norm.weight', { dtype: 'I32', shape: [64], data: new Int32Array(64) });
  throwsModelFile(dir, 'model.safetensors', 'model.norm.weight', 'I32');
  one('model.layers.0.mlp.up_proj.weight', { shape: [64, 172], data: new Float32Array(64 * 172) });
  throwsModelFile(dir, 'model.safetensors', 'model.layers.0.mlp.up_proj.weight', '[64,172]', '[172,64]');

  dir = join(tmp, 'empty');
  writeHfLlama(dir, src.config, src.weights);
  unlinkSync(join(dir, 'model.safetensors'));
  throwsModelFile(dir, 'model.safetensors.index.json');
  unlinkSync(join(dir, 'config.json'));
  throwsModelFile(dir, 'without config.json');
});
