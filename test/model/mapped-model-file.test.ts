import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ModelFileError } from '../../src/errors.js';
import type { LlamaConfig } from '../../src/model/llama-config.js';
import { LlamaModel } from '../../src/model/llama-model.js';
import type { LlamaWeights } from '../../src/model/llama-weights.js';
import { MATRIX_NAMES } from '../../src/model/llama-weights.js';
import type { Llama2cVersion, LoadedLlama2c } from '../../src/model/llama2c-format.js';
import { encodeLlama2c, LLAMA2C_MAGIC, readLlama2c } from '../../src/model/llama2c-format.js';
import { loadModel } from '../../src/model/load-model.js';
import { activeBackend, backendByName, setActiveBackend } from '../../src/tensor/backend-registry.js';
import { nativeStatus } from '../../src/tensor/native-backend.js';
import type { WeightMatrix } from '../../src/tensor/weight-matrix.js';
import { isQ80 } from '../../src/tensor/weight-matrix.js';
import { assetPath } from '../../src/util/package-root.js';

/**
 * Model files mapped into memory through the native addon (native/map-file.c) against the same
 * files read tensor by tensor: the same weights and logits, views of one mapping, nothing read
 * that is not touched, and the typed errors of reading for broken files. Without the addon these
 * tests fail under CI (which builds it) and skip elsewhere.
 */

const status = nativeStatus();
const skip = status.available || process.env.CI ? false : `native addon not available: ${status.available ? '' : status.reason}`;
const MODEL_PATH = assetPath('models', 'stories260K.bin');
const TOKENS = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315];

