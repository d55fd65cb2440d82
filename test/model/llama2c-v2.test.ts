import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ModelFileError, ShapeError } from '../../src/errors.js';
import { generate } from '../../src/model/generate.js';
import type { LlamaConfig } from '../../src/model/llama-config.js';
import { LlamaModel } from '../../src/model/llama-model.js';
import type { LlamaWeights } from '../../src/model/llama-weights.js';
import { layerWeightShapes } from '../../src/model/llama-weights.js';
import type { LoadedLlama2c } from '../../src/model/llama2c-format.js';
import { encodeLlama2c, llama2cFileBytes, llama2cV2GroupSize, parseLlama2c, readLlama2c } from '../../src/model/llama2c-format.js';
import { loadModel } from '../../src/model/load-model.js';
import { quantizeWeights } from '../../src/model/quantize-weights.js';
import { Prng } from '../../src/model/sampling/prng.js';
import { dequantizeQ80 } from '../../src/tensor/q80.js';
import { referenceBackend } from '../../src/tensor/reference-backend.js';
import type { Q80Matrix } from '../../src/tensor/weight-matrix.js';
import { assetPath } from '../../src/util/package-root.js';
import { assertAllClose, maxAbsDiff } from '../helpers/assert-all-close.js';

/**
 * llama2.c version 2 (Q8_0) files. The expected bytes come from a transcription of karpathy/llama2.c
 * export.py `version2_export` + `quantize_q80` written here (flat groups over each tensor, float32
 * arithmetic, torch.round's ties to even), independent of our encoder and reader; the layout is
 * the one runq.c's memory_map_weights reads.
 */

const MODEL_PATH = assetPath('models', 'stories260K.bin');
const shippedFile = readLlama2c(MODEL_PATH);
if (shippedFile.format === 'llama2c-v2') throw new Error('the shipped model is fp32');
const c = shippedFile.config;
const fp32 = shippedFile.weights;
const TOKENS = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315];

const scratch = mkdtempSync(join(tmpdir(), 'tinymorph-v2-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// export.py version2_export, transcribed

/** quantize_q80(w, group_size): w.reshape(-1, gs); scale = max|w|/127 (fp32); q = round(w / scale) (fp32, ties to even). */
function exportQuantize(w: Float32Array, gs: number): { q: Int8Array; s: Float32Array } {
  const q = new Int8Array(w.length);
  const s = new Float32Array(w.length / gs);
  for (let g = 0; g < s.length; g++) {
    let wmax = 0;
    for (let i = g * gs; i < (g + 1) * gs; i++) wmax = Math.max(wmax, Math.abs(w[i]));
    s[g] = Math.fround(wmax / 127);
    for (let i = g * gs; i < (g + 1) * gs; i++) {
      const x = Math.fround(w[i] / s[g]);
      const f = Math.floor(x);
      q[i] = x - f === 0.5 ? (f % 2 === 0 ? f : f + 1) : Math.round(x);
    }
  }
  return { q, s };
}

function exportV2(cfg: LlamaConfig, w: LlamaWeights<Float32Array>, groupSize: number): Uint8Array {
  const parts: Uint8Array[] = [];
  const header = new DataView(new ArrayBuffer(256));
  header.setUint32(0, 0x616b3432, true); // struct.pack('I', 0x616b3432)
  header.setInt32(4, 2, true); // version
  [cfg.dim, cfg.hiddenDim, cfg.nLayers, cfg.nHeads, cfg.nKvHeads, cfg.vocabSize, cfg.seqLen].forEach((v, i) => header.setInt32(8 + 4 * i, v, true));
  header.setUint8(36, cfg.sharedClassifier ? 1 : 0); // struct.pack('B', int(shared_classifier))
  header.setInt32(37, groupSize, true); // struct.pack('i', group_size), unaligned
  parts.push(new Uint8Array(header.buffer));
  const f32 = (a: Float32Array): Uint8Array => new Uint8Array(Float32Array.from(a).buffer);
  for (const a of w.rmsAtt) parts.push(f32(a));
  for (const a of w.rmsFfn) parts.push(f32(a));
  parts.push(f32(w.rmsFinal));
  const weights = [w.tokenEmbedding, ...w.wq, ...w.wk, ...w.wv, ...w.wo, ...w.w1, ...w.w2, ...w.w3];
  if (!cfg.sharedClassifier) weights.push(w.classifier);
  for (const t of weights) {
    const { q, s } = exportQuantize(t, groupSize);
    parts.push(new Uint8Array(q.buffer), new Uint8Array(s.buffer)); // serialize_int8(q), serialize_fp32(s)
  }
  return new Uint8Array(Buffer.concat(parts));
}

// ---------------------------------------------------------------------------------------------

function v2(f: LoadedLlama2c): Extract<LoadedLlama2c, { format: 'llama2c-v2' }> {
  if (f.format !== 'llama2c-v2') throw new Error(`expected a v2 file, got ${f.format}`);
  return f;
}

function logitsOf(config: LlamaConfig, weights: LlamaWeights, tokens = TOKENS): Float32Array {
  const model = new LlamaModel(config, weights, referenceBackend);
  return model.forward(model.newCache(1), [tokens], { allLogits: true }).logits.slice();
}

function assertModelFileError(fn: () => unknown, file: string, problem: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ModelFileError, `expected ModelFileError, got ${String(e)}`);
    assert.equal(e.file, file);
    assert.match(e.message, problem);
    return true;
  });
}

