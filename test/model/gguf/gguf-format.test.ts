import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gguf } from '@huggingface/gguf';
import { ModelFileError } from '../../../src/errors.js';
import { GgufFile } from '../../../src/model/gguf/gguf-reader.js';
import type { GgufValue } from '../../../src/model/gguf/gguf-types.js';
import { serializeGguf, writeGguf } from '../../../src/model/gguf/gguf-writer.js';
import { f32ToF16 } from '../../../src/tensor/half-float.js';

const concat = (chunks: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) (out.set(c, at), (at += c.length));
  return out;
};

// A hand encoder for test files, independent of the writer under test.
const u32 = (v: number): Uint8Array => new Uint8Array(Uint32Array.of(v).buffer);
const u64 = (v: number | bigint): Uint8Array => new Uint8Array(BigUint64Array.of(BigInt(v)).buffer);
const str = (s: string): Uint8Array => {
  const b = new TextEncoder().encode(s);
  return concat([u64(b.length), b]);
};
const header = (tensors: number | bigint, kvs: number | bigint): Uint8Array => concat([new TextEncoder().encode('GGUF'), u32(3), u64(tensors), u64(kvs)]);
const tensorInfo = (name: string, dims: number[], type: number, offset: number): Uint8Array => concat([str(name), u32(dims.length), ...dims.map(u64), u32(type), u64(offset)]);
const padTo = (b: Uint8Array, align: number): Uint8Array => concat([b, new Uint8Array((align - (b.length % align)) % align)]);

/** Every value type, nested arrays included, and a custom alignment. */
const METADATA: [string, GgufValue][] = [
  ['general.architecture', { type: 'string', value: 'controlvector' }],
  ['general.alignment', { type: 'uint32', value: 64 }],
  ['t.u8', { type: 'uint8', value: 255 }],
  ['t.i8', { type: 'int8', value: -128 }],
  ['t.u16', { type: 'uint16', value: 65535 }],
  ['t.i16', { type: 'int16', value: -32768 }],
  ['t.i32', { type: 'int32', value: -7 }],
  ['t.f32', { type: 'float32', value: 0.5 }],
  ['t.f64', { type: 'float64', value: Math.PI }],
  ['t.u64', { type: 'uint64', value: 2n ** 63n + 5n }],
  ['t.i64', { type: 'int64', value: -(2n ** 62n) }],
  ['t.bool', { type: 'bool', value: true }],
  ['t.utf8', { type: 'string', value: 'héllo ✓' }],
  ['t.strings', { type: 'array', itemType: 'string', items: [{ type: 'string', value: 'a' }, { type: 'string', value: '' }] }],
  ['t.ints', { type: 'array', itemType: 'int32', items: [1, -2, 3].map((value) => ({ type: 'int32' as const, value })) }],
  ['t.nested', { type: 'array', itemType: 'array', items: [{ type: 'array', itemType: 'uint8', items: [{ type: 'uint8', value: 9 }] }] }],
];
const A = Float32Array.from({ length: 5 }, (_, i) => i - 2.5);
const B = Float32Array.from({ length: 6 }, (_, i) => i * 0.25);

function withTempDir(fn: (dir: string) => Promise<void> | void): Promise<void> | void {
  const dir = mkdtempSync(join(tmpdir(), 'tinymorph-gguf-'));
  const done = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    const r = fn(dir);
    if (r instanceof Promise) return r.finally(done);
    done();
  } catch (e) {
    done();
    throw e;
  }
}

function assertFileError(bytes: Uint8Array, ...parts: string[]): void {
  assert.throws(
    () => GgufFile.parse(bytes, 'bad.gguf'),
    (err: unknown) => {
      assert.ok(err instanceof ModelFileError, `expected a ModelFileError, got ${String(err)}`);
      assert.ok(err.message.startsWith('bad.gguf: '), err.message);
      for (const p of parts) assert.ok(err.message.includes(p), `"${p}" missing from: ${err.message}`);
      return true;
    },
  );
}

test('GGUF round trip: every metadata type, nested arrays, custom alignment, 1-D and 2-D F32 tensors', () =>
  withTempDir((dir) => {
    const path = join(dir, 'x.gguf');
    writeGguf(path, METADATA, [
      { name: 'a', shape: [5], data: A },
      { name: 'b', shape: [3, 2], data: B },
    ]);
    const f = GgufFile.open(path);
    assert.equal(f.version, 3);
    assert.equal(f.alignment, 64);
    assert.deepEqual([...f.metadata], METADATA);
    assert.deepEqual(f.tensors.map((t) => [t.name, t.type, t.shape]), [['a', 'F32', [5]], ['b', 'F32', [3, 2]]]);
    for (const t of f.tensors) assert.equal(t.begin % 64, 0);
    assert.deepEqual(f.readF32('a'), A);
    assert.deepEqual(f.readF32('b'), B);
  }));

