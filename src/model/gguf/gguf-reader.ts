/**
 * GGUF reader (layout in gguf-types.ts). Files come from other tools and may be truncated or
 * hostile, so every count, length, dimension and offset is checked against the bytes that are
 * actually left before anything is allocated for it; a bad file fails in `open`/`parse` with a
 * ModelFileError naming the problem. Versions 2 and 3 share this layout (version 1 had 32-bit
 * counts and is not read). Tensor data of F32, F16, BF16 and Q8_0 tensors is decoded on request.
 */
import { ModelFileError } from '../../errors.js';
import { bf16ToF32, f16ToF32 } from '../../tensor/half-float.js';
import { dequantizeQ80 } from '../../tensor/q80.js';
import type { Q80Matrix } from '../../tensor/weight-matrix.js';
import { describeValue } from '../../util/describe-value.js';
import { READ_LIMITS, readFileBounded } from '../../util/bounded-read.js';
import type { GgmlType, GgufValue, GgufValueType } from './gguf-types.js';
import {
  GGML_MAX_DIMS,
  GGML_BLOCK,
  GGML_TYPE_NAMES,
  GGUF_ALIGNMENT_KEY,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_SCALAR_BYTES,
  GGUF_VALUE_TYPES,
} from './gguf-types.js';

export interface GgufTensorInfo {
  name: string;
  type: GgmlType;
  /** Dimensions in ggml order (ne[0], the contiguous one, first). */
  shape: number[];
  /** Absolute byte offset of the data in the file, and its length. */
  begin: number;
  bytes: number;
}