function withInt32(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setInt32(at, value, true);
  return copy;
}

const GS = llama2cV2GroupSize(c); // 4: the largest power of two ≤ 32 dividing dim 64 and hidden_dim 172
// per tensor q bytes: embedding 512·64, per layer wq 64·64, wk/wv 32·64, wo 64·64, w1/w2/w3 172·64
const Q_BYTES = 32768 + 5 * (4096 + 2048 + 2048 + 4096 + 3 * 11008);
const V2_BYTES = 256 + 4 * (2 * 5 * 64 + 64) + Q_BYTES + (4 * Q_BYTES) / GS;
const encoded = encodeLlama2c(c, quantizeWeights(fp32, c, { groupSize: 'uniform' }), 'llama2c-v2');

test('the v2 header, byte by byte as export.py writes it', () => {
  assert.equal(GS, 4);
  assert.equal(encoded.length, V2_BYTES);
  assert.equal(V2_BYTES, 521_728);
  assert.equal(llama2cFileBytes(c, 'llama2c-v2', GS), V2_BYTES);
  const view = new DataView(encoded.buffer, encoded.byteOffset);
  assert.equal(Buffer.from(encoded.subarray(0, 4)).toString('latin1'), '24ka'); // 0x616b3432 little-endian
  assert.equal(view.getInt32(4, true), 2);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((i) => view.getInt32(8 + 4 * i, true)), [64, 172, 5, 8, 4, 512, 512]);
  assert.equal(encoded[36], 1, 'shared_classifier');
  assert.equal(view.getInt32(37, true), 4, 'group_size at offset 37');
  assert.ok(encoded.subarray(41, 256).every((b) => b === 0), 'zero padding to 256');
  // fp32 norms right after the header: rms_att[0] first, rms_final last
  assert.deepEqual(new Float32Array(encoded.slice(256, 256 + 4 * 64).buffer), fp32.rmsAtt[0]);
  const finalAt = 256 + 4 * 10 * 64;
  assert.deepEqual(new Float32Array(encoded.slice(finalAt, finalAt + 256).buffer), fp32.rmsFinal);
});

test('the whole v2 file equals the export.py transcription, from fp32 or from Q8_0 weights', () => {
  const expected = exportV2(c, fp32, GS);
  assert.equal(expected.length, V2_BYTES);
  assert.ok(Buffer.from(encoded).equals(Buffer.from(expected)), 'encode(quantizeWeights(…)) differs from export.py');
  assert.ok(Buffer.from(encodeLlama2c(c, fp32, 'llama2c-v2')).equals(Buffer.from(expected)), 'encode(fp32) differs from export.py');
  // the embedding's int8 values start right after rms_final, its scales right after them
  const qAt = 256 + 4 * 704;
  const emb = exportQuantize(fp32.tokenEmbedding, GS);
  assert.deepEqual(new Int8Array(encoded.slice(qAt, qAt + 32768).buffer), emb.q);
  assert.deepEqual(new Float32Array(encoded.slice(qAt + 32768, qAt + 32768 + 4 * 8192).buffer), emb.s);
});

