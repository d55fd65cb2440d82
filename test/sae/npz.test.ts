import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { zipSync } from 'fflate';
import { SaeFileError } from '../../src/errors.js';
import { parseNpy, parseNpz, readNpz } from '../../src/sae/npz.js';
import { f32Npy, npyBytes } from './npy-test-helpers.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'npz-'));
}

test('reads f4/f8/f2 arrays from a hand-made npz in versions 1, 2 and 3', () => {
  const a = new Float32Array([1, 2, 3, 4, 5, 6]);
  const f8 = new Float64Array([0.5, -1.25]);
  const f2 = new Uint16Array([0x3c00, 0xc000]); // 1, -2
  const path = join(tmp(), 'a.npz');
  writeFileSync(path, zipSync({
    'a.npy': f32Npy([2, 3], a),
    'b.npy': npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(f8.buffer), 2),
    'c.npy': npyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(f2.buffer), 3),
    's.npy': f32Npy([], new Float32Array([7])),
  }, { level: 6 }));
  const arrays = readNpz(path);
  assert.deepEqual(arrays.get('a')?.shape, [2, 3]);
  assert.deepEqual([...arrays.get('a')!.data], [...a]);
  assert.deepEqual([...arrays.get('b')!.data], [0.5, -1.25]);
  assert.deepEqual([...arrays.get('c')!.data], [1, -2]);
  assert.deepEqual(arrays.get('s')?.shape, []);
});

test('bad npy headers and truncated zips give SaeFileError naming file and array', () => {
  const bad = (bytes: Uint8Array, pattern: RegExp) =>
    assert.throws(() => parseNpy(bytes, 'f.npz', 'W_enc'), (e: unknown) => e instanceof SaeFileError && /^f\.npz: array "W_enc": /.test(e.message) && pattern.test(e.message));
  const data = new Uint8Array(new Float32Array([1, 2]).buffer);
  bad(npyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", data), /descr "<i4"/);
  bad(npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", data), /little-endian/);
  bad(npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", data), /fortran_order is true/);
  bad(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", data), /truncated: .*needs 12 bytes/);
  bad(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,), }", data), /Python dict literal/);
  bad(new Uint8Array([1, 2, 3]), /magic/);

  const path = join(tmp(), 'cut.npz');
  const zip = zipSync({ 'W_enc.npy': f32Npy([2], new Float32Array([1, 2])) });
  writeFileSync(path, zip.subarray(0, zip.length - 30));
  assert.throws(() => readNpz(path), (e: unknown) => e instanceof SaeFileError && e.message.startsWith(`${path}: not a readable .npz`));
  assert.throws(() => readNpz(join(tmp(), 'missing.npz')), SaeFileError);
});

test('hostile headers fail with one short line: over numpy’s 10,000-byte header limit, nesting, too many dimensions', () => {
  const data = new Uint8Array(new Float32Array([1, 2]).buffer);
  const oneLine = (bytes: Uint8Array, pattern: RegExp) =>
    assert.throws(
      () => parseNpy(bytes, 'f.npz', 'W_enc'),
      (e: unknown) => e instanceof SaeFileError && pattern.test(e.message) && !e.message.includes('\n') && e.message.length < 300,
    );
  // A ~200 KB header once overflowed the stack (String.fromCharCode(...bytes)); numpy ≥ 1.24 refuses over 10,000.
  oneLine(npyBytes(`{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }${' '.repeat(200_000)}`, data, 2), /header length \d+ is over numpy's limit of 10000 bytes/);
  oneLine(npyBytes(`{'descr': '<f4', 'fortran_order': False, 'shape': ${'('.repeat(4000)}${')'.repeat(4000)}, }`, data), /nested deeper than 8 levels/);
  oneLine(npyBytes(`{'descr': '<f4', 'fortran_order': False, 'shape': (${'1, '.repeat(65)}2), }`, data), /66 dimensions, more than numpy's 64/);
  oneLine(npyBytes(`{'descr': '${'x'.repeat(5000)}', 'fortran_order': False, 'shape': (2,), }`, data), /descr "x{20,}… is not a little-endian float dtype/);
  oneLine(npyBytes("{'descr': '<f4', 'shape': (2,), }", data), /fortran_order is missing/);
});

/** The offsets of every central-directory entry of a zip (signature PK\1\2, APPNOTE 4.3.12). */
function centralEntries(zip: Uint8Array): number[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const at: number[] = [];
  for (let i = 0; i + 4 <= zip.length; i++) if (view.getUint32(i, true) === 0x02014b50) at.push(i);
  return at;
}

test('a zip entry claiming more uncompressed bytes than its compressed bytes can hold is refused before anything is allocated', () => {
  for (const level of [0, 6] as const) {
    const zip = zipSync({ 'W_enc.npy': f32Npy([4], new Float32Array([1, 2, 3, 4])) }, { level });
    const [entry] = centralEntries(zip);
    new DataView(zip.buffer, zip.byteOffset).setUint32(entry + 24, 2 ** 31 - 2 ** 20, true); // uncompressed size: ~2 GB
    const before = process.memoryUsage().arrayBuffers;
    assert.throws(() => parseNpz(zip, 'bomb.npz'), (e: unknown) => e instanceof SaeFileError && /says 2146435072 bytes uncompressed, more than its \d+ compressed bytes can hold/.test(e.message));
    assert.ok(process.memoryUsage().arrayBuffers - before < 2 ** 20, 'nothing of the claimed size was allocated');
    // Both sizes raised together, so the ratio holds: the compressed bytes are not in the archive.
    new DataView(zip.buffer, zip.byteOffset).setUint32(entry + 20, 2 ** 31 - 2 ** 20, true);
    assert.throws(() => parseNpz(zip, 'bomb.npz'), (e: unknown) => e instanceof SaeFileError && new RegExp(`says 2146435072 compressed bytes, more than the ${zip.length}-byte archive holds`).test(e.message));
  }
});
