/**
 * GGUF version 3 writer (layout in gguf-types.ts): metadata in the order given, F32, F16, BF16 or Q8_0 tensors, each
 * tensor's data padded to the alignment (`general.alignment` when the metadata sets it, else 32),
 * as gguf-py's GGUFWriter lays files out.
 */
import { ShapeError, UsageError } from '../../errors.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { describeValue } from '../../util/describe-value.js';
import type { GgufValue } from './gguf-types.js';
import { f32ToBf16, f32ToF16 } from '../../tensor/half-float.js';
import type { GgmlType } from './gguf-types.js';
import { GGML_BLOCK, GGML_MAX_DIMS, GGML_TYPE_IDS, GGUF_ALIGNMENT_KEY, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VALUE_TYPES, GGUF_VERSION } from './gguf-types.js';

export interface GgufTensorToWrite {
  name: string;
  /** Dimensions in ggml order (ne[0], the contiguous one, first). */
  shape: number[];
  data: Float32Array;
  /** How the data is stored (default F32; F16 and BF16 round to nearest even; Q8_0 as ggml's quantize_row_q8_0_ref). */
  dtype?: GgmlType;
}

/** The file's bytes, as chunks to be written one after another (F32 tensor data are views, not copies). */
export function serializeGguf(metadata: readonly (readonly [string, GgufValue])[], tensors: readonly GgufTensorToWrite[]): Uint8Array[] {
  const alignment = alignmentOf(metadata);
  const head = new ByteSink();
  head.u32(GGUF_MAGIC);
  head.u32(GGUF_VERSION);
  head.u64(tensors.length);
  head.u64(metadata.length);
  const keys = new Set<string>();
  for (const [key, value] of metadata) {
    if (keys.has(key)) throw new UsageError(`GGUF metadata key ${describeValue(key)} given twice`);
    keys.add(key);
    head.string(key);
    head.u32(GGUF_VALUE_TYPES.indexOf(value.type));
    head.value(value);
  }
  const names = new Set<string>();
  let offset = 0;
  const padded: number[] = [];
  const stored: Uint8Array[] = [];
  for (const t of tensors) {
    if (names.has(t.name)) throw new UsageError(`GGUF tensor ${describeValue(t.name)} given twice`);
    names.add(t.name);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (t.shape.length < 1 || t.shape.length > GGML_MAX_DIMS || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || numel !== t.data.length) {
      throw new ShapeError(`GGUF tensor ${describeValue(t.name)}: shape [${t.shape.join(', ')}] does not fit ${t.data.length} values in 1..${GGML_MAX_DIMS} dimensions`);
    }
    head.string(t.name);
    head.u32(t.shape.length);
    for (const d of t.shape) head.u64(d);
    head.u32(GGML_TYPE_IDS[t.dtype ?? 'F32']);
    head.u64(offset);
    if (t.dtype === 'Q8_0' && t.shape[0] % GGML_BLOCK.Q8_0.values !== 0) throw new ShapeError(`GGUF tensor ${describeValue(t.name)}: Q8_0 needs a row length (ne[0] = ${t.shape[0]}) that is a multiple of 32`);
    const data = t.dtype === 'F16' ? f32ToF16(t.data) : t.dtype === 'BF16' ? f32ToBf16(t.data) : t.dtype === 'Q8_0' ? encodeQ80(t.data) : t.data;
    stored.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    const size = Math.ceil(data.byteLength / alignment) * alignment;
    padded.push(size - data.byteLength);
    offset += size;
  }
  const chunks = [head.bytes(alignment)];
  stored.forEach((data, i) => {
    chunks.push(data);
    if (padded[i] > 0) chunks.push(new Uint8Array(padded[i]));
  });
  return chunks;
}

/** Writes a GGUF file atomically (see writeFileAtomic). */
export function writeGguf(path: string, metadata: readonly (readonly [string, GgufValue])[], tensors: readonly GgufTensorToWrite[]): void {
  writeFileAtomic(path, serializeGguf(metadata, tensors));
}

/**
 * ggml-quants.c quantize_row_q8_0_ref: per block of 32, d = max|x| / 127 stored as fp16, then
 * q = roundf(x / d) (ties away from zero), computed with d's float32 value before it is rounded to fp16.
 */
function encodeQ80(x: Float32Array): Uint8Array {
  const { values, bytes } = GGML_BLOCK.Q8_0;
  const out = new Uint8Array((x.length / values) * bytes);
  const view = new DataView(out.buffer);
  const one = new Float32Array(1);
  for (let b = 0; b < x.length / values; b++) {
    let amax = 0;
    for (let j = 0; j < values; j++) amax = Math.max(amax, Math.abs(x[b * values + j]));
    const d = Math.fround(amax / 127);
    const id = d ? Math.fround(1 / d) : 0;
    one[0] = d;
    view.setUint16(b * bytes, f32ToF16(one)[0], true);
    for (let j = 0; j < values; j++) {
      const v = Math.fround(x[b * values + j] * id);
      view.setInt8(b * bytes + 2 + j, Math.sign(v) * Math.round(Math.abs(v)));
    }
  }
  return out;
}

