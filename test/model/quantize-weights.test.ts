import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ModelFileError, UsageError } from '../../src/errors.js';
import { splitDocuments } from '../../src/model/documents.js';
import { trainSampleTextPath, validationTextPath } from '../../src/model/embedded.js';
import type { LlamaConfig } from '../../src/model/llama-config.js';
import type { LlamaWeights } from '../../src/model/llama-weights.js';
import { MATRIX_NAMES, weightSummary } from '../../src/model/llama-weights.js';
import { encodeLlama2c, readLlama2c } from '../../src/model/llama2c-format.js';
import { readLlama2cQuantized } from '../../src/model/llama2c-quantized-read.js';
import type { Quantization } from '../../src/model/quantize-weights.js';
import { quantizeWeights } from '../../src/model/quantize-weights.js';
import { LlamaModel } from '../../src/model/llama-model.js';
import { loadModel } from '../../src/model/load-model.js';
import { meanCrossEntropy } from '../../src/model/perplexity.js';
import { dequantizeQ80 } from '../../src/tensor/q80.js';
import { referenceBackend } from '../../src/tensor/reference-backend.js';
import type { Q80Matrix } from '../../src/tensor/weight-matrix.js';
import { isQ80 } from '../../src/tensor/weight-matrix.js';
import { assetPath } from '../../src/util/package-root.js';

/**
 * Q8_0 weights of the shipped stories260K: what quantizeWeights quantises and keeps, the streaming
 * loader giving the same weights without holding the fp32 file, and the acceptance bound —
 * perplexity within 1% of fp32.
 */

const MODEL_PATH = assetPath('models', 'stories260K.bin');
const file = readLlama2c(MODEL_PATH);
if (file.format === 'llama2c-v2') throw new Error('the shipped model is fp32');
const c = file.config;
const fp32 = file.weights;

