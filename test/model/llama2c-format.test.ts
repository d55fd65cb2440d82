import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ModelFileError, TokenizerFileError } from '../../src/errors.js';
import type { LlamaConfig } from '../../src/model/llama-config.js';
import { parameterCount } from '../../src/model/llama-config.js';
import { LlamaModel } from '../../src/model/llama-model.js';
import type { LlamaWeights } from '../../src/model/llama-weights.js';
import type { LoadedLlama2c } from '../../src/model/llama2c-format.js';
import { encodeLlama2c, parseLlama2c, readLlama2c } from '../../src/model/llama2c-format.js';
import { Llama2cTokenizer } from '../../src/model/llama2c-tokenizer.js';
import { assetPath } from '../../src/util/package-root.js';
import { assertAllClose, maxAbsDiff } from '../helpers/assert-all-close.js';

/**
 * llama2.c model files: the shipped v0 file, v1 files as karpathy/llama2.c export.py's
 * version1_export writes them (checked byte by byte, not through our reader), unshared
 * classifiers in both versions, and every kind of broken file.
 */

const MODEL_PATH = assetPath('models', 'stories260K.bin');
const SHIPPED = new Uint8Array(readFileSync(MODEL_PATH));
const shipped = fp32(parseLlama2c(SHIPPED, MODEL_PATH));
const c = shipped.config;
const DIM = 64;
const VOCAB = 512;
const TOKENS = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315];

// parameters of stories260K (shapes in ../shared/README.md), classifier shared with the embedding:
//   token embedding        512 × 64                                      =  32,768
//   per layer: rms_att 64 + wq 64·64 (4,096) + wk 32·64 (2,048) + wv 32·64 (2,048) + wo 64·64 (4,096)
//              + rms_ffn 64 + w1 172·64 (11,008) + w2 64·172 (11,008) + w3 172·64 (11,008)  =  45,440
//   5 layers                                                              = 227,200
//   rms_final                                                             =      64
//   total                                                                 = 260,032
const PARAMS = 260_032;
// v0 file: 28-byte header + 4·(260,032 weights + freq_cis 2·512·4 = 4,096) = 28 + 4·264,128 = 1,056,540
const V1_BYTES = 256 + 4 * PARAMS;

const scratch = mkdtempSync(join(tmpdir(), 'tinymorph-llama2c-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Narrows a parsed file to the fp32 versions (v0/v1). */
function fp32(f: LoadedLlama2c): Exclude<LoadedLlama2c, { format: 'llama2c-v2' }> {
  if (f.format === 'llama2c-v2') throw new Error(`expected an fp32 file, got ${f.format}`);
  return f;
}

function logitsOf(config: LlamaConfig, weights: LlamaWeights, tokens = TOKENS): Float32Array {
  const model = new LlamaModel(config, weights);
  return model.forward(model.newCache(1, tokens.length), [tokens], { allLogits: true }).logits.slice();
}

function int32s(bytes: Uint8Array, at: number, n: number): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: n }, (_, i) => view.getInt32(at + 4 * i, true));
}

function withInt32(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setInt32(at, value, true);
  return copy;
}

/** Asserts a ModelFileError whose message names `file` and matches `problem`. */
function assertModelFileError(fn: () => unknown, file: string, problem: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ModelFileError, `expected ModelFileError, got ${String(e)}`);
    assert.equal(e.code, 'model_file');
    assert.equal(e.file, file);
    assert.ok(e.message.includes(file), `message does not name the file: ${e.message}`);
    assert.match(e.message, problem);
    return true;
  });
}

/** A copy of the shipped weights whose classifier is a perturbed copy of the embedding. */
function unsharedWeights(): { config: LlamaConfig; weights: LlamaWeights<Float32Array> } {
  const emb = shipped.weights.tokenEmbedding;
  const classifier = Float32Array.from(emb, (x, i) => x * 0.8 + 0.05 * Math.sin(i * 0.37));
  return { config: { ...c, sharedClassifier: false }, weights: { ...shipped.weights, classifier } };
}

