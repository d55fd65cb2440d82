/**
 * Mutations of a valid binary file: what corruption, truncation and hostile edits do to real files.
 * Each input stacks one to three of them. A target names its header fields (sizes, counts,
 * offsets, lengths) so that the "huge or negative size" mutations hit those fields often instead
 * of a random byte; where a file has float data, NaN and Inf are written into it.
 */
import type { FuzzRng } from './fuzz-rng.js';

/** A little-endian (or `be`) integer field of the file: a size, count, offset or length. */
export interface IntField {
  at: number;
  bytes: 1 | 2 | 4 | 8;
  be?: boolean;
}

export interface ByteHints {
  fields?: readonly IntField[];
  /** Where float32 data starts (NaN/Inf go at or after it); default: anywhere. */
  floatsFrom?: number;
}

export interface Mutated {
  bytes: Uint8Array;
  /** What was done, for the report ("bitflip 3; int32 @28 = -1"). */
  how: string;
}

type Mutator = (b: Uint8Array, rng: FuzzRng, hints: ByteHints) => { bytes: Uint8Array; how: string };

/**
 * Values that break size arithmetic: zero, one, the sign bit, all ones, just past 2^31, 2^32 and
 * 2^53; and the largest that range checks commonly let through (2^16, 2^24), which must still be
 * checked against the file before anything of that size is allocated.
 */
function interestingValue(rng: FuzzRng, bytes: number, fileLength: number, old: bigint): bigint {
  const bits = BigInt(8 * bytes);
  const max = (1n << bits) - 1n;
  const candidates = [0n, 1n, max, max >> 1n, (max >> 1n) + 1n, old + 1n, old - 1n, old * 2n, old * 256n, BigInt(fileLength), BigInt(fileLength) + 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 1n << 16n, 1n << 24n, (1n << 24n) - 1n, 1n << 53n, (1n << 53n) + 1n, 1n << 62n];
  const v = rng.chance(0.8) ? rng.pick(candidates) : BigInt(rng.int(2 ** 30)) * BigInt(rng.int(2 ** 20) + 1);
  return ((v % (max + 1n)) + max + 1n) % (max + 1n); // wrapped into the field, negatives as two's complement
}

function readField(b: Uint8Array, f: IntField): bigint {
  let v = 0n;
  for (let i = 0; i < f.bytes; i++) v |= BigInt(b[f.at + (f.be ? f.bytes - 1 - i : i)]) << BigInt(8 * i);
  return v;
}

function writeField(b: Uint8Array, f: IntField, v: bigint): void {
  for (let i = 0; i < f.bytes; i++) b[f.at + (f.be ? f.bytes - 1 - i : i)] = Number((v >> BigInt(8 * i)) & 0xffn);
}

const flipBits: Mutator = (b, rng) => {
  const out = b.slice();
  const n = rng.range(1, 8);
  for (let i = 0; i < n && out.length > 0; i++) out[rng.int(out.length)] ^= 1 << rng.int(8);
  return { bytes: out, how: `flip ${n} bits` };
};

const setBytes: Mutator = (b, rng) => {
  const out = b.slice();
  const n = rng.range(1, 4);
  for (let i = 0; i < n && out.length > 0; i++) out[rng.int(out.length)] = rng.pick([0x00, 0xff, 0x7f, 0x80, 0x01, 0x20, 0x22, 0x5b, 0x7b]);
  return { bytes: out, how: `set ${n} bytes` };
};

const truncate: Mutator = (b, rng) => {
  const at = rng.chance(0.3) ? rng.int(Math.min(b.length, 300)) : rng.int(b.length);
  return { bytes: b.slice(0, at), how: `truncate to ${at}` };
};

const extend: Mutator = (b, rng) => {
  const extra = rng.chance(0.5) ? rng.bytes(rng.range(1, 64)) : b.slice(rng.int(b.length));
  const out = new Uint8Array(b.length + extra.length);
  out.set(b);
  out.set(extra, b.length);
  return { bytes: out, how: `append ${extra.length} bytes` };
};

const sizeField: Mutator = (b, rng, hints) => {
  const fields = (hints.fields ?? []).filter((f) => f.at + f.bytes <= b.length);
  const f: IntField = fields.length > 0 && rng.chance(0.85) ? rng.pick(fields) : randomField(b, rng);
  if (f.at + f.bytes > b.length) return flipBits(b, rng, hints);
  const out = b.slice();
  const v = interestingValue(rng, f.bytes, b.length, readField(b, f));
  writeField(out, f, v);
  return { bytes: out, how: `u${8 * f.bytes} @${f.at} = ${v}` };
};

function randomField(b: Uint8Array, rng: FuzzRng): IntField {
  const bytes = rng.pick([1, 2, 4, 8] as const);
  const span = Math.max(1, Math.floor(Math.min(b.length, 512) / bytes));
  return { at: rng.int(span) * bytes, bytes };
}

const nonFinite: Mutator = (b, rng, hints) => {
  const from = Math.min(hints.floatsFrom ?? 0, b.length);
  const slots = Math.floor((b.length - from) / 4);
  if (slots === 0) return flipBits(b, rng, hints);
  const out = b.slice();
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const value = rng.pick([NaN, Infinity, -Infinity, 3.4e38, -0, 1e-45]);
  const n = rng.range(1, 3);
  for (let i = 0; i < n; i++) view.setFloat32(from + 4 * rng.int(slots), value, true);
  return { bytes: out, how: `${n} × f32 ${value}` };
};

const swapChunks: Mutator = (b, rng) => {
  if (b.length < 8) return truncate(b, rng, {});
  const len = rng.range(1, Math.min(64, b.length >> 1));
  const i = rng.int(b.length - len);
  const j = rng.int(b.length - len);
  const out = b.slice();
  out.set(b.subarray(i, i + len), j);
  out.set(b.subarray(j, j + len), i);
  return { bytes: out, how: `swap ${len} bytes @${i} @${j}` };
};

const MUTATORS: readonly [Mutator, number][] = [
  [flipBits, 3],
  [setBytes, 2],
  [truncate, 2],
  [extend, 1],
  [sizeField, 4],
  [nonFinite, 2],
  [swapChunks, 1],
];
const TOTAL_WEIGHT = MUTATORS.reduce((s, [, w]) => s + w, 0);

/** One to three stacked mutations of `bytes` (never modified in place). */
export function mutateBytes(bytes: Uint8Array, rng: FuzzRng, hints: ByteHints = {}): Mutated {
  let out = bytes;
  const hows: string[] = [];
  const n = rng.chance(0.6) ? 1 : rng.range(2, 3);
  for (let i = 0; i < n; i++) {
    let r = rng.int(TOTAL_WEIGHT);
    const [m] = MUTATORS.find(([, w]) => (r -= w) < 0)!;
    const step = m(out, rng, hints);
    out = step.bytes;
    hows.push(step.how);
  }
  return { bytes: out, how: hows.join('; ') };
}
