import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SaeFileError } from '../../src/errors.js';
import { loadModel } from '../../src/model/load-model.js';
import type { TensorToWrite } from '../../src/model/safetensors.js';
import { writeSafetensors } from '../../src/model/safetensors.js';
import { readSaeLensFolder, writeSaeLensFolder } from '../../src/sae/saelens-format.js';
import { randomArray, randomSae, v6Config } from './sae-test-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'tinymorph-sae-'));
after(() => rmSync(root, { recursive: true, force: true }));
let folders = 0;
const newDir = () => join(root, `sae${folders++}`);

/** A folder written by hand: cfg.json text and safetensors tensors, keys exactly as SAELens writes them. */
function handFolder(cfg: unknown, tensors: Record<string, TensorToWrite>, sparsity?: TensorToWrite): string {
  const dir = mk(newDir());
  writeSafetensors(join(dir, 'sae_weights.safetensors'), tensors);
  writeFileSync(join(dir, 'cfg.json'), typeof cfg === 'string' ? cfg : JSON.stringify(cfg));
  if (sparsity) writeSafetensors(join(dir, 'sparsity.safetensors'), { sparsity });
  return dir;
}
const mk = (dir: string) => (mkdirSync(dir, { recursive: true }), dir);

const D_IN = 8;
const D_SAE = 16;
/** cfg.json exactly as SAELens 6.x `SAE.save_model` writes it for a standard SAE. */
const V6_CFG = {
  d_in: D_IN,
  d_sae: D_SAE,
  dtype: 'float32',
  device: 'cpu',
  apply_b_dec_to_input: true,
  normalize_activations: 'none',
  reshape_activations: 'none',
  metadata: {
    sae_lens_version: '6.5.1',
    sae_lens_training_version: '6.5.1',
    model_name: 'stories260K',
    hook_name: 'blocks.2.hook_resid_post',
    hook_head_index: null,
    prepend_bos: true,
    context_size: 256,
    dataset_path: 'roneneldan/TinyStories',
    model_from_pretrained_kwargs: {},
  },
  architecture: 'standard',
};
const standardTensors = (): Record<string, TensorToWrite> => ({
  W_enc: { shape: [D_IN, D_SAE], data: randomArray(D_IN * D_SAE, 11) },
  b_enc: { shape: [D_SAE], data: randomArray(D_SAE, 12) },
  W_dec: { shape: [D_SAE, D_IN], data: randomArray(D_SAE * D_IN, 13) },
  b_dec: { shape: [D_IN], data: randomArray(D_IN, 14) },
});

test('write → read round trip gives identical weights, config and sparsity for every architecture', () => {
  for (const arch of ['standard', 'gated', 'jumprelu', 'topk']) {
    const config = v6Config(arch, D_IN, D_SAE, arch === 'topk' ? { k: 4, rescale_acts_by_decoder_norm: false } : {});
    const sae = { ...randomSae(config, 7), sparsity: randomArray(D_SAE, 9).map((v) => v - 3) };
    const dir = newDir();
    writeSaeLensFolder(dir, sae);
    const back = readSaeLensFolder(dir);
    assert.deepEqual(back.config, sae.config, `${arch} config`);
    assert.deepEqual(back.weights, sae.weights, `${arch} weights`);
    assert.deepEqual(back.sparsity, sae.sparsity, `${arch} sparsity`);
    const cfg = JSON.parse(readFileSync(join(dir, 'cfg.json'), 'utf8'));
    assert.equal(cfg.architecture, arch);
    assert.equal(cfg.metadata.hook_name, 'blocks.2.hook_resid_post', 'metadata nested as in v6');
    assert.equal(cfg.hook_name, undefined, 'no flat hook_name in a v6 cfg');
  }
});