// ---------------------------------------------------------------------------------------------

test('the shipped model: 1,056,540 bytes, stories260K shapes, 260,032 parameters', () => {
  assert.equal(SHIPPED.length, 1_056_540);
  assert.equal(shipped.fileBytes, 1_056_540);
  assert.equal(shipped.format, 'llama2c-v0');
  assert.deepEqual(int32s(SHIPPED, 0, 7), [64, 172, 5, 8, 4, 512, 512]);
  assert.deepEqual(
    { dim: c.dim, hiddenDim: c.hiddenDim, nLayers: c.nLayers, nHeads: c.nHeads, nKvHeads: c.nKvHeads, vocabSize: c.vocabSize, seqLen: c.seqLen, shared: c.sharedClassifier },
    { dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8, nKvHeads: 4, vocabSize: 512, seqLen: 512, shared: true },
  );
  assert.equal(parameterCount(c), PARAMS);
  assert.equal(28 + 4 * (PARAMS + 2 * 512 * 4), 1_056_540);
  assert.equal(readLlama2c(MODEL_PATH).fileBytes, 1_056_540);
});

test('re-encoding the shipped model as v0 reproduces the file: header and weights byte for byte, freq_cis to float32 rounding', () => {
  const v0 = encodeLlama2c(c, shipped.weights, 'llama2c-v0');
  assert.equal(v0.length, SHIPPED.length);
  const weightsEnd = 28 + 4 * PARAMS; // the freq_cis block follows rms_final
  assert.ok(Buffer.from(v0.subarray(0, weightsEnd)).equals(Buffer.from(SHIPPED.subarray(0, weightsEnd))), 'header + weights differ');
  const freq = (b: Uint8Array): Float32Array => new Float32Array(b.slice(weightsEnd).buffer);
  assertAllClose(freq(v0), freq(SHIPPED), { atol: 1e-4 }, 'freq_cis');
});

test('v0 → v1 follows export.py version1_export byte for byte and reads back to identical logits', () => {
  const v1 = encodeLlama2c(c, shipped.weights, 'llama2c-v1');
  assert.equal(v1.length, V1_BYTES); // no freq_cis in v1
  // struct.pack('I', 0x616b3432): little-endian bytes spell "24ka"
  assert.equal(Buffer.from(v1.subarray(0, 4)).toString('latin1'), '24ka');
  assert.deepEqual(int32s(v1, 4, 1), [1]);
  assert.deepEqual(int32s(v1, 8, 7), [64, 172, 5, 8, 4, 512, 512]);
  assert.equal(v1[36], 1, 'shared_classifier byte');
  assert.ok(v1.subarray(37, 256).every((b) => b === 0), 'zero padding to 256 bytes');

  // Weight order of version1_export: rms_att[L], rms_ffn[L], norm, tok_embeddings, wq[L], wk[L], wv[L], wo[L], w1[L], w2[L], w3[L].
  // Sizes and v0 offsets (in floats after the 28-byte header) from the v0 order in ../shared/README.md.
  const L = 5;
  const H = 172;
  const KV = 32;
  const sizes = { emb: VOCAB * DIM, rmsAtt: DIM, wq: DIM * DIM, wk: KV * DIM, wv: KV * DIM, wo: DIM * DIM, rmsFfn: DIM, w1: H * DIM, w2: DIM * H, w3: H * DIM, rmsFinal: DIM };
  const v0Order = ['emb', 'rmsAtt', 'wq', 'wk', 'wv', 'wo', 'rmsFfn', 'w1', 'w2', 'w3', 'rmsFinal'] as const;
  const v0Start: Record<string, number> = {};
  let off = 0;
  for (const k of v0Order) {
    v0Start[k] = off;
    off += k === 'emb' || k === 'rmsFinal' ? sizes[k] : L * sizes[k];
  }
  const v1Order = ['rmsAtt', 'rmsFfn', 'rmsFinal', 'emb', 'wq', 'wk', 'wv', 'wo', 'w1', 'w2', 'w3'] as const;
  let at = 256;
  for (const k of v1Order) {
    const bytes = 4 * (k === 'emb' || k === 'rmsFinal' ? sizes[k] : L * sizes[k]);
    const from = 28 + 4 * v0Start[k];
    assert.ok(Buffer.from(v1.subarray(at, at + bytes)).equals(Buffer.from(SHIPPED.subarray(from, from + bytes))), `${k} block`);
    at += bytes;
  }
  assert.equal(at, v1.length);

  const back = parseLlama2c(v1, 'v1.bin');
  assert.equal(back.format, 'llama2c-v1');
  assert.deepEqual(back.config, c);
  assert.deepEqual(logitsOf(back.config, back.weights), logitsOf(c, shipped.weights));

  const path = join(scratch, 'stories260K-v1.bin');
  writeFileSync(path, v1);
  assert.deepEqual(logitsOf(readLlama2c(path).config, readLlama2c(path).weights), logitsOf(c, shipped.weights));
});