const scratch = mkdtempSync(join(tmpdir(), 'tinymorph-mapped-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function logitsOf(file: LoadedLlama2c): Float32Array {
  const model = new LlamaModel(file.config, file.weights, backendByName(status.available ? 'native' : 'reference'));
  return model.forward(model.newCache(1, TOKENS.length), [TOKENS], { allLogits: true }).logits.slice();
}

function everyWeight(w: LlamaWeights): WeightMatrix[] {
  return Object.values(w).flatMap((v: WeightMatrix | WeightMatrix[]) => (Array.isArray(v) ? v : [v]));
}

const buffersOf = (m: WeightMatrix): ArrayBufferLike[] => (isQ80(m) ? [m.q.buffer, m.scales.buffer] : [m.buffer]);

for (const version of ['llama2c-v0', 'llama2c-v1', 'llama2c-v2'] as Llama2cVersion[]) {
  test(`${version}: the mapped file gives the weights and logits of the file read tensor by tensor, as views of one mapping of the whole file`, { skip }, () => {
    let path = MODEL_PATH;
    if (version !== 'llama2c-v0') {
      const shipped = readLlama2c(MODEL_PATH);
      path = join(scratch, `${version}.bin`);
      // v2 needs a group size dividing hidden_dim 172 (export.py's default 64 does not).
      writeFileSync(path, encodeLlama2c(shipped.config, shipped.weights, version, { groupSize: 4 }));
    }
    const read = readLlama2c(path);
    const mapped = readLlama2c(path, { map: true });
    assert.equal(mapped.format, version);
    assert.deepEqual(mapped.config, read.config);
    assert.deepEqual(mapped.weights, read.weights);
    assert.deepEqual(logitsOf(mapped), logitsOf(read));
    // Views of one buffer, the file's size (v2's embedding is dequantised to fp32 for lookups: an array of its own).
    const { tokenEmbedding, ...views } = mapped.weights;
    const buffers = new Set([...everyWeight(views as LlamaWeights), ...(version === 'llama2c-v2' ? [] : [tokenEmbedding])].flatMap(buffersOf));
    assert.deepEqual([...buffers].map((b) => b.byteLength), [statSync(path).size]);
  });
}

test('loadModel maps the file on the native backend unless told not to, and reads it on the reference backend', { skip }, () => {
  const size = statSync(MODEL_PATH).size;
  const wq = (opts: { map?: boolean }): Float32Array => loadModel({ model: MODEL_PATH, ...opts }).model.weights.wq[0] as Float32Array;
  const before = activeBackend().name;
  try {
    setActiveBackend('native');
    assert.equal(wq({}).buffer.byteLength, size, 'native: a view of the mapped file');
    assert.notEqual(wq({ map: false }).buffer.byteLength, size, 'map: false: an array of its own');
    setActiveBackend('reference');
    assert.notEqual(wq({}).buffer.byteLength, size, 'reference: an array of its own');
  } finally {
    setActiveBackend(before);
  }
});

test('a write into a mapped weight stays in this process: the file is unchanged (private copy-on-write mapping)', { skip }, () => {
  const path = join(scratch, 'cow.bin');
  writeFileSync(path, readFileSync(MODEL_PATH));
  const before = readFileSync(path);
  const mapped = readLlama2c(path, { map: true });
  const w = mapped.weights.wq[0] as Float32Array;
  w.fill(123);
  assert.equal(w[0], 123);
  assert.deepEqual(readFileSync(path), before);
  assert.notEqual((readLlama2c(path, { map: true }).weights.wq[0] as Float32Array)[0], 123);
});

test('broken files give the same typed errors mapped as read', { skip }, () => {
  const whole = readFileSync(MODEL_PATH);
  const cases: [string, Uint8Array][] = [
    ['truncated.bin', whole.subarray(0, whole.length - 4)],
    ['extra.bin', Buffer.concat([whole, Buffer.alloc(4)])],
    ['header-only.bin', whole.subarray(0, 20)],
    ['empty.bin', new Uint8Array(0)],
  ];
  for (const [name, bytes] of cases) {
    const path = join(scratch, name);
    writeFileSync(path, bytes);
    const readError = captureError(() => readLlama2c(path));
    const mapError = captureError(() => readLlama2c(path, { map: true }));
    assert.ok(mapError instanceof ModelFileError, `${name}: ${String(mapError)}`);
    assert.equal(mapError.message, readError.message);
  }
});

function captureError(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  assert.fail('expected an error');
}

/** A sparse llama2.c v1 file of config `c` (shared classifier): the header export.py writes (magic, version, 7 int32, flag, zeros to 256), the rest a hole. */
function sparseV1File(name: string, c: LlamaConfig): { path: string; bytes: number } {
  const perLayer = 2 * c.dim + 4 * c.dim * c.dim + 3 * c.dim * c.hiddenDim; // rms_att, rms_ffn, wq wk wv wo (n_kv_heads = n_heads), w1 w2 w3
  const bytes = 256 + 4 * (c.vocabSize * c.dim + c.nLayers * perLayer + c.dim);
  const path = join(scratch, name);
  const header = Buffer.alloc(256);
  header.writeUInt32LE(LLAMA2C_MAGIC, 0);
  header.writeInt32LE(1, 4);
  [c.dim, c.hiddenDim, c.nLayers, c.nHeads, c.nKvHeads, c.vocabSize, c.seqLen].forEach((v, i) => header.writeInt32LE(v, 8 + 4 * i));
  header[36] = 1;
  const fd = openSync(path, 'w');
  writeSync(fd, header);
  ftruncateSync(fd, bytes);
  closeSync(fd);
  assert.ok(statSync(path).blocks * 512 < 1 << 20, 'the file is sparse: nearly no blocks on disk');
  return { path, bytes };
}

const config = (dim: number, hiddenDim: number, nLayers: number, vocabSize: number): LlamaConfig => ({
  dim, hiddenDim, nLayers, nHeads: 16, nKvHeads: 16, vocabSize, seqLen: 2048, sharedClassifier: true, normEps: 1e-5, ropeTheta: 10000,
});

test('a sparse 5.2 GB model file maps at once without reading it: resident memory grows by a few MB, the last weight is reachable', { skip }, () => {
  // TinyLlama-like shapes, 24 layers, fp32: well past readFileSync's 2 GiB and a typed array's 4 GiB.
  const c = config(2048, 5632, 24, 32000);
  const { path, bytes } = sparseV1File('sparse.bin', c);
  assert.equal(bytes, 5_195_047_168);
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const mapped = readLlama2c(path, { map: true });
  const first = mapped.weights.wq[0] as Float32Array;
  const last = mapped.weights.w3[c.nLayers - 1] as Float32Array;
  // Node wraps at most 4 GiB of outside memory in one ArrayBuffer: the file is mapped in two windows.
  assert.equal(first.buffer.byteLength, 2 ** 32);
  assert.notEqual(last.buffer, first.buffer);
  assert.equal(last.length, c.hiddenDim * c.dim);
  assert.equal(last[last.length - 1], 0);
  assert.equal(mapped.weights.rmsFinal[c.dim - 1], 0);
  for (const name of MATRIX_NAMES) assert.equal(mapped.weights[name].length, c.nLayers);
  const grew = process.memoryUsage().rss - rssBefore;
  assert.ok(grew < 32 << 20, `resident memory grew by ${(grew / 2 ** 20).toFixed(1)} MiB`);
});

test('a single tensor over 4 GiB cannot be one view: a ModelFileError names its size', { skip }, () => {
  // Embedding 1,048,577 × 1024 fp32 = 4 GiB + 4 KiB.
  const { path } = sparseV1File('huge-embedding.bin', config(1024, 64, 1, 1_048_577));
  assert.throws(() => readLlama2c(path, { map: true }), (e: unknown) => e instanceof ModelFileError && /huge-embedding\.bin.*a tensor of 4294971392 bytes at offset 12544 is larger than the 4294967296 bytes/.test(e.message));
});