/** gguf.md: a tensor name "must be at most 64 bytes long". */
const GGUF_MAX_TENSOR_NAME = 64;
/** Nested arrays deeper than this are refused (gguf.md allows nesting; no real file goes past 2). */
const MAX_ARRAY_DEPTH = 8;
// ignoreBOM: a string that starts with U+FEFF keeps it (Llama-2's vocabulary has the piece "\ufeff").
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class GgufFile {
  private constructor(
    readonly file: string,
    readonly version: number,
    readonly metadata: ReadonlyMap<string, GgufValue>,
    readonly tensors: readonly GgufTensorInfo[],
    readonly alignment: number,
    private readonly bytes: Uint8Array,
  ) {}

  static open(path: string): GgufFile {
    const bytes = readFileBounded(path, READ_LIMITS.gguf, (problem) => new ModelFileError(path, problem));
    return GgufFile.parse(bytes, path);
  }

  /** Parses and validates GGUF bytes; `label` names the source in errors. */
  static parse(bytes: Uint8Array, label: string): GgufFile {
    const c = new Cursor(bytes, label);
    if (bytes.length < 24) throw c.fail(`${bytes.length} bytes is too short for a GGUF header (24 bytes)`);
    if (c.u32() !== GGUF_MAGIC) throw c.fail('not a GGUF file (the first 4 bytes are not "GGUF")');
    const version = c.u32();
    if (version !== 2 && version !== 3) throw c.fail(`GGUF version ${version} is not supported (2 and 3 are)`);
    const tensorCount = c.count('tensor_count', 8 + 4 + 4 + 8);
    const kvCount = c.count('metadata_kv_count', 8 + 4 + 1);

    const metadata = new Map<string, GgufValue>();
    for (let i = 0; i < kvCount; i++) {
      const key = c.string(`metadata key ${i}`);
      if (metadata.has(key)) throw c.fail(`metadata key ${describeValue(key)} appears twice`);
      metadata.set(key, c.value(c.valueType(`metadata ${describeValue(key)}`), key, 0));
    }
    const alignment = readAlignment(metadata, c);

    const infos: { name: string; type: GgmlType; shape: number[]; offset: number; bytes: number }[] = [];
    const names = new Set<string>();
    for (let i = 0; i < tensorCount; i++) {
      const name = c.string(`tensor ${i} name`);
      if (new TextEncoder().encode(name).length > GGUF_MAX_TENSOR_NAME) throw c.fail(`tensor ${i} name ${describeValue(name)} is over gguf.md's ${GGUF_MAX_TENSOR_NAME}-byte limit`);
      if (names.has(name)) throw c.fail(`tensor ${describeValue(name)} appears twice`);
      names.add(name);
      const nDims = c.u32();
      if (nDims < 1 || nDims > GGML_MAX_DIMS) throw c.fail(`tensor ${describeValue(name)} has ${nDims} dimensions (1..${GGML_MAX_DIMS} allowed)`);
      const shape: number[] = [];
      let numel = 1;
      for (let d = 0; d < nDims; d++) {
        const n = c.u64(`tensor ${describeValue(name)} dimension ${d}`);
        numel *= n;
        if (!Number.isSafeInteger(numel)) throw c.fail(`tensor ${describeValue(name)} has too many elements`);
        shape.push(n);
      }
      const typeId = c.u32();
      const type = GGML_TYPE_NAMES[typeId];
      if (type === undefined) throw c.fail(`tensor ${describeValue(name)} has ggml type ${typeId}; only F32 (0), F16 (1), Q8_0 (8) and BF16 (30) are read`);
      const block = GGML_BLOCK[type];
      if (shape[0] % block.values !== 0) throw c.fail(`tensor ${describeValue(name)} is ${type} but its row length ${shape[0]} is not a multiple of the ${block.values}-value block`);
      const offset = c.u64(`tensor ${describeValue(name)} offset`);
      if (offset % alignment !== 0) throw c.fail(`tensor ${describeValue(name)} offset ${offset} is not a multiple of the alignment ${alignment}`);
      infos.push({ name, type, shape, offset, bytes: (numel / block.values) * block.bytes });
    }

    const dataStart = Math.ceil(c.at / alignment) * alignment;
    const dataLength = bytes.length - dataStart;
    const tensors = infos.map((t) => {
      if (t.offset + t.bytes > dataLength) {
        throw c.fail(`truncated: tensor ${describeValue(t.name)} needs bytes ${t.offset}..${t.offset + t.bytes} of the data section, which has ${Math.max(0, dataLength)}`);
      }
      return { name: t.name, type: t.type, shape: t.shape, begin: dataStart + t.offset, bytes: t.bytes };
    });
    checkNoOverlap(tensors, c);
    return new GgufFile(label, version, metadata, tensors, alignment, bytes);
  }

  /** Size of the whole file in bytes. */
  get byteLength(): number {
    return this.bytes.length;
  }

  tensor(name: string): GgufTensorInfo | undefined {
    return this.tensors.find((t) => t.name === name);
  }

  /** A tensor's data as float32 (F16 and BF16 are widened exactly, Q8_0 dequantised); a copy, independent of the file bytes. */
  readF32(name: string): Float32Array {
    const t = this.info(name);
    if (t.type === 'Q8_0') return dequantizeQ80(this.readQ80(name));
    const raw = this.copy(t);
    if (t.type === 'F32') return new Float32Array(raw.buffer);
    return t.type === 'F16' ? f16ToF32(new Uint16Array(raw.buffer)) : bf16ToF32(new Uint16Array(raw.buffer));
  }

  /** A Q8_0 tensor as a [rows, ne[0]] Q8_0 matrix in groups of 32 (its fp16 block scales widened to fp32). */
  readQ80(name: string): Q80Matrix {
    const t = this.info(name);
    if (t.type !== 'Q8_0') throw new ModelFileError(this.file, `tensor ${describeValue(name)} is ${t.type}, not Q8_0`);
    const cols = t.shape[0];
    const rows = t.shape.slice(1).reduce((a, b) => a * b, 1);
    const { values, bytes } = GGML_BLOCK.Q8_0;
    const blocks = (rows * cols) / values;
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + t.begin, t.bytes);
    const src = new Int8Array(this.bytes.buffer, this.bytes.byteOffset + t.begin, t.bytes);
    const halves = new Uint16Array(blocks);
    const q = new Int8Array(rows * cols);
    for (let b = 0; b < blocks; b++) {
      halves[b] = view.getUint16(b * bytes, true);
      for (let j = 0, from = b * bytes + 2, to = b * values; j < values; j++) q[to + j] = src[from + j];
    }
    return { kind: 'q8_0', rows, cols, groupSize: values, q, scales: f16ToF32(halves) };
  }

  private info(name: string): GgufTensorInfo {
    const t = this.tensor(name);
    if (t === undefined) throw new ModelFileError(this.file, `has no tensor ${describeValue(name)}`);
    return t;
  }

  /**
   * The tensor's bytes in a fresh buffer: the data offset is a multiple of the alignment inside the
   * file, but the file's bytes may start anywhere in their buffer (readFileSync pools small files),
   * so a typed-array view could be misaligned. (Buffer#slice would be a view, hence set().)
   */
  private copy(t: GgufTensorInfo): Uint8Array {
    const raw = new Uint8Array(t.bytes);
    raw.set(this.bytes.subarray(t.begin, t.begin + t.bytes));
    return raw;
  }
}

