import { ModelFileError, ShapeError } from '../errors.js';
import { dequantizeQ80, q80GroupSize, quantizeQ80 } from '../tensor/q80.js';
import type { Q80Matrix, WeightMatrix } from '../tensor/weight-matrix.js';
import { isQ80 } from '../tensor/weight-matrix.js';
import type { LlamaConfig } from './llama-config.js';
import { configProblem, headSize } from './llama-config.js';
import type { LayerWeightName, LlamaWeights } from './llama-weights.js';
import { layerWeightShapes, MATRIX_NAMES } from './llama-weights.js';
import type { TensorSource } from './llama2c-tensor-source.js';
import { BytesTensorSource, FileTensorSource, mapModelFile, withFile } from './llama2c-tensor-source.js';

/**
 * llama2.c model files (github karpathy/llama2.c, export.py):
 * - legacy "v0": 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len), a
 *   negative vocab_size meaning an unshared classifier; weights in run.c's order, then
 *   freq_cis_real/imag (seq_len × head_size/2 each) that run.c skips, then wcls if unshared.
 * - "v1": uint32 magic 0x616b3432 ("ak42"), int32 version 1, the same 7 int32, uint8
 *   shared_classifier, zero padding to 256 bytes; norms first, then embedding and matrices, no freq_cis.
 * - "v2" (Q8_0, export.py version2_export, read by runq.c): as v1 with version 2 and an int32
 *   group_size right after the flag byte (offset 37); the fp32 norms, then the embedding, the
 *   matrices and wcls (if unshared) each as int8 values followed by its float32 scales, one per
 *   group_size consecutive values.
 * Every size is checked against the file length before any weight is viewed.
 */
export type Llama2cVersion = 'llama2c-v0' | 'llama2c-v1' | 'llama2c-v2';

export const LLAMA2C_MAGIC = 0x616b3432;
const AK42_HEADER_BYTES = 256;
const V0_HEADER_BYTES = 28;
const GROUP_SIZE_OFFSET = 37; // after magic, version, 7 int32 and the flag byte

/** A parsed file: fp32 weights for v0/v1; for v2, Q8_0 matrices viewing the file bytes. */
export type LoadedLlama2c =
  | { format: 'llama2c-v0' | 'llama2c-v1'; config: LlamaConfig; weights: LlamaWeights<Float32Array>; fileBytes: number }
  | { format: 'llama2c-v2'; config: LlamaConfig; weights: LlamaWeights<Q80Matrix>; fileBytes: number; groupSize: number };

export interface Llama2cHeader {
  config: LlamaConfig;
  version: Llama2cVersion;
  headerBytes: number;
  /** Q8_0 group size (v2 only). */
  groupSize?: number;
}

/** One entry of a file's weight layout: a per-layer stack, a single tensor, or bytes to skip; `q80` tensors are int8 values then scales. */
export type LayoutEntry =
  | { kind: 'layers'; name: LayerWeightName; q80?: true }
  | { kind: 'single'; name: 'tokenEmbedding' | 'rmsFinal' | 'classifier'; q80?: true }
  | { kind: 'skip'; floats: number };

export function llama2cLayout(c: LlamaConfig, version: Llama2cVersion): LayoutEntry[] {
  const layers = (names: LayerWeightName[]): LayoutEntry[] => names.map((name) => ({ kind: 'layers', name }));
  if (version === 'llama2c-v0') {
    return [
      { kind: 'single', name: 'tokenEmbedding' },
      ...layers(['rmsAtt', 'wq', 'wk', 'wv', 'wo', 'rmsFfn', 'w1', 'w2', 'w3']),
      { kind: 'single', name: 'rmsFinal' },
      { kind: 'skip', floats: c.seqLen * headSize(c) }, // freq_cis_real + freq_cis_imag, seq_len × head_size/2 each
      ...(c.sharedClassifier ? [] : [{ kind: 'single', name: 'classifier' } as const]),
    ];
  }
  if (version === 'llama2c-v1') {
    return [
      ...layers(['rmsAtt', 'rmsFfn']),
      { kind: 'single', name: 'rmsFinal' },
      { kind: 'single', name: 'tokenEmbedding' },
      ...layers([...MATRIX_NAMES]),
      ...(c.sharedClassifier ? [] : [{ kind: 'single', name: 'classifier' } as const]),
    ];
  }
  return [
    ...layers(['rmsAtt', 'rmsFfn']),
    { kind: 'single', name: 'rmsFinal' },
    { kind: 'single', name: 'tokenEmbedding', q80: true },
    ...MATRIX_NAMES.map((name): LayoutEntry => ({ kind: 'layers', name, q80: true })),
    ...(c.sharedClassifier ? [] : [{ kind: 'single', name: 'classifier', q80: true } as const]),
  ];
}