test('a cfg.json + safetensors written with SAELens v6 keys loads, values and metadata intact', () => {
  const tensors = standardTensors();
  const sparsity = { shape: [D_SAE], data: randomArray(D_SAE, 15).map((v) => v - 4) };
  const dir = handFolder(V6_CFG, tensors, sparsity);
  const sae = readSaeLensFolder(dir);
  assert.equal(sae.config.architecture, 'standard');
  assert.equal(sae.config.d_in, D_IN);
  assert.equal(sae.config.apply_b_dec_to_input, true);
  assert.equal(sae.config.metadata.hook_name, 'blocks.2.hook_resid_post');
  assert.equal(sae.config.metadata.context_size, 256);
  assert.equal(sae.config.metadata.prepend_bos, true);
  for (const name of ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const) assert.deepEqual(sae.weights[name], tensors[name].data, name);
  assert.deepEqual(sae.sparsity, sparsity.data);
  // and it fits the embedded model (dim 64 ≠ 8 fails; see the bad-input test)
  const topk = handFolder({ ...V6_CFG, architecture: 'topk', k: 3, rescale_acts_by_decoder_norm: false }, standardTensors());
  assert.equal(readSaeLensFolder(topk).config.k, 3);
  const jump = handFolder({ ...V6_CFG, architecture: 'jumprelu' }, { ...standardTensors(), threshold: { shape: [D_SAE], data: new Float32Array(D_SAE).fill(0.1) } });
  assert.equal(readSaeLensFolder(jump).weights.threshold?.[0], Math.fround(0.1));
  const { b_enc: _unused, ...rest } = standardTensors();
  const gated = handFolder({ ...V6_CFG, architecture: 'gated' }, {
    ...rest,
    b_gate: { shape: [D_SAE], data: randomArray(D_SAE, 1) },
    b_mag: { shape: [D_SAE], data: randomArray(D_SAE, 2) },
    r_mag: { shape: [D_SAE], data: randomArray(D_SAE, 3) },
  });
  assert.ok(readSaeLensFolder(gated).weights.r_mag);
});

test('a pre-6.0 cfg (flat keys, hook_point, activation_fn_kwargs.k, boolean normalize_activations) loads', () => {
  const pre6 = {
    model_name: 'gpt2-small',
    hook_point: 'blocks.2.hook_resid_post',
    hook_point_layer: 2,
    hook_point_head_index: null,
    dataset_path: 'Skylion007/openwebtext',
    is_dataset_tokenized: false,
    context_size: 128,
    use_cached_activations: false,
    d_in: D_IN,
    d_sae: D_SAE,
    activation_fn_str: 'relu',
    activation_fn_kwargs: {},
    apply_b_dec_to_input: true,
    finetuning_scaling_factor: false,
    prepend_bos: true,
    normalize_activations: false,
    dtype: 'torch.float32',
    device: 'cuda',
    sae_lens_training_version: '3.13.0',
  };
  const sae = readSaeLensFolder(handFolder(pre6, standardTensors()));
  assert.equal(sae.config.architecture, 'standard', 'architecture defaults to standard');
  assert.equal(sae.config.dtype, 'float32');
  assert.equal(sae.config.normalize_activations, 'none');
  assert.equal(sae.config.metadata.hook_name, 'blocks.2.hook_resid_post', 'hook_point → metadata.hook_name');
  assert.equal(sae.config.metadata.model_name, 'gpt2-small');
  assert.equal(sae.config.metadata.context_size, 128);
  assert.equal(sae.config.metadata.hook_head_index, null);
  // Written back, it is a v6 cfg.
  const dir = newDir();
  writeSaeLensFolder(dir, sae);
  const cfg = JSON.parse(readFileSync(join(dir, 'cfg.json'), 'utf8'));
  assert.equal(cfg.metadata.hook_name, 'blocks.2.hook_resid_post');
  assert.equal(cfg.metadata.sae_lens_version, '6.0.0');
  assert.equal(cfg.hook_point, undefined);
  assert.deepEqual(readSaeLensFolder(dir).weights, sae.weights);

  const topk = readSaeLensFolder(handFolder({ ...pre6, architecture: 'topk', activation_fn_kwargs: { k: 5 } }, standardTensors()));
  assert.equal(topk.config.k, 5, 'k from activation_fn_kwargs');
  const topkByFn = readSaeLensFolder(handFolder({ ...pre6, activation_fn_str: 'topk', activation_fn_kwargs: { k: 6 } }, standardTensors()));
  assert.equal(topkByFn.config.architecture, 'topk');
  assert.equal(topkByFn.config.k, 6);
  const normalized = readSaeLensFolder(handFolder({ ...pre6, normalize_activations: true }, standardTensors()));
  assert.equal(normalized.config.normalize_activations, 'expected_average_only_in');
});

