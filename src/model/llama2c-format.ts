import { readFileSync, statSync } from 'node:fs';
import { ModelFileError } from '../errors.js';
import type { LlamaConfig } from './llama-config.js';
import { configProblem, headSize } from './llama-config.js';
import type { LayerWeightName, LlamaWeights } from './llama-weights.js';
import { layerWeightShapes } from './llama-weights.js';
import { describeFsError } from '../util/fs-error.js';

/**
 * llama2.c model files (github karpathy/llama2.c, export.py):
 * - legacy "v0": 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len), a
 *   negative vocab_size meaning an unshared classifier; weights in run.c's order, then
 *   freq_cis_real/imag (seq_len × head_size/2 each) that run.c skips, then wcls if unshared.
 * - "v1": uint32 magic 0x616b3432 ("ak42"), int32 version 1, the same 7 int32, uint8
 *   shared_classifier, zero padding to 256 bytes; norms first, then embedding and matrices, no freq_cis.
 * Every size is checked against the file length before any weight is viewed.
 */
export type Llama2cVersion = 'llama2c-v0' | 'llama2c-v1';

export const LLAMA2C_MAGIC = 0x616b3432;
const V1_HEADER_BYTES = 256;
const V0_HEADER_BYTES = 28;

export interface LoadedLlama2c {
  config: LlamaConfig;
  weights: LlamaWeights<Float32Array>;
  format: Llama2cVersion;
  fileBytes: number;
}

/** One entry of a file's weight layout: a per-layer stack, a single tensor, or bytes to skip. */
type LayoutEntry =
  | { kind: 'layers'; name: LayerWeightName }
  | { kind: 'single'; name: 'tokenEmbedding' | 'rmsFinal' | 'classifier' }
  | { kind: 'skip'; floats: number };

export function llama2cLayout(c: LlamaConfig, version: Llama2cVersion): LayoutEntry[] {
  const layers = (names: LayerWeightName[]): LayoutEntry[] => names.map((name) => ({ kind: 'layers', name }));
  const cls: LayoutEntry[] = c.sharedClassifier ? [] : [{ kind: 'single', name: 'classifier' }];
  if (version === 'llama2c-v0') {
    return [
      { kind: 'single', name: 'tokenEmbedding' },
      ...layers(['rmsAtt', 'wq', 'wk', 'wv', 'wo', 'rmsFfn', 'w1', 'w2', 'w3']),
      { kind: 'single', name: 'rmsFinal' },
      { kind: 'skip', floats: c.seqLen * headSize(c) }, // freq_cis_real + freq_cis_imag, seq_len × head_size/2 each
      ...cls,
    ];
  }
  return [
    ...layers(['rmsAtt', 'rmsFfn']),
    { kind: 'single', name: 'rmsFinal' },
    { kind: 'single', name: 'tokenEmbedding' },
    ...layers(['wq', 'wk', 'wv', 'wo', 'w1', 'w2', 'w3']),
    ...cls,
  ];
}

function entryFloats(e: LayoutEntry, c: LlamaConfig): number {
  if (e.kind === 'skip') return e.floats;
  if (e.kind === 'layers') return c.nLayers * layerWeightShapes(c)[e.name].reduce((a, b) => a * b, 1);
  return e.name === 'rmsFinal' ? c.dim : c.vocabSize * c.dim;
}

/** Expected file size in bytes for a config in a given version. */
export function llama2cFileBytes(c: LlamaConfig, version: Llama2cVersion): number {
  const header = version === 'llama2c-v0' ? V0_HEADER_BYTES : V1_HEADER_BYTES;
  return header + 4 * llama2cLayout(c, version).reduce((s, e) => s + entryFloats(e, c), 0);
}

