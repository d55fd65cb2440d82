import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import { UsageError } from '../src/errors.js';
import type { LlamaConfig } from '../src/model/llama-config.js';
import { configProblem, headSize } from '../src/model/llama-config.js';
import { llama2cFileBytes, llama2cLayout } from '../src/model/llama2c-format.js';
import { layerWeightShapes } from '../src/model/llama-weights.js';
import { Prng } from '../src/model/sampling/prng.js';

/**
 * Random-weight llama2.c (legacy v0) model files for benchmarks: the shapes of Karpathy's
 * stories15M and stories110M (llama2.c README), written tensor by tensor so that a 110M-parameter
 * file (~440 MB) never has to exist twice in memory. Both tinymorph and run.c read the same file.
 */

/** The 32,000-token Llama 2 vocabulary the stories15M/110M models use (../shared/models/tokenizer32000.bin). */
const LLAMA2_VOCAB = 32000;

function storiesShape(dim: number, hiddenDim: number, nLayers: number, nHeads: number, seqLen: number): LlamaConfig {
  return { dim, hiddenDim, nLayers, nHeads, nKvHeads: nHeads, vocabSize: LLAMA2_VOCAB, seqLen, sharedClassifier: true, normEps: 1e-5, ropeTheta: 10000 };
}

/** Benchmark shapes, as in llama2.c's README table of TinyStories models. */
export const benchmarkShapes = {
  '15m': storiesShape(288, 768, 6, 6, 256),
  '110m': storiesShape(768, 2048, 12, 12, 1024),
} as const satisfies Record<string, LlamaConfig>;

export type BenchmarkShapeName = keyof typeof benchmarkShapes;

export interface RandomModelOptions {
  /** PRNG seed; the same seed and config give the same file. Default 1. */
  seed?: number;
  /** Standard deviation of the matrix weights (GPT-2/Llama init scale). Default 0.02. */
  std?: number;
  /**
   * Scale the BOS row of the (shared) embedding down by 1e-3 so that greedy decoding never picks
   * BOS: run.c stops at BOS (token 1), and a benchmark needs both runtimes to generate the full
   * count. The arithmetic per token is unchanged. Default true.
   */
  quietBos?: boolean;
}

const BOS_ID = 1;
const BOS_SCALE = 1e-3;
const V0_HEADER_INTS = 7;
const CHUNK_FLOATS = 1 << 18; // 1 MiB of float32 per write

/** Fills dst with N(0, std²) samples: Box–Muller on pairs of uniforms from xoshiro128**. */
function fillNormal(dst: Float32Array, prng: Prng, std: number): void {
  for (let i = 0; i < dst.length; i += 2) {
    const u1 = 1 - prng.nextFloat(); // (0, 1]: log stays finite
    const u2 = prng.nextFloat();
    const r = std * Math.sqrt(-2 * Math.log(u1));
    dst[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < dst.length) dst[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
}

/**
 * Writes a random-weight llama2.c v0 file: matrices and the embedding ~ N(0, std²), RMSNorm gains
 * = 1, the legacy freq_cis block as export.py wrote it, and a classifier only when it is not shared.
 * Returns the number of bytes written (checked against llama2cFileBytes).
 */
export function writeRandomLlama2c(path: string, config: LlamaConfig, opts: RandomModelOptions = {}): number {
  const problem = configProblem(config);
  if (problem) throw new UsageError(`cannot write a random llama2.c model: ${problem}`);
  // llama2.c files are little-endian and we write Float32Array bytes as they are in memory.
  if (endianness() !== 'LE') throw new UsageError('writing llama2.c files needs a little-endian machine');
  const prng = new Prng(opts.seed ?? 1);
  const std = opts.std ?? 0.02;
  const quietBos = opts.quietBos ?? true;
  const fd = openSync(path, 'w');
  try {
    const header = new Int32Array(V0_HEADER_INTS);
    // v0 marks an unshared classifier with a negative vocab_size.
    header.set([config.dim, config.hiddenDim, config.nLayers, config.nHeads, config.nKvHeads, config.sharedClassifier ? config.vocabSize : -config.vocabSize, config.seqLen]);
    writeSync(fd, new Uint8Array(header.buffer));
    const chunk = new Float32Array(CHUNK_FLOATS);
    const emit = (floats: Float32Array): void => void writeSync(fd, new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength));
    for (const e of llama2cLayout(config, 'llama2c-v0')) {
      if (e.kind === 'skip') {
        emit(freqCis(config));
      } else if (e.kind === 'single' && e.name === 'rmsFinal') {
        emit(new Float32Array(config.dim).fill(1));
      } else if (e.kind === 'layers' && (e.name === 'rmsAtt' || e.name === 'rmsFfn')) {
        emit(new Float32Array(config.nLayers * config.dim).fill(1));
      } else {
        const total = e.kind === 'single' ? config.vocabSize * config.dim : config.nLayers * layerWeightShapes(config)[e.name].reduce((a, b) => a * b, 1);
        const quiet = quietBos && e.kind === 'single' && e.name === 'tokenEmbedding' && config.sharedClassifier;
        for (let off = 0; off < total; off += CHUNK_FLOATS) {
          const part = chunk.subarray(0, Math.min(CHUNK_FLOATS, total - off));
          fillNormal(part, prng, std);
          if (quiet) scaleRow(part, off, BOS_ID * config.dim, config.dim, BOS_SCALE);
          emit(part);
        }
      }
    }
    const written = fstatSync(fd).size;
    const expected = llama2cFileBytes(config, 'llama2c-v0');
    if (written !== expected) throw new Error(`wrote ${written} bytes to ${path} but a v0 file of this config has ${expected}`);
    return written;
  } finally {
    closeSync(fd);
  }
}

/** Scales the part of row [rowStart, rowStart+len) of a tensor that falls in this chunk (chunk starts at chunkOff). */
function scaleRow(part: Float32Array, chunkOff: number, rowStart: number, len: number, scale: number): void {
  const from = Math.max(rowStart, chunkOff);
  const to = Math.min(rowStart + len, chunkOff + part.length);
  for (let i = from; i < to; i++) part[i - chunkOff] *= scale;
}

/** freq_cis_real then freq_cis_imag ([seq_len, head_size/2] each), which readers skip; export.py's values. */
function freqCis(c: LlamaConfig): Float32Array {
  const hs = headSize(c);
  const half = hs / 2;
  const n = c.seqLen * half;
  const out = new Float32Array(2 * n);
  for (let p = 0; p < c.seqLen; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * Math.pow(c.ropeTheta, (-2 * i) / hs);
      out[p * half + i] = Math.cos(angle);
      out[n + p * half + i] = Math.sin(angle);
    }
  }
  return out;
}