test('reading v2 back: Q8_0 views into the file bytes, the embedding dequantised, the shared classifier its Q8_0 form', () => {
  const back = v2(parseLlama2c(encoded, 'q.bin'));
  assert.equal(back.groupSize, 4);
  assert.deepEqual(back.config, c);
  assert.equal(back.fileBytes, V2_BYTES);
  const want = quantizeWeights(fp32, c, { groupSize: 'uniform' });
  for (const name of ['wq', 'wk', 'wv', 'wo', 'w1', 'w2', 'w3'] as const) {
    back.weights[name].forEach((m, l) => {
      assert.equal(m.q.buffer, encoded.buffer, `${name}[${l}] values are a view`);
      assert.equal(m.scales.buffer, encoded.buffer, `${name}[${l}] scales are a view`);
      assert.deepEqual(m, want[name][l]);
    });
  }
  const tokens = exportQuantize(fp32.tokenEmbedding, GS);
  const classifier: Q80Matrix = back.weights.classifier;
  assert.deepEqual([classifier.rows, classifier.cols, classifier.groupSize], [512, 64, 4]);
  assert.deepEqual(classifier.q, tokens.q);
  assert.deepEqual(back.weights.tokenEmbedding, dequantizeQ80(classifier));
  assertAllClose(back.weights.tokenEmbedding, fp32.tokenEmbedding, { atol: Math.max(...tokens.s) / 2 + 1e-7 }, 'embedding');
  back.weights.rmsAtt.forEach((a, l) => assert.deepEqual(a, fp32.rmsAtt[l]));

  // Same logits as load-time quantisation with the same groups and the same (dequantised) embedding.
  const logits = logitsOf(c, back.weights);
  assert.deepEqual(logits, logitsOf(c, { ...want, tokenEmbedding: back.weights.tokenEmbedding }));
  const ref = logitsOf(c, fp32);
  const diff = maxAbsDiff(logits, ref);
  const range = Math.max(...ref.map(Math.abs));
  assert.ok(diff > 0 && diff < 0.02 * range, `Q8_0 vs fp32 logits differ by ${diff} (largest |logit| ${range})`);
});

test('v2 → v2 re-encodes byte for byte; v2 → v1 writes the dequantised weights', () => {
  const back = v2(parseLlama2c(encoded, 'q.bin'));
  assert.ok(Buffer.from(encodeLlama2c(c, back.weights, 'llama2c-v2')).equals(Buffer.from(encoded)));
  const v1 = parseLlama2c(encodeLlama2c(c, back.weights, 'llama2c-v1'), 'v1.bin');
  assert.equal(v1.format, 'llama2c-v1');
  assert.deepEqual(v1.weights.w2[3], dequantizeQ80(back.weights.w2[3]));
  assertAllClose(logitsOf(c, v1.weights), logitsOf(c, back.weights), { atol: 1e-4 });
});

test('an unshared classifier: flag 0, wcls quantised last, read back as its own matrix', () => {
  const cfg = { ...c, sharedClassifier: false };
  const w = { ...fp32, classifier: Float32Array.from(fp32.tokenEmbedding, (x, i) => x * 0.8 + 0.05 * Math.sin(i * 0.37)) };
  const bytes = encodeLlama2c(cfg, w, 'llama2c-v2');
  assert.ok(Buffer.from(bytes).equals(Buffer.from(exportV2(cfg, w, GS))));
  assert.equal(bytes[36], 0);
  assert.equal(bytes.length, V2_BYTES + 32768 * 2);
  const back = v2(parseLlama2c(bytes, 'unshared.bin'));
  assert.deepEqual(back.weights.classifier.q, exportQuantize(w.classifier, GS).q);
  assert.deepEqual(back.weights.tokenEmbedding, dequantizeQ80(v2(parseLlama2c(encoded, 'q.bin')).weights.classifier));
});

test('from disk: readLlama2c, loadModel and greedy generation on a v2 file', () => {
  const path = join(scratch, 'stories260K-q8.bin');
  writeFileSync(path, encoded);
  assert.equal(readLlama2c(path).format, 'llama2c-v2');
  const loaded = loadModel({ model: path });
  assert.equal(loaded.format, 'llama2c-v2');
  assert.equal(loaded.fileBytes, V2_BYTES);
  const [r] = generate(loaded.model, loaded.tokenizer, [{ prompt: 'Zoo', maxTokens: 20, sampling: { temperature: 0 } }]);
  assert.equal(r.tokens.length, 20);
  assert.match(r.text, /^ was a little girl/);
  // --quantize on a file that is already Q8_0 changes nothing
  assert.deepEqual(loadModel({ model: path, quantize: 'q8_0' }).model.weights.w1[0], loaded.model.weights.w1[0]);
});