test('an unshared classifier in v0: negative vocab_size, 4·vocab·dim more bytes, its own logits', () => {
  const { config, weights } = unsharedWeights();
  const v0 = encodeLlama2c(config, weights, 'llama2c-v0');
  assert.deepEqual(int32s(v0, 0, 7), [64, 172, 5, 8, 4, -512, 512]);
  assert.equal(v0.length, SHIPPED.length + 4 * VOCAB * DIM);
  // wcls comes last, after freq_cis
  assert.ok(Buffer.from(v0.subarray(SHIPPED.length)).equals(Buffer.from(weights.classifier.buffer, weights.classifier.byteOffset, weights.classifier.byteLength)));
  const back = parseLlama2c(v0, 'unshared-v0.bin');
  assert.equal(back.config.sharedClassifier, false);
  assert.equal(back.config.vocabSize, 512);
  assert.equal(parameterCount(back.config), PARAMS + VOCAB * DIM);
  assert.deepEqual(back.weights.classifier, weights.classifier);
  assert.deepEqual(back.weights.tokenEmbedding, shipped.weights.tokenEmbedding);

  // Expected logits by hand: the perturbed classifier applied to the (unchanged) final normed state.
  const model = new LlamaModel(c, shipped.weights);
  const normed: Float32Array[] = [];
  const clean = model.hooks.with([{ name: 'ln_final.hook_normalized', fn: (a) => void normed.push(a.data.slice()) }], () =>
    model.forward(model.newCache(1), [TOKENS], { allLogits: true }).logits.slice(),
  );
  const expected = new Float32Array(TOKENS.length * VOCAB);
  for (let t = 0; t < TOKENS.length; t++) {
    for (let o = 0; o < VOCAB; o++) {
      let dot = 0;
      for (let i = 0; i < DIM; i++) dot += weights.classifier[o * DIM + i] * normed[0][t * DIM + i];
      expected[t * VOCAB + o] = dot;
    }
  }
  const got = logitsOf(back.config, back.weights);
  assertAllClose(got, expected, { atol: 1e-4 }, 'unshared logits');
  assert.ok(maxAbsDiff(got, clean) > 0.1, 'the perturbed classifier did not change the logits');
});

test('an unshared classifier in v1: flag byte 0, positive vocab_size, 4·vocab·dim more bytes, same logits as v0', () => {
  const { config, weights } = unsharedWeights();
  const v1 = encodeLlama2c(config, weights, 'llama2c-v1');
  assert.deepEqual(int32s(v1, 8, 7), [64, 172, 5, 8, 4, 512, 512]);
  assert.equal(v1[36], 0);
  assert.equal(v1.length, V1_BYTES + 4 * VOCAB * DIM);
  const back = parseLlama2c(v1, 'unshared-v1.bin');
  assert.equal(back.config.sharedClassifier, false);
  assert.deepEqual(back.weights.classifier, weights.classifier);
  const fromV0 = parseLlama2c(encodeLlama2c(config, weights, 'llama2c-v0'), 'unshared-v0.bin');
  assert.deepEqual(logitsOf(back.config, back.weights), logitsOf(fromV0.config, fromV0.weights));
});