/** Expects a SaeFileError whose message names `file` (a folder-relative name) and matches `what`. */
function assertSaeFileError(body: () => unknown, file: string, what: RegExp): void {
  assert.throws(body, (err: unknown) => {
    assert.ok(err instanceof SaeFileError, `expected SaeFileError, got ${String(err)}`);
    assert.ok(err.file.endsWith(file), `error names ${err.file}, expected …${file}`);
    assert.match(err.message, what);
    return true;
  });
}

test('every bad input fails with a SaeFileError naming the file and the field or tensor', () => {
  const cfgCase = (cfg: unknown, what: RegExp) => assertSaeFileError(() => readSaeLensFolder(handFolder(cfg, standardTensors())), 'cfg.json', what);
  assertSaeFileError(() => readSaeLensFolder(mk(newDir())), 'cfg.json', /no such file/);
  cfgCase('{"d_in": 8,', /not valid JSON/);
  cfgCase([1, 2], /must be a JSON object/);
  cfgCase({ ...V6_CFG, d_in: undefined }, /field "d_in" must be a positive integer, got undefined/);
  cfgCase({ ...V6_CFG, d_sae: -4 }, /field "d_sae" must be a positive integer, got -4/);
  cfgCase({ ...V6_CFG, d_in: '8' }, /field "d_in"/);
  cfgCase({ ...V6_CFG, architecture: 'sparsemax' }, /field "architecture" is "sparsemax" \(known: standard, gated, jumprelu, topk\)/);
  cfgCase({ ...V6_CFG, architecture: 'topk' }, /topk needs field "k"/);
  cfgCase({ ...V6_CFG, architecture: 'topk', k: 99 }, /field "k" = 99 is larger than d_sae = 16/);
  cfgCase({ ...V6_CFG, normalize_activations: 'rms' }, /field "normalize_activations"/);
  cfgCase({ ...V6_CFG, apply_b_dec_to_input: 'yes' }, /field "apply_b_dec_to_input"/);
  cfgCase({ ...V6_CFG, dtype: 'int8' }, /field "dtype"/);
  cfgCase({ ...V6_CFG, metadata: 'x' }, /field "metadata" must be an object/);
  cfgCase({ ...V6_CFG, metadata: { ...V6_CFG.metadata, context_size: 'long' } }, /field "metadata.context_size"/);
  cfgCase({ ...V6_CFG, metadata: { ...V6_CFG.metadata, hook_name: 7 } }, /field "metadata.hook_name"/);

  const weightsCase = (tensors: Record<string, TensorToWrite>, what: RegExp) =>
    assertSaeFileError(() => readSaeLensFolder(handFolder(V6_CFG, tensors)), 'sae_weights.safetensors', what);
  const t = standardTensors();
  weightsCase({ ...t, W_enc: { shape: [4, D_SAE], data: new Float32Array(4 * D_SAE) } }, /^.*: W_enc is \[4, 16\] but cfg d_in=8 \(expected \[8, 16\]\)$/);
  weightsCase({ ...t, W_dec: { shape: [D_SAE, D_IN, 1], data: new Float32Array(D_SAE * D_IN) } }, /W_dec is \[16, 8, 1\] but cfg d_sae=16, d_in=8/);
  weightsCase({ ...t, b_dec: { shape: [D_IN + 1], data: new Float32Array(D_IN + 1) } }, /b_dec is \[9\] but cfg d_in=8/);
  const { b_enc: _b, ...noBias } = t;
  weightsCase(noBias, /no tensor "b_enc", which a standard SAE needs/);
  weightsCase({ ...t, threshold: { shape: [D_SAE], data: new Float32Array(D_SAE) } }, /unexpected tensor\(s\) "threshold" for a standard SAE/);
  const nan = t.W_dec.data.slice();
  nan[5] = NaN;
  weightsCase({ ...t, W_dec: { shape: [D_SAE, D_IN], data: nan } }, /W_dec has a non-finite value \(NaN\) at flat index 5/);

  const missing = handFolder(V6_CFG, t);
  rmSync(join(missing, 'sae_weights.safetensors'));
  assertSaeFileError(() => readSaeLensFolder(missing), 'sae_weights.safetensors', /no such file/);
  const truncated = handFolder(V6_CFG, t);
  const bytes = readFileSync(join(truncated, 'sae_weights.safetensors'));
  writeFileSync(join(truncated, 'sae_weights.safetensors'), bytes.subarray(0, bytes.length - 10));
  assertSaeFileError(() => readSaeLensFolder(truncated), 'sae_weights.safetensors', /truncated/);
  assertSaeFileError(
    () => readSaeLensFolder(handFolder(V6_CFG, t, { shape: [D_SAE - 1], data: new Float32Array(D_SAE - 1) })),
    'sparsity.safetensors',
    /sparsity is \[15\] but cfg d_sae=16/,
  );
});