function readAlignment(metadata: Map<string, GgufValue>, c: Cursor): number {
  const v = metadata.get(GGUF_ALIGNMENT_KEY);
  if (v === undefined) return GGUF_DEFAULT_ALIGNMENT;
  // gguf.md: a uint32, and ggml's loader also requires a power of two.
  if (v.type !== 'uint32' || v.value === 0 || (v.value & (v.value - 1)) !== 0) {
    throw c.fail(`${GGUF_ALIGNMENT_KEY} must be a power-of-two uint32, got ${v.type} ${v.type === 'string' ? describeValue(v.value) : String('value' in v ? v.value : '[array]')}`);
  }
  return v.value;
}

function checkNoOverlap(tensors: GgufTensorInfo[], c: Cursor): void {
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    if (sorted[i].begin < prev.begin + prev.bytes) throw c.fail(`tensors ${describeValue(prev.name)} and ${describeValue(sorted[i].name)} overlap`);
  }
}

/** Reads little-endian fields, failing (never reading past the end) when the bytes run out. */
class Cursor {
  at = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly label: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(problem: string): ModelFileError {
    return new ModelFileError(this.label, problem);
  }

  private need(n: number, what: string): void {
    if (this.at + n > this.bytes.length) throw this.fail(`truncated: ${what} at byte ${this.at} needs ${n} bytes, ${this.bytes.length - this.at} left`);
  }

  u32(): number {
    this.need(4, 'a u32');
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }

  /** A u64 size or offset, which must fit a JavaScript number exactly. */
  u64(what: string): number {
    this.need(8, what);
    const v = this.view.getBigUint64(this.at, true);
    this.at += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.fail(`${what} is ${v}, larger than any file`);
    return Number(v);
  }

  /** A count of items that each take at least `minBytes`: more than the bytes left can hold is a lie. */
  count(what: string, minBytes: number): number {
    const n = this.u64(what);
    if (n * minBytes > this.bytes.length - this.at) throw this.fail(`${what} ${n} cannot fit in the ${this.bytes.length - this.at} bytes left`);
    return n;
  }

  string(what: string): string {
    const n = this.u64(`${what} length`);
    this.need(n, what);
    let s: string;
    try {
      s = utf8.decode(this.bytes.subarray(this.at, this.at + n));
    } catch {
      throw this.fail(`${what} is not valid UTF-8`);
    }
    this.at += n;
    return s;
  }

  valueType(what: string): GgufValueType {
    const id = this.u32();
    const type = GGUF_VALUE_TYPES[id];
    if (type === undefined) throw this.fail(`${what} has unknown value type ${id}`);
    return type;
  }

  value(type: GgufValueType, key: string, depth: number): GgufValue {
    const v = this.view;
    const size = GGUF_SCALAR_BYTES[type];
    if (size !== undefined) this.need(size, `metadata ${describeValue(key)}`);
    const at = this.at;
    this.at += size ?? 0;
    switch (type) {
      case 'uint8':
        return { type, value: v.getUint8(at) };
      case 'int8':
        return { type, value: v.getInt8(at) };
      case 'uint16':
        return { type, value: v.getUint16(at, true) };
      case 'int16':
        return { type, value: v.getInt16(at, true) };
      case 'uint32':
        return { type, value: v.getUint32(at, true) };
      case 'int32':
        return { type, value: v.getInt32(at, true) };
      case 'float32':
        return { type, value: v.getFloat32(at, true) };
      case 'float64':
        return { type, value: v.getFloat64(at, true) };
      case 'uint64':
        return { type, value: v.getBigUint64(at, true) };
      case 'int64':
        return { type, value: v.getBigInt64(at, true) };
      case 'bool': {
        const b = v.getUint8(at);
        if (b > 1) throw this.fail(`metadata ${describeValue(key)} is a bool holding ${b}`);
        return { type, value: b === 1 };
      }
      case 'string':
        return { type, value: this.string(`metadata ${describeValue(key)}`) };
      case 'array': {
        if (depth >= MAX_ARRAY_DEPTH) throw this.fail(`metadata ${describeValue(key)} nests arrays deeper than ${MAX_ARRAY_DEPTH}`);
        const itemType = this.valueType(`metadata ${describeValue(key)} items`);
        // Each string takes at least its 8-byte length, each array its 12-byte type and count.
        const minBytes = GGUF_SCALAR_BYTES[itemType] ?? (itemType === 'string' ? 8 : 12);
        const n = this.count(`metadata ${describeValue(key)} array length`, minBytes);
        const items: GgufValue[] = new Array(n);
        for (let i = 0; i < n; i++) items[i] = this.value(itemType, key, depth + 1);
        return { type, itemType, items };
      }
    }
  }
}
