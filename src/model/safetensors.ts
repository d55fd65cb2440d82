/**
 * Reader and writer for the safetensors format (https://github.com/huggingface/safetensors):
 *   [u64 little-endian N] [N bytes of UTF-8 JSON header] [byte buffer]
 * The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]} with offsets
 * relative to the start of the byte buffer, plus an optional "__metadata__" of string → string.
 * Files come from other tools, so the reader checks every header field against the file before
 * any tensor is touched; a bad file fails in `open`/`parse` with a ModelFileError naming the
 * problem. Tensor data is little-endian, read through typed-array views, which use the platform
 * byte order: little-endian on every platform this project targets.
 */
import { ModelFileError, ShapeError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../tensor/half-float.js';
import { describeList, describeValue } from '../util/describe-value.js';
import { parseJson } from '../util/parse-json.js';
import { READ_LIMITS, readFileBounded } from '../util/bounded-read.js';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** One tensor's header entry; `begin`/`end` are absolute byte offsets into the file. */
export interface SafetensorsTensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

/** A tensor for the writer: F32 data, stored as `dtype` (default F32). */
export interface TensorToWrite {
  dtype?: 'F32' | 'F16' | 'BF16';
  shape: number[];
  data: Float32Array;
}

/** An integer tensor for the writer, stored as I32. */
export interface I32TensorToWrite {
  dtype: 'I32';
  shape: number[];
  data: Int32Array;
}

const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** The same limit as the reference Rust implementation (MAX_HEADER_SIZE = 100_000_000). */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';

export class SafetensorsFile {
  private constructor(
    /** The path (or label) used in error messages. */
    readonly file: string,
    private readonly bytes: Uint8Array,
    private readonly tensors: Map<string, SafetensorsTensorInfo>,
    readonly metadata: Record<string, string>,
  ) {}

  /** Read and validate a file; all of it is held in memory. */
  static open(path: string): SafetensorsFile {
    const bytes = readFileBounded(path, READ_LIMITS.safetensors, (problem) => new ModelFileError(path, problem));
    return SafetensorsFile.parse(bytes, path);
  }

  /** Validate file bytes already in memory; `label` names the file in error messages. */
  static parse(bytes: Uint8Array, label: string): SafetensorsFile {
    const fail = (problem: string) => new ModelFileError(label, problem);
    if (bytes.length < 8) {
      throw fail(`file is ${bytes.length} bytes, too short for the 8-byte header length`);
    }
    const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
    if (headerLength > BigInt(MAX_HEADER_BYTES)) {
      throw fail(`header length ${headerLength} is over the limit of ${MAX_HEADER_BYTES} bytes`);
    }
    const dataStart = 8 + Number(headerLength);
    if (dataStart > bytes.length) {
      throw fail(`header length ${headerLength} is larger than the ${bytes.length - 8} bytes after the length prefix`);
    }
    const header = parseHeaderJson(bytes.subarray(8, dataStart), fail);
    const dataLength = bytes.length - dataStart;

    let metadata: Record<string, string> = {};
    const tensors: SafetensorsTensorInfo[] = [];
    for (const [name, entry] of Object.entries(header)) {
      if (name === METADATA_KEY) metadata = parseMetadata(entry, fail);
      else tensors.push(parseEntry(name, entry, dataStart, dataLength, fail));
    }
    // Sorted by offset: names() then lists tensors as their data lies in the file.
    tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
    checkNoOverlap(tensors, dataStart, fail);
    return new SafetensorsFile(label, bytes, new Map(tensors.map((t) => [t.name, t])), metadata);
  }

  /** Size of the whole file in bytes. */
  get byteLength(): number {
    return this.bytes.length;
  }

  /** Tensor names in the order of their data in the file. */
  names(): string[] {
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): SafetensorsTensorInfo {
    const t = this.tensors.get(name);
    if (t === undefined) {
      const names = this.names();
      throw new ModelFileError(this.file, `no tensor ${describeValue(name)} (it has ${names.length}: ${describeList(names, 5)})`);
    }
    return t;
  }

  /**
   * A float tensor as F32, flattened row-major. F32 data 4-byte aligned in the file is returned
   * as a view that shares memory with the file bytes (do not write to it); otherwise a copy.
   */
  readF32(name: string): Float32Array {
    const t = this.info(name);
    const count = (t.end - t.begin) / DTYPE_BYTES[t.dtype];
    switch (t.dtype) {
      case 'F32': {
        const at = this.aligned(t, 4);
        return new Float32Array(at.buffer, at.byteOffset, count);
      }
      case 'F16':
      case 'BF16': {
        const at = this.aligned(t, 2);
        const halves = new Uint16Array(at.buffer, at.byteOffset, count);
        return t.dtype === 'F16' ? f16ToF32(halves) : bf16ToF32(halves);
      }
      case 'F64': {
        const at = this.aligned(t, 8);
        return new Float32Array(new Float64Array(at.buffer, at.byteOffset, count));
      }
      default:
        throw new ModelFileError(this.file, `tensor ${describeValue(name)}: dtype ${t.dtype} cannot be read as float`);
    }
  }

  /**
   * A small tensor of any numeric dtype as JS numbers (for scalar buffers such as a TopK SAE's
   * `k`); I64/U64 values beyond 2^53 lose precision.
   */
  readNumbers(name: string): number[] {
    const t = this.info(name);
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + t.begin, t.end - t.begin);
    const size = DTYPE_BYTES[t.dtype];
    const out: number[] = [];
    for (let at = 0; at < view.byteLength; at += size) {
      switch (t.dtype) {
        case 'I64': out.push(Number(view.getBigInt64(at, true))); break;
        case 'I32': out.push(view.getInt32(at, true)); break;
        case 'I16': out.push(view.getInt16(at, true)); break;
        case 'I8': out.push(view.getInt8(at)); break;
        case 'U8': case 'BOOL': out.push(view.getUint8(at)); break;
        case 'F64': out.push(view.getFloat64(at, true)); break;
        case 'F32': out.push(view.getFloat32(at, true)); break;
        default: return [...this.readF32(name)];
      }
    }
    return out;
  }

  /** readF32, after checking that the tensor has exactly `shape`. */
  readF32Checked(name: string, shape: number[]): Float32Array {
    const t = this.info(name);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ModelFileError(
        this.file,
        `tensor ${describeValue(name)} has shape ${describeValue(t.shape)}, expected ${describeValue(shape)}`,
      );
    }
    return this.readF32(name);
  }

  /** The tensor's bytes at an address that is a multiple of `align`: in place if it already is, else copied. */
  private aligned(t: SafetensorsTensorInfo, align: number): { buffer: ArrayBufferLike; byteOffset: number } {
    const byteOffset = this.bytes.byteOffset + t.begin;
    if (byteOffset % align === 0) return { buffer: this.bytes.buffer, byteOffset };
    // A fresh Uint8Array copy; not bytes.slice(), which on a Node Buffer is a view, not a copy.
    return { buffer: new Uint8Array(this.bytes.subarray(t.begin, t.end)).buffer, byteOffset: 0 };
  }
}

