import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/util/atomic-write.js';

function withTempDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'tinymorph-atomic-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('creates a file and replaces an existing one, leaving no temp file', () => {
  withTempDir((dir) => {
    const target = join(dir, 'out.bin');
    writeFileAtomic(target, 'first');
    assert.equal(readFileSync(target, 'utf8'), 'first');
    writeFileAtomic(target, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...readFileSync(target)], [1, 2, 3]);
    writeFileAtomic(target, [new Uint8Array([4, 5]), new Uint8Array(0), new Uint8Array([6])]);
    assert.deepEqual([...readFileSync(target)], [4, 5, 6]);
    assert.deepEqual(readdirSync(dir), ['out.bin']);
  });
});

test('writes a string as UTF-8', () => {
  withTempDir((dir) => {
    const target = join(dir, 'text.txt');
    writeFileAtomic(target, 'ü→€');
    assert.deepEqual([...readFileSync(target)], [0xc3, 0xbc, 0xe2, 0x86, 0x92, 0xe2, 0x82, 0xac]);
  });
});

test('a missing target directory throws and leaves nothing behind', () => {
  withTempDir((dir) => {
    assert.throws(() => writeFileAtomic(join(dir, 'missing', 'out.bin'), 'x'), { code: 'ENOENT' });
    assert.deepEqual(readdirSync(dir), []);
  });
});

test('a failure in the middle of writing keeps the old file and removes the temp file', () => {
  withTempDir((dir) => {
    const target = join(dir, 'out.bin');
    writeFileSync(target, 'old');
    // The second chunk is not a byte array, so writeSync throws after the first chunk reached the temp file.
    const bad = [new Uint8Array([1, 2, 3]), { byteLength: 4 } as unknown as Uint8Array];
    assert.throws(() => writeFileAtomic(target, bad), TypeError);
    assert.equal(readFileSync(target, 'utf8'), 'old');
    assert.deepEqual(readdirSync(dir), ['out.bin']);
  });
});

test('a failing rename (target is a directory) keeps the directory and removes the temp file', () => {
  withTempDir((dir) => {
    const target = join(dir, 'taken');
    mkdirSync(target);
    writeFileSync(join(target, 'inside'), 'kept');
    assert.throws(() => writeFileAtomic(target, 'x'));
    assert.equal(readFileSync(join(target, 'inside'), 'utf8'), 'kept');
    assert.deepEqual(readdirSync(dir), ['taken']);
  });
});