function alignmentOf(metadata: readonly (readonly [string, GgufValue])[]): number {
  const v = metadata.find(([k]) => k === GGUF_ALIGNMENT_KEY)?.[1];
  if (v === undefined) return GGUF_DEFAULT_ALIGNMENT;
  if (v.type !== 'uint32' || v.value === 0 || (v.value & (v.value - 1)) !== 0) throw new UsageError(`${GGUF_ALIGNMENT_KEY} must be a power-of-two uint32`);
  return v.value;
}

const INTEGER_RANGES: Partial<Record<string, [number, number]>> = {
  uint8: [0, 0xff], int8: [-0x80, 0x7f], uint16: [0, 0xffff], int16: [-0x8000, 0x7fff], uint32: [0, 0xffffffff], int32: [-0x80000000, 0x7fffffff],
};
const BIGINT_RANGES: Record<string, [bigint, bigint]> = { uint64: [0n, 2n ** 64n - 1n], int64: [-(2n ** 63n), 2n ** 63n - 1n] };

/** DataView setters wrap out-of-range integers silently; a value that does not fit its type is a caller's mistake. */
function checkRange(v: GgufValue): void {
  let fits = true;
  if (v.type === 'uint64' || v.type === 'int64') {
    const [lo, hi] = BIGINT_RANGES[v.type];
    fits = v.value >= lo && v.value <= hi;
  } else if (v.type !== 'array' && typeof v.value === 'number') {
    const range = INTEGER_RANGES[v.type]; // floats have none
    if (range) fits = Number.isInteger(v.value) && v.value >= range[0] && v.value <= range[1];
  }
  if (!fits) throw new UsageError(`GGUF ${v.type} cannot hold ${String((v as { value: unknown }).value)}`);
}

/** A growable little-endian byte buffer for the header. */
class ByteSink {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private at = 0;

  /** Reserves n bytes and fills them; the view is read after reserving, which may replace the buffer. */
  private put(n: number, write: (view: DataView, at: number) => void): void {
    const at = this.reserve(n);
    write(this.view, at);
  }

  private reserve(n: number): number {
    if (this.at + n > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
      grown.set(this.buf);
      this.buf = grown;
      this.view = new DataView(grown.buffer);
    }
    const at = this.at;
    this.at += n;
    return at;
  }

  u32(v: number): void {
    this.put(4, (d, at) => d.setUint32(at, v, true));
  }

  u64(v: number | bigint): void {
    this.put(8, (d, at) => d.setBigUint64(at, BigInt(v), true));
  }

  string(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    const at = this.reserve(b.length); // before `this.buf` is read: reserving may replace it
    this.buf.set(b, at);
  }

  value(v: GgufValue): void {
    checkRange(v);
    switch (v.type) {
      case 'uint8':
        return this.put(1, (d, at) => d.setUint8(at, v.value));
      case 'int8':
        return this.put(1, (d, at) => d.setInt8(at, v.value));
      case 'uint16':
        return this.put(2, (d, at) => d.setUint16(at, v.value, true));
      case 'int16':
        return this.put(2, (d, at) => d.setInt16(at, v.value, true));
      case 'uint32':
        return this.put(4, (d, at) => d.setUint32(at, v.value, true));
      case 'int32':
        return this.put(4, (d, at) => d.setInt32(at, v.value, true));
      case 'float32':
        return this.put(4, (d, at) => d.setFloat32(at, v.value, true));
      case 'float64':
        return this.put(8, (d, at) => d.setFloat64(at, v.value, true));
      case 'uint64':
        return this.put(8, (d, at) => d.setBigUint64(at, v.value, true));
      case 'int64':
        return this.put(8, (d, at) => d.setBigInt64(at, v.value, true));
      case 'bool':
        return this.put(1, (d, at) => d.setUint8(at, v.value ? 1 : 0));
      case 'string':
        return this.string(v.value);
      case 'array':
        this.u32(GGUF_VALUE_TYPES.indexOf(v.itemType));
        this.u64(v.items.length);
        for (const item of v.items) {
          if (item.type !== v.itemType) throw new UsageError(`GGUF array of ${v.itemType} holds a ${item.type}`);
          this.value(item);
        }
    }
  }

  /** The bytes written so far, zero-padded to a multiple of `alignment` (where the data section starts). */
  bytes(alignment: number): Uint8Array {
    const end = Math.ceil(this.at / alignment) * alignment;
    const out = new Uint8Array(end);
    out.set(this.buf.subarray(0, this.at));
    return out;
  }
}