/**
 * Serialize tensors (in the order given) as safetensors file bytes, in chunks to be written one
 * after another. F32 and I32 chunks are views on the given data, not copies.
 */
export function serializeSafetensors(
  tensors: Record<string, TensorToWrite | I32TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array[] {
  const entries: [string, unknown][] = metadata === undefined ? [] : [[METADATA_KEY, metadata]];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === METADATA_KEY) throw new UsageError(`a tensor cannot be named ${METADATA_KEY}`);
    const numel = checkedNumel(name, t.shape);
    if (t.data.length !== numel) {
      throw new ShapeError(
        `tensor ${describeValue(name)}: shape ${describeValue(t.shape)} has ${numel} elements, data has ${t.data.length}`,
      );
    }
    const dtype = t.dtype ?? 'F32';
    const data = t.dtype === 'I32' ? new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) : encode(t.data, t.dtype ?? 'F32');
    entries.push([name, { dtype, shape: t.shape, data_offsets: [offset, offset + data.byteLength] }]);
    chunks.push(data);
    offset += data.byteLength;
  }
  // Object.fromEntries defines own properties, so even a name like "__proto__" stays a key.
  const json = new TextEncoder().encode(JSON.stringify(Object.fromEntries(entries)));
  // Pad with spaces (valid JSON whitespace) so the byte buffer starts at a multiple of 8 from
  // the start of the file, as the reference implementation does: 8-byte prefix + 8k header.
  const headerLength = Math.ceil(json.length / 8) * 8;
  const head = new Uint8Array(8 + headerLength).fill(0x20, 8 + json.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(headerLength), true);
  head.set(json, 8);
  return [head, ...chunks];
}