test('@huggingface/gguf (an independent parser) reads our file: metadata, tensor infos and data offset', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'x.gguf');
    writeGguf(path, METADATA, [
      { name: 'a', shape: [5], data: A },
      { name: 'b', shape: [3, 2], data: B },
    ]);
    const theirs = await gguf(path, { allowLocalFile: true });
    const m = theirs.metadata as unknown as Record<string, unknown>;
    assert.equal(m.version, 3);
    assert.equal(m['general.architecture'], 'controlvector');
    assert.equal(m['general.alignment'], 64);
    assert.equal(m['t.i8'], -128);
    assert.equal(m['t.f64'], Math.PI);
    assert.equal(m['t.u64'], 2n ** 63n + 5n);
    assert.equal(m['t.bool'], true);
    assert.equal(m['t.utf8'], 'héllo ✓');
    assert.deepEqual(m['t.strings'], ['a', '']);
    assert.deepEqual(m['t.ints'], [1, -2, 3]);
    assert.deepEqual(theirs.tensorInfos.map((t) => [t.name, t.shape, t.dtype, t.offset]), [
      ['a', [5n], 0, 0n],
      ['b', [3n, 2n], 0, 64n],
    ]);
    const ours = GgufFile.open(path);
    assert.equal(Number(theirs.tensorDataOffset), ours.tensors[0].begin);
  }));

test('GGUF reader decodes F16 tensors exactly (file laid out by hand)', () => {
  const values = Float32Array.of(1, -2, 0.5, 65504, 2 ** -24);
  const f16 = f32ToF16(values);
  const head = padTo(concat([header(1, 0), tensorInfo('h', [5], 1, 0)]), 32);
  const f = GgufFile.parse(concat([head, new Uint8Array(f16.buffer)]), 'h.gguf');
  assert.equal(f.tensors[0].type, 'F16');
  assert.deepEqual(f.readF32('h'), values);
});

test('GGUF reader accepts a file laid out by hand (independent of our writer)', () => {
  const head = padTo(concat([header(1, 1), str('general.architecture'), u32(8), str('controlvector'), tensorInfo('direction.1', [2], 0, 0)]), 32);
  const f = GgufFile.parse(concat([head, new Uint8Array(Float32Array.of(3, 4).buffer)]), 'x.gguf');
  assert.deepEqual(f.metadata.get('general.architecture'), { type: 'string', value: 'controlvector' });
  assert.deepEqual(f.readF32('direction.1'), Float32Array.of(3, 4));
});

test('hostile GGUF headers fail with a ModelFileError naming the problem, before allocating', () => {
  assertFileError(new Uint8Array(10), 'too short');
  assertFileError(concat([new TextEncoder().encode('GGML'), u32(3), u64(0), u64(0)]), 'not a GGUF file');
  assertFileError(concat([new TextEncoder().encode('GGUF'), u32(1), u64(0), u64(0)]), 'version 1');
  assertFileError(header(2n ** 40n, 0), 'tensor_count', 'cannot fit');
  assertFileError(header(0, 2n ** 63n), 'metadata_kv_count', 'larger than any file');
  assertFileError(concat([header(0, 1), u64(2n ** 50n), new Uint8Array(16)]), 'metadata key 0', 'needs 1125899906842624 bytes');
  assertFileError(concat([header(0, 1), u64(100), new Uint8Array(16)]), 'truncated');
  assertFileError(concat([header(0, 1), str('k'), u32(13), new Uint8Array(8)]), 'unknown value type 13');
  assertFileError(concat([header(0, 1), str('k'), u32(9), u32(4), u64(2n ** 40n), new Uint8Array(8)]), 'array length', 'cannot fit');
  assertFileError(concat([header(0, 1), str('k'), u32(7), new Uint8Array([2])]), 'bool holding 2');
  assertFileError(concat([header(0, 1), u64(2), new Uint8Array([0xff, 0xfe]), u32(4), u32(0)]), 'not valid UTF-8');
  assertFileError(concat([header(0, 2), str('k'), u32(4), u32(1), str('k'), u32(4), u32(1)]), '"k" appears twice');
  assertFileError(concat([header(0, 1), str('general.alignment'), u32(4), u32(24)]), 'power-of-two');
  // Nested arrays deeper than any real file: refused rather than recursed into.
  const deep = concat([header(0, 1), str('k'), u32(9), ...Array.from({ length: 20 }, () => concat([u32(9), u64(1)])), new Uint8Array(64)]);
  assertFileError(deep, 'nests arrays deeper');
});