test('odd shapes: scales at offsets ≢ 0 mod 4 are copied, everything else read in place', () => {
  // dim 6, hidden 10 → group size 2; the 7×6 embedding has 42 values, so its scales start 2 bytes off alignment.
  const cfg: LlamaConfig = { dim: 6, hiddenDim: 10, nLayers: 2, nHeads: 1, nKvHeads: 1, vocabSize: 7, seqLen: 8, sharedClassifier: true, normEps: 1e-5, ropeTheta: 10000 };
  assert.equal(llama2cV2GroupSize(cfg), 2);
  const prng = new Prng(5);
  const rand = (n: number): Float32Array => Float32Array.from({ length: n }, () => prng.nextFloat() - 0.5);
  const shapes = layerWeightShapes(cfg);
  const layer = (name: keyof typeof shapes): Float32Array[] => [0, 1].map(() => rand(shapes[name].reduce((a, b) => a * b, 1)));
  const tokenEmbedding = rand(42);
  const w: LlamaWeights<Float32Array> = {
    tokenEmbedding,
    rmsAtt: layer('rmsAtt'),
    wq: layer('wq'),
    wk: layer('wk'),
    wv: layer('wv'),
    wo: layer('wo'),
    rmsFfn: layer('rmsFfn'),
    w1: layer('w1'),
    w2: layer('w2'),
    w3: layer('w3'),
    rmsFinal: rand(6),
    classifier: tokenEmbedding,
  };
  const bytes = encodeLlama2c(cfg, w, 'llama2c-v2');
  assert.ok(Buffer.from(bytes).equals(Buffer.from(exportV2(cfg, w, 2))));
  const back = v2(parseLlama2c(bytes, 'odd.bin'));
  const want = quantizeWeights(w, cfg, { groupSize: 'uniform' });
  assert.deepEqual(back.weights.wq, want.wq);
  assert.deepEqual(back.weights.w3, want.w3);
  assert.deepEqual(back.weights.classifier, want.classifier);
  assert.notEqual(back.weights.wq[0].scales.buffer, bytes.buffer, 'misaligned scales are a copy');
  assert.equal(back.weights.wq[0].q.buffer, bytes.buffer);
});

test('writing refuses Q8_0 matrices whose groups differ from the file group size', () => {
  const perMatrix = quantizeWeights(fp32, c); // groups of 32, w2 in 4
  assert.throws(() => encodeLlama2c(c, perMatrix, 'llama2c-v2'), (e: unknown) => e instanceof ShapeError && /wq\[0\] \(Q8_0 in groups of 32\).*group size 4/.test(e.message));
  assert.throws(() => encodeLlama2c(c, fp32, 'llama2c-v2', { groupSize: 64 }), (e: unknown) => e instanceof ShapeError && /group_size 64 does not divide hidden_dim 172/.test(e.message));
});

// ---------------------------------------------------------------------------------------------
// Broken and unsupported v2 files

test('a truncated v2 file, and one with extra bytes', () => {
  assertModelFileError(() => parseLlama2c(encoded.subarray(0, V2_BYTES - 1), 'cut.bin'), 'cut.bin', /truncated: the header describes 521728 bytes.*groups of 4.*has 521727/);
  assertModelFileError(() => parseLlama2c(encoded.subarray(0, 100_000), 'cut.bin'), 'cut.bin', /truncated/);
  assertModelFileError(() => parseLlama2c(encoded.subarray(0, 40), 'head.bin'), 'head.bin', /truncated: 40 bytes is shorter than the 256-byte "ak42" header/);
  const path = join(scratch, 'cut-q8.bin');
  writeFileSync(path, encoded.subarray(0, 300_000));
  assertModelFileError(() => readLlama2c(path), path, /truncated/);
  assertModelFileError(() => loadModel({ model: path }), path, /truncated/);
  const long = new Uint8Array(V2_BYTES + 8);
  long.set(encoded);
  assertModelFileError(() => parseLlama2c(long, 'long.bin'), 'long.bin', /sizes disagree.*8 extra/);
});

test('bad group sizes in the header: 0, negative, not dividing dim, and export.py\'s 64 for stories260K (groups across w2\'s rows)', () => {
  assertModelFileError(() => parseLlama2c(withInt32(encoded, 37, 0), 'g0.bin'), 'g0.bin', /group_size 0 is not a positive integer/);
  assertModelFileError(() => parseLlama2c(withInt32(encoded, 37, -4), 'gneg.bin'), 'gneg.bin', /group_size -4 is not a positive integer/);
  assertModelFileError(() => parseLlama2c(withInt32(encoded, 37, 48), 'g48.bin'), 'g48.bin', /group_size 48 does not divide dim 64/);
  // export.py backs off only until the group size divides dim: 64 here, which does not divide hidden_dim 172.
  const exported = exportV2(c, fp32, 64);
  assertModelFileError(() => parseLlama2c(exported, 'export64.bin'), 'export64.bin', /group_size 64 does not divide hidden_dim 172.*w2.*tinymorph quantize/);
  // a group size that changes the sizes: 2 describes twice the scale bytes the file has
  assertModelFileError(() => parseLlama2c(withInt32(encoded, 37, 2), 'g2.bin'), 'g2.bin', /truncated.*groups of 2/);
});
