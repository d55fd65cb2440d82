import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ModelFileError } from '../errors.js';
import type { Q80Matrix, WeightMatrix } from '../tensor/weight-matrix.js';
import { alignedFloat32Array } from '../tensor/aligned-array.js';
import { nativeMapFile } from '../tensor/native-backend.js';
import { describeFsError } from '../util/fs-error.js';
import { requireRegularFile } from '../util/bounded-read.js';

/**
 * Where the tensors of a llama2.c file come from, in file order. One walk over the layout
 * (llama2c-format.ts `buildLlama2cWeights`) serves every way of loading:
 * - bytes already in memory, or a file mapped into memory (mapModelFile) → views, no copy (BytesTensorSource);
 * - a file read tensor by tensor → one array per tensor, so no single read or buffer has to hold the
 *   whole model (readFileSync stops at 2 GiB, a Buffer at 4 GiB) and nothing is held twice
 *   (FileTensorSource);
 * - the same, quantising fp32 matrices to Q8_0 as they are read (llama2c-quantized-read.ts).
 */
export interface TensorSource {
  /** The next n float32 values. */
  f32(n: number): Float32Array;
  /** The next fp32 matrix [rows, cols], as the loader keeps it (fp32, or Q8_0 when quantising). */
  matrix(rows: number, cols: number): WeightMatrix;
  /** The next Q8_0 tensor of a version 2 file: rows·cols int8 values, then its float32 scales. */
  q80(rows: number, cols: number, groupSize: number): Q80Matrix;
  skip(bytes: number): void;
  /** The classifier when the file shares it with the embedding. */
  sharedClassifier(embedding: Float32Array, rows: number, cols: number): WeightMatrix;
}

/** Where `bytes` bytes from file offset `at` lie in memory: a buffer, and their offset in it. */
export type FileInMemory = (at: number, bytes: number) => { buffer: ArrayBufferLike; offset: number };

/** Views into a file's bytes in memory: an array of them (copied once only if not 4-byte aligned), or a mapping (mapModelFile). */
export class BytesTensorSource implements TensorSource {
  private readonly region: FileInMemory;

  constructor(
    bytes: Uint8Array | FileInMemory,
    private at: number,
  ) {
    if (typeof bytes === 'function') this.region = bytes;
    else {
      const data = (bytes.byteOffset & 3) === 0 ? bytes : bytes.slice();
      this.region = (at) => ({ buffer: data.buffer, offset: data.byteOffset + at });
    }
  }

  f32(n: number): Float32Array {
    const { buffer, offset } = this.region(this.at, 4 * n);
    this.at += 4 * n;
    return new Float32Array(buffer, offset, n);
  }

  matrix(rows: number, cols: number): WeightMatrix {
    return this.f32(rows * cols);
  }

  q80(rows: number, cols: number, groupSize: number): Q80Matrix {
    const n = (rows * cols) / groupSize;
    const { buffer, offset } = this.region(this.at, rows * cols + 4 * n);
    this.at += rows * cols + 4 * n;
    const q = new Int8Array(buffer, offset, rows * cols);
    const from = offset + rows * cols;
    // The scales are 4-byte aligned unless an earlier tensor had a size ≢ 0 mod 4 (odd shapes only): copy those.
    const scales = from % 4 === 0 ? new Float32Array(buffer, from, n) : new Float32Array(buffer.slice(from, from + 4 * n));
    return { kind: 'q8_0', rows, cols, groupSize, q, scales };
  }

  skip(bytes: number): void {
    this.at += bytes;
  }

  sharedClassifier(embedding: Float32Array): WeightMatrix {
    return embedding;
  }
}

/** Reads tensor by tensor from an open file into arrays of their own. */
export class FileTensorSource implements TensorSource {
  constructor(
    protected readonly fd: number,
    protected pos: number,
    protected readonly path: string,
  ) {}

  f32(n: number): Float32Array {
    const a = alignedFloat32Array(n);
    this.read(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    return a;
  }

  matrix(rows: number, cols: number): WeightMatrix {
    return this.f32(rows * cols);
  }

  q80(rows: number, cols: number, groupSize: number): Q80Matrix {
    const q = new Int8Array(rows * cols);
    this.read(new Uint8Array(q.buffer));
    const scales = this.f32((rows * cols) / groupSize);
    return { kind: 'q8_0', rows, cols, groupSize, q, scales };
  }

  skip(bytes: number): void {
    this.pos += bytes;
  }

  sharedClassifier(embedding: Float32Array, _rows: number, _cols: number): WeightMatrix {
    return embedding;
  }

  /** The next n raw bytes (the header). */
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    this.read(b);
    return b;
  }

  /** readSync at the current position until `dst` is full (it may return fewer bytes than asked). */
  protected read(dst: Uint8Array): void {
    let done = 0;
    while (done < dst.length) {
      let n: number;
      try {
        n = readSync(this.fd, dst, done, dst.length - done, this.pos + done);
      } catch (e) {
        throw new ModelFileError(this.path, describeFsError(e));
      }
      if (n === 0) throw new ModelFileError(this.path, `truncated: the file ended at byte ${this.pos + done} while ${dst.length - done} more bytes were expected`);
      done += n;
    }
    this.pos += dst.length;
  }
}

/** Opens `path`, hands `body` its descriptor and size, and always closes it. */
export function withFile<T>(path: string, body: (fd: number, size: number) => T): T {
  const fail = (problem: string): ModelFileError => new ModelFileError(path, problem);
  requireRegularFile(path, 'a model', fail); // refused before open(2), which would block on a FIFO
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new ModelFileError(path, describeFsError(e));
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new ModelFileError(path, describeFsError({ code: 'EISDIR' }));
    return body(fd, stat.size);
  } finally {
    closeSync(fd);
  }
}

/** Node wraps at most 4 GiB of outside memory in one ArrayBuffer: a larger file is mapped in windows of this size. */
const MAX_WINDOW_BYTES = 2 ** 32;
/** Windows start on a multiple of this: mmap(2) offsets must be page-aligned, and no page size we run on exceeds 64 KiB. */
const WINDOW_ALIGN = 65536;

/**
 * The open file `fd` of `size` bytes mapped into memory through the native addon
 * (native/map-file.c), or undefined when the addon is not loaded (the caller reads instead). A file
 * up to 4 GiB is one mapping; a larger one gets a new window, starting at the tensor that does not
 * fit the current one, whenever a tensor does not fit.
 */
export function mapModelFile(fd: number, size: number, path: string): FileInMemory | undefined {
  const map = (start: number): ArrayBuffer | undefined => {
    try {
      return nativeMapFile(fd, start, Math.min(size, start + MAX_WINDOW_BYTES) - start);
    } catch (e) {
      throw new ModelFileError(path, `cannot map it into memory: ${(e as Error).message}`);
    }
  };
  const first = map(0);
  if (!first) return undefined;
  let [start, buffer] = [0, first];
  return (at, bytes) => {
    if (at < start || at + bytes > start + buffer.byteLength) {
      start = at - (at % WINDOW_ALIGN);
      if (at + bytes > start + MAX_WINDOW_BYTES) throw new ModelFileError(path, `a tensor of ${bytes} bytes at offset ${at} is larger than the ${MAX_WINDOW_BYTES} bytes Node lets one mapped ArrayBuffer hold`);
      buffer = map(start)!; // the addon mapped the first window, so it is there for this one
    }
    return { buffer, offset: at - start };
  };
}