/** Shape of each tensor of an entry ([rows, cols] for matrices, [n] for norms). */
export function entryShape(e: Exclude<LayoutEntry, { kind: 'skip' }>, c: LlamaConfig): number[] {
  if (e.kind === 'layers') return layerWeightShapes(c)[e.name];
  return e.name === 'rmsFinal' ? [c.dim] : [c.vocabSize, c.dim];
}

function entryBytes(e: LayoutEntry, c: LlamaConfig, groupSize: number): number {
  if (e.kind === 'skip') return 4 * e.floats;
  const n = entryShape(e, c).reduce((a, b) => a * b, 1);
  const each = e.q80 ? n + (4 * n) / groupSize : 4 * n;
  return (e.kind === 'layers' ? c.nLayers : 1) * each;
}

/** Expected file size in bytes for a config in a given version (v2 needs its group size). */
export function llama2cFileBytes(c: LlamaConfig, version: Llama2cVersion, groupSize?: number): number {
  if (version === 'llama2c-v2' && !groupSize) throw new ShapeError('llama2cFileBytes: a version 2 file needs its Q8_0 group size');
  const header = version === 'llama2c-v0' ? V0_HEADER_BYTES : AK42_HEADER_BYTES;
  return header + llama2cLayout(c, version).reduce((s, e) => s + entryBytes(e, c, groupSize ?? 1), 0);
}

/**
 * The group size a version 2 file of this config gets by default: the largest power of two ≤ 32
 * dividing both dim and hidden_dim, so every matrix row holds whole groups (runq.c needs that too:
 * it quantises activations of length dim and hidden_dim in the same groups).
 */
export function llama2cV2GroupSize(c: LlamaConfig): number {
  return Math.min(q80GroupSize(c.dim), q80GroupSize(c.hiddenDim));
}

/** Why a file-wide Q8_0 group size cannot describe this config, or undefined when it can. */
export function v2GroupSizeProblem(c: LlamaConfig, gs: number): string | undefined {
  if (!Number.isSafeInteger(gs) || gs < 1) return `group_size ${gs} is not a positive integer`;
  if (c.dim % gs !== 0) return `group_size ${gs} does not divide dim ${c.dim}`;
  if (c.hiddenDim % gs !== 0) {
    // export.py only checks dim, so it writes such files (stories260K: 64 vs 172); runq.c then computes w2 wrongly.
    return `group_size ${gs} does not divide hidden_dim ${c.hiddenDim}, so Q8_0 groups would run across the rows of w2 (runq.c cannot run this file either); quantise the fp32 model with \`tinymorph quantize\``;
  }
  return undefined;
}