test('loading against the model checks the hook exists and is d_in wide', () => {
  const { model } = loadModel();
  const dir = handFolder(V6_CFG, standardTensors());
  assertSaeFileError(() => readSaeLensFolder(dir, { model: model.config }), 'cfg.json', /cfg d_in=8 but the model's blocks.2.hook_resid_post has width 64/);
  assertSaeFileError(() => readSaeLensFolder(dir, { hookWidth: 64 }), 'cfg.json', /cfg d_in=8 but the activation it is for has width 64/);
  assertSaeFileError(() => readSaeLensFolder(dir, { model: model.config, hookName: 'blocks.9.hook_resid_post' }), 'cfg.json', /hook name: unknown hook point "blocks.9.hook_resid_post"/);
  const hidden = model.config.hiddenDim;
  const fits = randomSae(v6Config('standard', hidden, 32, { metadata: { sae_lens_version: '6.0.0', hook_name: 'blocks.1.mlp.hook_post' } }));
  const fitsDir = newDir();
  writeSaeLensFolder(fitsDir, fits);
  assert.equal(readSaeLensFolder(fitsDir, { model: model.config }).config.d_in, hidden);
});

test('a cfg.json nested 5,000 or 100,000 deep, or holding a megabyte string, is one short SaeFileError', () => {
  for (const depth of [5_000, 100_000]) {
    for (const [open, close] of [['[', ']'], ['{"a":', '}']]) {
      const text = `{"d_in": 8, "d_sae": 16, "extra": ${open.repeat(depth)}1${close.repeat(depth)}}`;
      assertSaeFileError(() => readSaeLensFolder(handFolder(text, standardTensors())), 'cfg.json', /: nests deeper than 64 levels$/);
    }
  }
  const mb = 'x'.repeat(1 << 20);
  for (const [cfg, what] of [
    [{ ...V6_CFG, architecture: mb }, /field "architecture" is "x+… \(known: /],
    [{ ...V6_CFG, dtype: mb }, /field "dtype" must be one of float32, float16, bfloat16, float64, got "x+…$/],
    [{ ...V6_CFG, metadata: { ...V6_CFG.metadata, hook_name: [mb] } }, /field "metadata\.hook_name" must be a string, got \["x+…$/],
    [{ d_in: 8, d_sae: 16, hook_point: { [mb]: 1 } }, /field "hook_point" must be a string, got \{"x+…$/],
  ] as [unknown, RegExp][]) {
    assert.throws(
      () => readSaeLensFolder(handFolder(cfg, standardTensors())),
      (e: unknown) => e instanceof SaeFileError && e.message.length < 400 && what.test(e.message),
    );
  }
});

test('cfg errors report Infinity as Infinity and name pre-6.0 fields as the file spells them', () => {
  const error = (text: string): string => {
    try {
      readSaeLensFolder(handFolder(text, standardTensors()));
    } catch (e) {
      assert.ok(e instanceof SaeFileError);
      return e.message;
    }
    return assert.fail('loaded');
  };
  assert.match(error('{"architecture": "standard", "d_in": 8, "d_sae": 1e400, "metadata": {"sae_lens_version": "6.0.0"}}'), /field "d_sae" must be a positive integer, got Infinity$/);
  assert.match(error('{"d_in": 8, "d_sae": 16, "hook_point": 7}'), /field "hook_point" must be a string, got 7$/);
  assert.match(error('{"d_in": 8, "d_sae": 16, "activation_fn_kwargs": {"k": 0}}'), /field "activation_fn_kwargs\.k" must be a positive integer, got 0$/);
});