test('a v1 header\'s seq_len is a limit, not a size: 2^24 loads at once, allocates nothing for it, and gives the same logits', () => {
  // v1 stores no freq_cis, so nothing in the file's length bounds seq_len (at offset 8 + 6·4).
  const path = join(scratch, 'long-context.bin');
  writeFileSync(path, withInt32(encodeLlama2c(c, shipped.weights, 'llama2c-v1'), 32, 2 ** 24));
  const before = process.memoryUsage().arrayBuffers;
  const long = fp32(readLlama2c(path));
  assert.equal(long.config.seqLen, 2 ** 24);
  const logits = logitsOf(long.config, long.weights);
  assert.ok(process.memoryUsage().arrayBuffers - before < 32 * 2 ** 20, 'no table or scratch sized by seq_len');
  assert.deepEqual(logits, logitsOf(c, shipped.weights));
});

test('a model file that is not 4-byte aligned in memory still loads', () => {
  const shifted = new Uint8Array(SHIPPED.length + 1);
  shifted.set(SHIPPED, 1);
  const back = parseLlama2c(shifted.subarray(1), 'shifted.bin');
  assert.deepEqual(logitsOf(back.config, back.weights), logitsOf(c, shipped.weights));
});

// ---------------------------------------------------------------------------------------------
// Broken files: each a ModelFileError that names the file and says what is wrong.

test('a truncated file', () => {
  const cut = SHIPPED.subarray(0, SHIPPED.length - 1000);
  assertModelFileError(() => parseLlama2c(cut, 'cut.bin'), 'cut.bin', /truncated.*1056540.*1055540/);
  const path = join(scratch, 'cut.bin');
  writeFileSync(path, cut);
  assertModelFileError(() => readLlama2c(path), path, /truncated/);
  const v1cut = encodeLlama2c(c, shipped.weights, 'llama2c-v1').subarray(0, 200); // inside the 256-byte header
  assertModelFileError(() => parseLlama2c(v1cut, 'v1cut.bin'), 'v1cut.bin', /truncated.*200 bytes/);
});

test('a 10-byte file and an empty file', () => {
  const path = join(scratch, 'ten.bin');
  writeFileSync(path, new Uint8Array(10));
  assertModelFileError(() => readLlama2c(path), path, /truncated.*10 bytes/);
  assertModelFileError(() => parseLlama2c(new Uint8Array(10), 'ten.bin'), 'ten.bin', /truncated.*10 bytes/);
  assertModelFileError(() => parseLlama2c(new Uint8Array(0), 'empty.bin'), 'empty.bin', /truncated.*0 bytes/);
});

test('a nonexistent path', () => {
  const path = join(scratch, 'no-such-model.bin');
  assertModelFileError(() => readLlama2c(path), path, /no such file|ENOENT|cannot read/i);
});

test('"ak42" magic with an unsupported version: 7, and 2 (Q8_0) with no group size', () => {
  const v1 = encodeLlama2c(c, shipped.weights, 'llama2c-v1');
  assertModelFileError(() => parseLlama2c(withInt32(v1, 4, 7), 'v7.bin'), 'v7.bin', /unsupported.*version 7/);
  // v1's zero padding where v2 keeps its group size (more v2 cases in llama2c-v2.test.ts)
  assertModelFileError(() => parseLlama2c(withInt32(v1, 4, 2), 'v2.bin'), 'v2.bin', /Q8_0.*group_size 0 is not a positive integer/);
  const badFlag = v1.slice();
  badFlag[36] = 5;
  assertModelFileError(() => parseLlama2c(badFlag, 'flag.bin'), 'flag.bin', /shared_classifier flag is 5/);
});