/** Write a safetensors file atomically (see writeFileAtomic). */
export function writeSafetensors(
  path: string,
  tensors: Record<string, TensorToWrite | I32TensorToWrite>,
  metadata?: Record<string, string>,
): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}

function encode(data: Float32Array, dtype: 'F32' | 'F16' | 'BF16'): Uint8Array {
  const typed = dtype === 'F32' ? data : dtype === 'F16' ? f32ToF16(data) : f32ToBf16(data);
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

function checkedNumel(name: string, shape: number[]): number {
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ShapeError(`tensor ${describeValue(name)}: shape ${describeValue(shape)} must be non-negative integers`);
  }
  return shape.reduce((a, b) => a * b, 1);
}

type Fail = (problem: string) => ModelFileError;

function parseHeaderJson(headerBytes: Uint8Array, fail: Fail): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw fail(`header (${headerBytes.length} bytes) is not valid UTF-8`);
  }
  const header = parseJson(text, MAX_HEADER_BYTES, (problem) => fail(`header ${problem}`));
  if (!isPlainObject(header)) {
    throw fail(`header must be a JSON object, got ${describeValue(header)}`);
  }
  return header;
}

function parseMetadata(entry: unknown, fail: Fail): Record<string, string> {
  // null means "no metadata", as it does to the reference reader (an Option in serde).
  if (entry === null) return {};
  if (!isPlainObject(entry)) throw fail(`${METADATA_KEY} must be an object, got ${describeValue(entry)}`);
  for (const [key, value] of Object.entries(entry)) {
    if (typeof value !== 'string') {
      throw fail(`${METADATA_KEY}[${describeValue(key)}] must be a string, got ${describeValue(value)}`);
    }
  }
  return Object.fromEntries(Object.entries(entry)) as Record<string, string>;
}

function parseEntry(name: string, entry: unknown, dataStart: number, dataLength: number, fail: Fail): SafetensorsTensorInfo {
  const what = `tensor ${describeValue(name)}`;
  if (!isPlainObject(entry)) throw fail(`${what}: entry must be an object, got ${describeValue(entry)}`);
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) {
    throw fail(`${what}: unknown dtype ${describeValue(dtype)} (known: ${Object.keys(DTYPE_BYTES).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw fail(`${what}: shape must be an array of non-negative integers, got ${describeValue(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw fail(`${what}: data_offsets must be two non-negative integers [begin, end], got ${describeValue(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw fail(`${what}: data_offsets [${begin}, ${end}] has begin > end`);
  if (end > dataLength) {
    throw fail(
      `truncated: ${what} ends at byte ${end} of the data buffer, but only ${dataLength} bytes are present ` +
        `(file is ${dataStart + dataLength} bytes, expected at least ${dataStart + end})`,
    );
  }
  const size = DTYPE_BYTES[dtype as SafetensorsDtype];
  const numel = (shape as number[]).reduce((a, b) => a * b, 1);
  if (end - begin !== numel * size) {
    throw fail(
      `${what}: data_offsets [${begin}, ${end}] span ${end - begin} bytes, but shape ${describeValue(shape)} ` +
        `of ${dtype} needs ${numel} × ${size} = ${numel * size}`,
    );
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: shape as number[], begin: dataStart + begin, end: dataStart + end };
}

/** Fails if two tensors (sorted by offset) share a byte; offsets in the message are data_offsets. */
function checkNoOverlap(sorted: SafetensorsTensorInfo[], dataStart: number, fail: Fail): void {
  const range = (t: SafetensorsTensorInfo) => `${describeValue(t.name)} [${t.begin - dataStart}, ${t.end - dataStart}]`;
  let previous: SafetensorsTensorInfo | undefined;
  for (const t of sorted) {
    if (t.begin === t.end) continue; // an empty tensor occupies no bytes
    if (previous !== undefined && t.begin < previous.end) {
      throw fail(`tensors overlap: data_offsets of ${range(previous)} and ${range(t)}`);
    }
    previous = t;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