const scratch = mkdtempSync(join(tmpdir(), 'tinymorph-q8-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function assertWithinHalfScale(q: Q80Matrix, w: Float32Array, what: string): void {
  const back = dequantizeQ80(q);
  for (let i = 0; i < w.length; i++) {
    const bound = q.scales[Math.floor(i / q.groupSize)] / 2 + 1e-6 * Math.abs(w[i]);
    if (!(Math.abs(back[i] - w[i]) <= bound)) assert.fail(`${what}[${i}]: |${back[i]} − ${w[i]}| > ${bound}`);
  }
}

test('quantizeWeights: every matrix and the classifier Q8_0 (groups of 32; w2, 172 columns, 4); embedding and norms fp32 and not copied', () => {
  const q = quantizeWeights(fp32, c);
  for (const name of MATRIX_NAMES) {
    q[name].forEach((m, l) => {
      assert.ok(isQ80(m), `${name}[${l}]`);
      assert.equal(m.groupSize, name === 'w2' ? 4 : 32, `${name}[${l}] group size`);
      assertWithinHalfScale(m, fp32[name][l], `${name}[${l}]`);
    });
  }
  assert.ok(isQ80(q.classifier));
  assert.equal(q.classifier.groupSize, 32);
  assert.deepEqual([q.classifier.rows, q.classifier.cols], [512, 64]);
  assertWithinHalfScale(q.classifier, fp32.tokenEmbedding, 'classifier');
  assert.equal(q.tokenEmbedding, fp32.tokenEmbedding);
  assert.equal(q.rmsFinal, fp32.rmsFinal);
  q.rmsAtt.forEach((a, l) => assert.equal(a, fp32.rmsAtt[l]));
  q.rmsFfn.forEach((a, l) => assert.equal(a, fp32.rmsFfn[l]));

  const s = weightSummary(q, c);
  assert.equal(s.format, 'q8_0');
  assert.deepEqual(s.groupSizes, { wq: 32, wk: 32, wv: 32, wo: 32, w1: 32, w2: 4, w3: 32, classifier: 32 });
  // fp32 embedding 131,072 + norms 4·(2·5·64 + 64) = 2,816 + Q8_0 matrices with their scales
  const matrices = 5 * (4096 * 2 + 2048 * 2 + 11008 * 2) * (1 + 4 / 32) + 5 * 11008 * (1 + 4 / 4) + 32768 * (1 + 4 / 32);
  assert.equal(s.bytes, 131072 + 2816 + matrices);
  assert.deepEqual(weightSummary(fp32, c), { format: 'fp32', groupSizes: {}, bytes: 4 * 260032 });
});

test('quantizeWeights: one group size for all ("uniform", as a v2 file needs: 4 here), or a bad one refused', () => {
  const q = quantizeWeights(fp32, c, { groupSize: 'uniform' });
  for (const name of MATRIX_NAMES) for (const m of q[name]) assert.equal(m.groupSize, 4);
  assert.equal(q.classifier.groupSize, 4);
  assert.throws(() => quantizeWeights(fp32, c, { groupSize: 32 }), (e: unknown) => e instanceof UsageError && /group size 32 does not divide the 172 columns/.test(e.message));
});

function writeModel(name: string, config: LlamaConfig, weights: LlamaWeights<Float32Array>, version: 'llama2c-v0' | 'llama2c-v1'): string {
  const path = join(scratch, name);
  writeFileSync(path, encodeLlama2c(config, weights, version));
  return path;
}

test('the streaming loader gives exactly quantizeWeights of the file: v0, v1, an unshared classifier, uniform groups', () => {
  const classifier = Float32Array.from(fp32.tokenEmbedding, (x, i) => x * 0.7 + 0.03 * Math.cos(i));
  const unshared = { ...c, sharedClassifier: false };
  const cases: [string, LlamaConfig, LlamaWeights<Float32Array>][] = [
    [MODEL_PATH, c, fp32],
    [writeModel('v1.bin', c, fp32, 'llama2c-v1'), c, fp32],
    [writeModel('unshared-v0.bin', unshared, { ...fp32, classifier }, 'llama2c-v0'), unshared, { ...fp32, classifier }],
    [writeModel('unshared-v1.bin', unshared, { ...fp32, classifier }, 'llama2c-v1'), unshared, { ...fp32, classifier }],
  ];
  for (const [path, config, weights] of cases) {
    for (const groupSize of [undefined, 'uniform' as const]) {
      const got = readLlama2cQuantized(path, { groupSize });
      assert.deepEqual(got.config, config);
      assert.equal(got.format, readLlama2c(path).format);
      assert.deepEqual(got.weights, quantizeWeights(weights, config, { groupSize }), `${path} ${groupSize ?? 'per matrix'}`);
    }
  }
});

test('the streaming loader: a truncated or missing file is a ModelFileError naming it', () => {
  const cut = join(scratch, 'cut.bin');
  writeFileSync(cut, readFileSync(MODEL_PATH).subarray(0, 500_000));
  assert.throws(() => readLlama2cQuantized(cut), (e: unknown) => e instanceof ModelFileError && e.file === cut && /truncated.*1056540.*500000/.test(e.message));
  const tiny = join(scratch, 'tiny.bin');
  writeFileSync(tiny, new Uint8Array(12));
  assert.throws(() => readLlama2cQuantized(tiny), (e: unknown) => e instanceof ModelFileError && /truncated: 12 bytes/.test(e.message));
  const missing = join(scratch, 'missing.bin');
  assert.throws(() => readLlama2cQuantized(missing), (e: unknown) => e instanceof ModelFileError && /no such file/.test(e.message));
});

test("loadModel({ quantize: 'q8_0' }) loads Q8_0 matrices; an unknown quantization is a UsageError", () => {
  const q = loadModel({ quantize: 'q8_0' });
  assert.equal(q.format, 'llama2c-v0');
  assert.ok(isQ80(q.model.weights.wq[0]) && isQ80(q.model.weights.classifier));
  assert.ok(!isQ80(loadModel().model.weights.wq[0]));
  assert.throws(() => loadModel({ quantize: 'q4_0' as Quantization }), (e: unknown) => e instanceof UsageError && /unknown quantization "q4_0" \(available: q8_0\)/.test(e.message));
});

test('acceptance: Q8_0 perplexity within 1% of fp32 (first 25 documents of the validation text and of the train sample; reference kernels)', () => {
  const { tokenizer } = loadModel();
  const fpModel = new LlamaModel(c, fp32, referenceBackend);
  const q8Model = new LlamaModel(c, quantizeWeights(fp32, c), referenceBackend);
  for (const path of [validationTextPath(), trainSampleTextPath()]) {
    const docs = splitDocuments(readFileSync(path, 'utf8'))
      .slice(0, 25)
      .map((d) => tokenizer.encode(d).slice(0, c.seqLen));
    const a = meanCrossEntropy(fpModel, docs);
    const b = meanCrossEntropy(q8Model, docs);
    assert.equal(a.tokens, b.tokens);
    const change = Math.exp(b.meanNats) / Math.exp(a.meanNats) - 1;
    assert.ok(Math.abs(change) <= 0.01, `${path}: perplexity ${Math.exp(a.meanNats)} (fp32) → ${Math.exp(b.meanNats)} (q8_0): ${(100 * change).toFixed(3)}%`);
    // and it is not trivially the same model
    assert.notEqual(a.meanNats, b.meanNats);
  }
});