test('a header whose sizes disagree with the file (n_layers changed)', () => {
  // 4 layers describe a smaller file than the bytes present; 6 layers a bigger one.
  assertModelFileError(() => parseLlama2c(withInt32(SHIPPED, 8, 4), 'l4.bin'), 'l4.bin', /sizes disagree.*4 layers/);
  assertModelFileError(() => parseLlama2c(withInt32(SHIPPED, 8, 6), 'l6.bin'), 'l6.bin', /truncated.*6 layers/);
  // A hostile header describing a huge model fails on sizes before anything is allocated.
  assertModelFileError(() => parseLlama2c(withInt32(SHIPPED, 4, 1 << 24), 'huge.bin'), 'huge.bin', /truncated/);
});

test('dim not divisible by n_heads, n_heads not a multiple of n_kv_heads, an odd head size', () => {
  assertModelFileError(() => parseLlama2c(withInt32(SHIPPED, 12, 7), 'h7.bin'), 'h7.bin', /dim 64 is not divisible by n_heads 7/);
  assertModelFileError(() => parseLlama2c(withInt32(SHIPPED, 16, 3), 'kv3.bin'), 'kv3.bin', /n_heads 8 is not a multiple of n_kv_heads 3/);
  const odd = withInt32(withInt32(SHIPPED, 0, 72), 12, 24); // head size 3
  assertModelFileError(() => parseLlama2c(odd, 'odd.bin'), 'odd.bin', /head size 3 is odd/);
});

test('zero and negative header fields', () => {
  const fields = ['dim', 'hidden_dim', 'n_layers', 'n_heads', 'n_kv_heads', 'vocab_size', 'seq_len'];
  fields.forEach((field, i) => {
    for (const value of i === 5 ? [0] : [0, -3]) {
      // (a negative vocab_size is legal in v0: it flags an unshared classifier)
      const name = `${field}=${value}.bin`;
      assertModelFileError(() => parseLlama2c(withInt32(SHIPPED, 4 * i, value), name), name, /not a positive integer/);
    }
  });
  const v1 = encodeLlama2c(c, shipped.weights, 'llama2c-v1');
  assertModelFileError(() => parseLlama2c(withInt32(v1, 8, 0), 'v1dim0.bin'), 'v1dim0.bin', /dim = 0 is not a positive integer/);
});

test('a tokenizer file with a bad length field is a TokenizerFileError', () => {
  const tokPath = assetPath('models', 'tok512.bin');
  const bytes = new Uint8Array(readFileSync(tokPath));
  // int32 max_token_length, then {float32 score, int32 len, bytes}: entry 0's len is at byte 8.
  const bad = withInt32(bytes, 8, 1000);
  assert.throws(
    () => Llama2cTokenizer.fromBytes(bad, 'badlen.bin', 512),
    (e: unknown) => e instanceof TokenizerFileError && /badlen\.bin/.test(e.message) && /entry 0 has length 1000/.test(e.message),
  );
});

test('reading a file tensor by tensor gives exactly the weights that parsing its bytes gives', () => {
  const fromFile = readLlama2c(assetPath('models', 'stories260K.bin'));
  const fromBytes = parseLlama2c(new Uint8Array(readFileSync(assetPath('models', 'stories260K.bin'))), 'stories260K.bin');
  assert.deepEqual(fromFile.config, fromBytes.config);
  assert.deepEqual(fromFile.weights, fromBytes.weights);
  // Each tensor owns its memory: no whole-file buffer behind them (what lets files > 2 GiB load).
  assert.notEqual((fromFile.weights.wq[0] as Float32Array).buffer, (fromFile.weights.wk[0] as Float32Array).buffer);
});

test('a directory or an empty file is a clear ModelFileError', () => {
  assert.throws(() => readLlama2c(scratch), (e: unknown) => e instanceof ModelFileError && /is a directory/.test(e.message));
  const empty = join(scratch, 'empty.bin');
  writeFileSync(empty, new Uint8Array(0));
  assert.throws(() => readLlama2c(empty), (e: unknown) => e instanceof ModelFileError && /empty\.bin: truncated/.test(e.message));
});