test('hostile tensor infos: dimensions, types, offsets and sizes are checked against the file', () => {
  const file = (info: Uint8Array, data = 16): Uint8Array => concat([padTo(concat([header(1, 0), info]), 32), new Uint8Array(data)]);
  assertFileError(file(tensorInfo('t', [], 0, 0)), '0 dimensions');
  assertFileError(file(tensorInfo('t', [1, 1, 1, 1, 1], 0, 0)), '5 dimensions');
  assertFileError(file(tensorInfo('t', [4], 2, 0)), 'ggml type 2'); // Q4_0: not read
  assertFileError(file(tensorInfo('t', [4], 8, 0)), 'Q8_0', 'row length 4 is not a multiple of the 32-value block');
  assertFileError(file(tensorInfo('t', [4], 0, 3)), 'not a multiple of the alignment');
  assertFileError(file(tensorInfo('t', [5], 0, 0)), 'truncated', 'needs bytes 0..20');
  assertFileError(file(tensorInfo('t', [2 ** 30, 2 ** 30, 2 ** 30], 0, 0)), 'too many elements');
  assertFileError(file(concat([str('t'), u32(1), u64(2n ** 60n), u32(0), u64(0)])), 'larger than any file');
  const two = concat([padTo(concat([header(2, 0), tensorInfo('a', [8], 0, 0), tensorInfo('b', [8], 0, 0)]), 32), new Uint8Array(64)]);
  assertFileError(two, 'overlap');
  const dup = concat([padTo(concat([header(2, 0), tensorInfo('a', [1], 0, 0), tensorInfo('a', [1], 0, 32)]), 32), new Uint8Array(64)]);
  assertFileError(dup, '"a" appears twice');
});

test('names from the file are cut short in messages; a tensor name over gguf.md\'s 64 bytes is refused', () => {
  const long = 'k'.repeat(100_000);
  const oneLine = (bytes: Uint8Array, pattern: RegExp) =>
    assert.throws(() => GgufFile.parse(bytes, 'x.gguf'), (e: unknown) => e instanceof ModelFileError && pattern.test(e.message) && e.message.length < 300);
  oneLine(concat([header(0, 1), str(long), u32(7), new Uint8Array([2])]), /metadata "k+… is a bool holding 2/);
  oneLine(concat([header(0, 1), str('general.alignment'), u32(8), str(long)]), /power-of-two uint32, got string "k+…/);
  oneLine(concat([padTo(concat([header(1, 0), tensorInfo('t'.repeat(65), [1], 0, 0)]), 32), new Uint8Array(16)]), /tensor 0 name "t{65}" is over gguf\.md's 64-byte limit/);
  assert.equal(GgufFile.parse(concat([padTo(concat([header(1, 0), tensorInfo('t'.repeat(64), [1], 0, 0)]), 32), new Uint8Array(32)]), 'x.gguf').tensors[0].name.length, 64);
});

test('every truncation and 2000 random byte corruptions of a valid file give a ModelFileError or a valid parse, never a crash', () => {
  const bytes = concat(serializeGguf(METADATA, [{ name: 'a', shape: [5], data: A }]));
  for (let n = 0; n < bytes.length - 1; n++) {
    // Cutting into the data section's padding after the last tensor still leaves a whole file.
    if (n >= GgufFile.parse(bytes, 'x').tensors[0].begin + A.byteLength) continue;
    assert.throws(() => GgufFile.parse(bytes.subarray(0, n), 'cut.gguf'), ModelFileError, `cut at ${n}`);
  }
  let seed = 12345;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < 2000; i++) {
    const bad = bytes.slice();
    const flips = 1 + Math.floor(rand() * 3);
    for (let k = 0; k < flips; k++) bad[Math.floor(rand() * bad.length)] = Math.floor(rand() * 256);
    try {
      const f = GgufFile.parse(bad, 'fuzz.gguf');
      for (const t of f.tensors) f.readF32(t.name);
    } catch (e) {
      assert.ok(e instanceof ModelFileError, `corruption ${i}: ${String(e)}`);
    }
  }
});

test('GgufFile.open names a missing file', () => {
  assert.throws(() => GgufFile.open('/no/such/file.gguf'), /\/no\/such\/file\.gguf: no such file/);
  withTempDir((dir) => {
    writeFileSync(join(dir, 'empty.gguf'), '');
    assert.throws(() => GgufFile.open(join(dir, 'empty.gguf')), ModelFileError);
  });
});

test('the writer refuses values that do not fit their GGUF type instead of wrapping them', () => {
  for (const v of [
    { type: 'uint8', value: 256 },
    { type: 'int8', value: -129 },
    { type: 'uint32', value: -1 },
    { type: 'int32', value: 1.5 },
    { type: 'uint64', value: -1n },
  ] as GgufValue[]) {
    assert.throws(() => serializeGguf([['k', v]], []), new RegExp(`GGUF ${v.type} cannot hold`));
  }
  assert.throws(() => serializeGguf([['k', { type: 'array', itemType: 'uint8', items: [{ type: 'uint8', value: 300 }] }]], []), /uint8 cannot hold 300/);
});