function readHeader(bytes: Uint8Array, file: string): { config: LlamaConfig; version: Llama2cVersion; headerBytes: number } {
  if (bytes.length < V0_HEADER_BYTES) {
    throw new ModelFileError(file, `truncated: ${bytes.length} bytes is shorter than the ${V0_HEADER_BYTES}-byte llama2.c header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const isV1 = view.getUint32(0, true) === LLAMA2C_MAGIC;
  let at = 0;
  let version: Llama2cVersion = 'llama2c-v0';
  if (isV1) {
    if (bytes.length < V1_HEADER_BYTES) throw new ModelFileError(file, `truncated: ${bytes.length} bytes is shorter than the 256-byte "ak42" header`);
    const v = view.getInt32(4, true);
    if (v === 2) throw new ModelFileError(file, 'llama2.c version 2 (Q8_0) files are not supported yet; export as version 1 (fp32)');
    if (v !== 1) throw new ModelFileError(file, `unsupported llama2.c "ak42" version ${v} (supported: 1)`);
    version = 'llama2c-v1';
    at = 8;
  }
  const ints = [0, 1, 2, 3, 4, 5, 6].map((i) => view.getInt32(at + 4 * i, true));
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, rawVocab, seqLen] = ints;
  const sharedClassifier = isV1 ? bytes[at + 28] === 1 : rawVocab > 0;
  if (isV1 && bytes[at + 28] > 1) throw new ModelFileError(file, `shared_classifier flag is ${bytes[at + 28]}, expected 0 or 1`);
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
  return { config, version, headerBytes: isV1 ? V1_HEADER_BYTES : V0_HEADER_BYTES };
}

/** Parses a llama2.c model from its bytes; weights are views into `bytes` (no copy when 4-byte aligned). */
export function parseLlama2c(bytes: Uint8Array, file: string): LoadedLlama2c {
  const { config: c, version, headerBytes } = readHeader(bytes, file);
  const expected = llama2cFileBytes(c, version);
  if (bytes.length < expected) {
    throw new ModelFileError(file, `truncated: the header describes ${expected} bytes (${describe(c)}) but the file has ${bytes.length}`);
  }
  if (bytes.length > expected) {
    throw new ModelFileError(file, `header sizes disagree with the file: the header describes ${expected} bytes (${describe(c)}) but the file has ${bytes.length} (${bytes.length - expected} extra)`);
  }
  const aligned = (bytes.byteOffset & 3) === 0 ? bytes : bytes.slice();
  const floats = new Float32Array(aligned.buffer, aligned.byteOffset + headerBytes, (expected - headerBytes) / 4);
  const shapes = layerWeightShapes(c);
  const w: Partial<LlamaWeights<Float32Array>> = {};
  let off = 0;
  const take = (n: number): Float32Array => floats.subarray(off, (off += n));
  for (const e of llama2cLayout(c, version)) {
    if (e.kind === 'skip') off += e.floats;
    else if (e.kind === 'single') w[e.name] = take(entryFloats(e, c));
    else {
      const per = shapes[e.name].reduce((a, b) => a * b, 1);
      w[e.name] = Array.from({ length: c.nLayers }, () => take(per));
    }
  }
  w.classifier ??= w.tokenEmbedding;
  return { config: c, weights: w as LlamaWeights<Float32Array>, format: version, fileBytes: bytes.length };
}

function describe(c: LlamaConfig): string {
  return `dim ${c.dim}, hidden ${c.hiddenDim}, ${c.nLayers} layers, ${c.nHeads} heads, ${c.nKvHeads} kv heads, vocab ${c.vocabSize}, seq_len ${c.seqLen}, ${c.sharedClassifier ? 'shared' : 'separate'} classifier`;
}

/** Reads a llama2.c model file, checking its size before reading it whole. */
export function readLlama2c(path: string): LoadedLlama2c {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    throw new ModelFileError(path, describeFsError(e));
  }
  if (size < V0_HEADER_BYTES) throw new ModelFileError(path, `truncated: ${size} bytes is shorter than the ${V0_HEADER_BYTES}-byte llama2.c header`);
  return parseLlama2c(new Uint8Array(readFileSync(path)), path);
}

/** Encodes a model in llama2.c format (used to write benchmark models and to test the reader). */
export function encodeLlama2c(c: LlamaConfig, w: LlamaWeights<Float32Array>, version: Llama2cVersion): Uint8Array {
  const out = new Uint8Array(llama2cFileBytes(c, version));
  const view = new DataView(out.buffer);
  let at = 0;
  if (version === 'llama2c-v1') {
    view.setUint32(0, LLAMA2C_MAGIC, true);
    view.setInt32(4, 1, true);
    at = 8;
  }
  const vocab = version === 'llama2c-v0' && !c.sharedClassifier ? -c.vocabSize : c.vocabSize;
  [c.dim, c.hiddenDim, c.nLayers, c.nHeads, c.nKvHeads, vocab, c.seqLen].forEach((v, i) => view.setInt32(at + 4 * i, v, true));
  if (version === 'llama2c-v1') out[at + 28] = c.sharedClassifier ? 1 : 0;
  const floats = new Float32Array(out.buffer, version === 'llama2c-v0' ? V0_HEADER_BYTES : V1_HEADER_BYTES);
  let off = 0;
  const put = (a: Float32Array): void => {
    floats.set(a, off);
    off += a.length;
  };
  for (const e of llama2cLayout(c, version)) {
    if (e.kind === 'skip') {
      writeFreqCis(floats.subarray(off, off + e.floats), c);
      off += e.floats;
    } else if (e.kind === 'single') put(w[e.name]);
    else for (const a of w[e.name]) put(a);
  }
  return out;
}

/** The legacy freq_cis block (cos then sin, [seq_len, head_size/2] each), as export.py wrote it. */
function writeFreqCis(dst: Float32Array, c: LlamaConfig): void {
  const half = headSize(c) / 2;
  const n = c.seqLen * half;
  for (let p = 0; p < c.seqLen; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * Math.pow(c.ropeTheta, (-2 * i) / headSize(c));
      dst[p * half + i] = Math.cos(angle);
      dst[n + p * half + i] = Math.sin(angle);
    }
  }
}