/** Reads and validates the header (dimensions, version, v2 group size) from the first bytes of a file. */
export function parseLlama2cHeader(bytes: Uint8Array, file: string): Llama2cHeader {
  if (bytes.length < V0_HEADER_BYTES) {
    throw new ModelFileError(file, `truncated: ${bytes.length} bytes is shorter than the ${V0_HEADER_BYTES}-byte llama2.c header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const isAk42 = view.getUint32(0, true) === LLAMA2C_MAGIC;
  let at = 0;
  let version: Llama2cVersion = 'llama2c-v0';
  if (isAk42) {
    if (bytes.length < AK42_HEADER_BYTES) throw new ModelFileError(file, `truncated: ${bytes.length} bytes is shorter than the 256-byte "ak42" header`);
    const v = view.getInt32(4, true);
    if (v !== 1 && v !== 2) throw new ModelFileError(file, `unsupported llama2.c "ak42" version ${v} (supported: 1 fp32, 2 Q8_0)`);
    version = v === 1 ? 'llama2c-v1' : 'llama2c-v2';
    at = 8;
  }
  const ints = [0, 1, 2, 3, 4, 5, 6].map((i) => view.getInt32(at + 4 * i, true));
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, rawVocab, seqLen] = ints;
  const sharedClassifier = isAk42 ? bytes[at + 28] === 1 : rawVocab > 0;
  if (isAk42 && bytes[at + 28] > 1) throw new ModelFileError(file, `shared_classifier flag is ${bytes[at + 28]}, expected 0 or 1`);
  const config: LlamaConfig = {
    dim,
    hiddenDim,
    nLayers,
    nHeads,
    nKvHeads,
    vocabSize: Math.abs(rawVocab),
    seqLen,
    sharedClassifier,
    normEps: 1e-5,
    ropeTheta: 10000,
  };
  const problem = configProblem(config);
  if (problem) {
    throw new ModelFileError(
      file,
      `not a llama2.c model: ${problem} (header: dim ${dim}, hidden_dim ${hiddenDim}, n_layers ${nLayers}, n_heads ${nHeads}, n_kv_heads ${nKvHeads}, vocab_size ${rawVocab}, seq_len ${seqLen})`,
    );
  }
  if (version !== 'llama2c-v2') return { config, version, headerBytes: isAk42 ? AK42_HEADER_BYTES : V0_HEADER_BYTES };
  const groupSize = view.getInt32(GROUP_SIZE_OFFSET, true);
  const gsProblem = v2GroupSizeProblem(config, groupSize);
  if (gsProblem) throw new ModelFileError(file, `bad Q8_0 header: ${gsProblem}`);
  return { config, version, headerBytes: AK42_HEADER_BYTES, groupSize };
}

/** Checks that a file of `size` bytes holds exactly what its header describes; returns that size. */
export function checkLlama2cSize(h: Llama2cHeader, size: number, file: string): number {
  const expected = llama2cFileBytes(h.config, h.version, h.groupSize);
  const what = `${describe(h.config)}${h.groupSize ? `, Q8_0 groups of ${h.groupSize}` : ''}`;
  if (size < expected) throw new ModelFileError(file, `truncated: the header describes ${expected} bytes (${what}) but the file has ${size}`);
  if (size > expected) {
    throw new ModelFileError(file, `header sizes disagree with the file: the header describes ${expected} bytes (${what}) but the file has ${size} (${size - expected} extra)`);
  }
  return expected;
}

/**
 * Parses a llama2.c model from its bytes. Weights are views into `bytes` (copied once only when
 * the bytes are not 4-byte aligned in memory).
 */
export function parseLlama2c(bytes: Uint8Array, file: string): LoadedLlama2c {
  const h = parseLlama2cHeader(bytes, file);
  checkLlama2cSize(h, bytes.length, file);
  return loaded(h, buildLlama2cWeights(h, new BytesTensorSource(bytes, h.headerBytes)), bytes.length);
}

/**
 * The weights of a file, taken from `src` in the file's order. A v2 file's embedding is dequantised
 * to fp32 for lookups, as runq.c does, and a shared classifier is its Q8_0 form.
 */
export function buildLlama2cWeights(h: Llama2cHeader, src: TensorSource): LlamaWeights {
  const c = h.config;
  const w: Partial<Record<keyof LlamaWeights, WeightMatrix | WeightMatrix[]>> = {};
  for (const e of llama2cLayout(c, h.version)) {
    if (e.kind === 'skip') {
      src.skip(4 * e.floats);
      continue;
    }
    const shape = entryShape(e, c);
    const isMatrix = e.name === 'classifier' || (MATRIX_NAMES as readonly string[]).includes(e.name);
    const one = (): WeightMatrix => (e.q80 ? src.q80(shape[0], shape[1], h.groupSize!) : isMatrix ? src.matrix(shape[0], shape[1]) : src.f32(shape.reduce((a, b) => a * b, 1)));
    w[e.name] = e.kind === 'layers' ? Array.from({ length: c.nLayers }, one) : one();
  }
  if (h.version === 'llama2c-v2') {
    const tokens = w.tokenEmbedding as Q80Matrix;
    w.tokenEmbedding = dequantizeQ80(tokens);
    w.classifier ??= tokens;
  } else w.classifier ??= src.sharedClassifier(w.tokenEmbedding as Float32Array, c.vocabSize, c.dim);
  return w as LlamaWeights;
}

function loaded(h: Llama2cHeader, weights: LlamaWeights, fileBytes: number): LoadedLlama2c {
  return h.version === 'llama2c-v2'
    ? { format: h.version, config: h.config, weights: weights as LlamaWeights<Q80Matrix>, fileBytes, groupSize: h.groupSize! }
    : { format: h.version, config: h.config, weights: weights as LlamaWeights<Float32Array>, fileBytes };
}

function describe(c: LlamaConfig): string {
  return `dim ${c.dim}, hidden ${c.hiddenDim}, ${c.nLayers} layers, ${c.nHeads} heads, ${c.nKvHeads} kv heads, vocab ${c.vocabSize}, seq_len ${c.seqLen}, ${c.sharedClassifier ? 'shared' : 'separate'} classifier`;
}

/**
 * Reads a llama2.c model file tensor by tensor (one array each), after checking the header against
 * the file size: no single buffer holds the whole file, so files beyond readFileSync's 2 GiB load.
 * With `map` (and the native addon loaded), the weights are instead views of the file mapped into
 * memory, as run.c does: nothing is read until a kernel touches it.
 */
export function readLlama2c(path: string, opts: { map?: boolean } = {}): LoadedLlama2c {
  return withFile(path, (fd, size) => {
    const h = readLlama2cHeader(fd, size, path);
    const mapped = opts.map ? mapModelFile(fd, size, path) : undefined;
    const src = mapped ? new BytesTensorSource(mapped, h.headerBytes) : new FileTensorSource(fd, h.headerBytes, path);
    return loaded(h, buildLlama2cWeights(h, src), size);
  });
}

/** The validated header of an open file whose size matches it. */
export function readLlama2cHeader(fd: number, size: number, path: string): Llama2cHeader {
  if (size < V0_HEADER_BYTES) throw new ModelFileError(path, `truncated: ${size} bytes is shorter than the ${V0_HEADER_BYTES}-byte llama2.c header`);
  const h = parseLlama2cHeader(new FileTensorSource(fd, 0, path).bytes(Math.min(size, AK42_HEADER_BYTES)), path);
  checkLlama2cSize(h, size, path);
  return h;
}

export interface EncodeOptions {
  /**
   * v2: the file's Q8_0 group size. Default: the group size the Q8_0 matrices already share, else
   * llama2cV2GroupSize(c). Q8_0 matrices in that group size are written as they are; fp32 ones are quantised.
   */
  groupSize?: number;
}

/**
 * A model in llama2.c format as a list of byte chunks (views of the weights where possible, for
 * writing a file without building it in memory). v0/v1 take fp32 or Q8_0 weights (dequantised).
 */
export function llama2cChunks(c: LlamaConfig, w: LlamaWeights, version: Llama2cVersion, opts: EncodeOptions = {}): Uint8Array[] {
  const gs = version === 'llama2c-v2' ? (opts.groupSize ?? sharedGroupSize(w) ?? llama2cV2GroupSize(c)) : undefined;
  if (gs !== undefined) {
    const problem = v2GroupSizeProblem(c, gs);
    if (problem) throw new ShapeError(`cannot write a llama2.c version 2 file: ${problem}`);
  }
  const chunks = [encodeHeader(c, version, gs)];
  const bytesOf = (a: Float32Array | Int8Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  for (const e of llama2cLayout(c, version)) {
    if (e.kind === 'skip') {
      chunks.push(bytesOf(freqCis(c)));
      continue;
    }
    const shape = entryShape(e, c);
    let tensors: WeightMatrix[] = e.kind === 'layers' ? w[e.name] : [w[e.name]];
    // v2 stores the embedding quantised; a shared Q8_0 classifier already is that.
    if (e.name === 'tokenEmbedding' && e.q80 && c.sharedClassifier && isQ80(w.classifier) && w.classifier.groupSize === gs) tensors = [w.classifier];
    tensors.forEach((t, l) => {
      const name = e.kind === 'layers' ? `${e.name}[${l}]` : e.name;
      if (!e.q80) chunks.push(bytesOf(isQ80(t) ? dequantizeQ80(t) : t));
      else {
        const m = asQ80(t, shape[0], shape[1], gs!, name);
        chunks.push(bytesOf(m.q), bytesOf(m.scales));
      }
    });
  }
  return chunks;
}

/** Encodes a model in llama2.c format as one byte array (see llama2cChunks). */
export function encodeLlama2c(c: LlamaConfig, w: LlamaWeights, version: Llama2cVersion, opts: EncodeOptions = {}): Uint8Array {
  const chunks = llama2cChunks(c, w, version, opts);
  const out = new Uint8Array(chunks.reduce((s, b) => s + b.length, 0));
  let at = 0;
  for (const b of chunks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

function encodeHeader(c: LlamaConfig, version: Llama2cVersion, groupSize: number | undefined): Uint8Array {
  const out = new Uint8Array(version === 'llama2c-v0' ? V0_HEADER_BYTES : AK42_HEADER_BYTES);
  const view = new DataView(out.buffer);
  let at = 0;
  if (version !== 'llama2c-v0') {
    view.setUint32(0, LLAMA2C_MAGIC, true);
    view.setInt32(4, version === 'llama2c-v1' ? 1 : 2, true);
    at = 8;
  }
  const vocab = version === 'llama2c-v0' && !c.sharedClassifier ? -c.vocabSize : c.vocabSize;
  [c.dim, c.hiddenDim, c.nLayers, c.nHeads, c.nKvHeads, vocab, c.seqLen].forEach((v, i) => view.setInt32(at + 4 * i, v, true));
  if (version !== 'llama2c-v0') out[at + 28] = c.sharedClassifier ? 1 : 0;
  if (groupSize !== undefined) view.setInt32(GROUP_SIZE_OFFSET, groupSize, true);
  return out;
}

/** The group size every Q8_0 matrix of `w` shares, or undefined (none quantised, or mixed). */
function sharedGroupSize(w: LlamaWeights): number | undefined {
  const sizes = new Set([...MATRIX_NAMES.flatMap((n) => w[n]), w.classifier].filter(isQ80).map((m) => m.groupSize));
  return sizes.size === 1 ? [...sizes][0] : undefined;
}

function asQ80(t: WeightMatrix, rows: number, cols: number, gs: number, name: string): Q80Matrix {
  if (!isQ80(t)) return quantizeQ80(t, rows, cols, gs);
  if (t.groupSize !== gs) throw new ShapeError(`cannot write ${name} (Q8_0 in groups of ${t.groupSize}) into a file of group size ${gs}; quantise from fp32 instead`);
  return t;
}

/** The legacy freq_cis block (cos then sin, [seq_len, head_size/2] each), as export.py wrote it. */
function freqCis(c: LlamaConfig): Float32Array {
  const half = headSize(c) / 2;
  const n = c.seqLen * half;
  const dst = new Float32Array(2 * n);
  for (let p = 0; p < c.seqLen; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * Math.pow(c.ropeTheta, (-2 * i) / headSize(c));
      dst[p * half + i] = Math.cos(angle);
      dst[n + p * half + i] = Math.sin(angle);
    }
  }
  return dst;
}
