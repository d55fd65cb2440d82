import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import type { ReadLimit } from '../../src/util/bounded-read.js';
import { readFileBounded, readTextBounded, requireRegularFile } from '../../src/util/bounded-read.js';

const dir = mkdtempSync(join(tmpdir(), 'tinymorph-bounded-read-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const fail = (problem: string): UsageError => new UsageError(problem);
const limit = (maxBytes: number, streams = false): ReadLimit => ({ what: 'a test input', maxBytes, streams });
const fifoSupported = process.platform !== 'win32';

test('a regular file within the limit reads back exactly as fs.readFileSync reads it (also empty, and exactly at the limit)', () => {
  const bytes = new Uint8Array(200_003).map((_, i) => (i * 2654435761) >>> 24);
  for (const [name, data] of [['some.bin', bytes], ['empty.bin', new Uint8Array(0)]] as const) {
    const path = join(dir, name);
    writeFileSync(path, data);
    assert.deepEqual(new Uint8Array(readFileBounded(path, limit(bytes.length), fail)), new Uint8Array(readFileSync(path)));
  }
  const text = join(dir, 'text.txt');
  writeFileSync(text, 'ünïcödé\n');
  assert.equal(readTextBounded(text, limit(100), fail), 'ünïcödé\n');
});

test('a regular file over the limit is refused by its size, naming the limit and the kind of input', () => {
  const path = join(dir, 'big.bin');
  writeFileSync(path, new Uint8Array(1025));
  assert.throws(() => readFileBounded(path, limit(1024), fail), { name: 'UsageError', message: 'is 1025 bytes, over the 1024-byte limit for a test input' });
  const mib = join(dir, 'mib.bin');
  writeFileSync(mib, new Uint8Array(1024 * 1024 + 1));
  assert.throws(() => readFileBounded(mib, { what: 'a tokenizer', maxBytes: 1024 * 1024 }, fail), { message: 'is 1048577 bytes, over the 1 MiB limit for a tokenizer' });
});

test('a directory, a device and a missing path are typed errors', () => {
  mkdirSync(join(dir, 'folder'));
  assert.throws(() => readFileBounded(join(dir, 'folder'), limit(10), fail), { message: 'is a directory, expected a file' });
  assert.throws(() => readFileBounded(join(dir, 'nothing'), limit(10), fail), { message: 'no such file' });
  if (process.platform !== 'win32') {
    // /dev/zero never ends: refused at once, even where pipes are accepted.
    assert.throws(() => readFileBounded('/dev/zero', limit(10, true), fail), { message: 'is a device; a test input must be a regular file or a pipe' });
    assert.throws(() => requireRegularFile('/dev/zero', 'a model', fail), { message: 'is a device; a model must be a regular file' });
  }
});

test('a FIFO is refused before open(2) where a regular file is needed (no writer: opening would block for ever)', { skip: !fifoSupported && 'no FIFOs' }, () => {
  const fifo = join(dir, 'idle.fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  assert.throws(() => readFileBounded(fifo, limit(10), fail), { message: 'is a pipe; a test input must be a regular file' });
  assert.throws(() => requireRegularFile(fifo, 'a model', fail), { message: 'is a pipe; a model must be a regular file' });
});

test('a pipe that never ends is read up to the limit, counted as it arrives, then refused', { skip: !fifoSupported && 'no FIFOs' }, async () => {
  const fifo = join(dir, 'endless.fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  // `yes` writes for ever; it ends with SIGPIPE once the reader has closed the pipe.
  const writer = spawn('sh', ['-c', `exec yes tinymorph > '${fifo}'`], { stdio: 'ignore' });
  try {
    assert.throws(() => readFileBounded(fifo, limit(1_000_000, true), fail), { message: 'holds more than the 1000000-byte limit for a test input' });
  } finally {
    writer.kill();
  }
});

test('a pipe that ends within the limit is read whole', { skip: !fifoSupported && 'no FIFOs' }, () => {
  const fifo = join(dir, 'short.fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const text = 'line\n'.repeat(30_000); // 150 kB: more than one 64 KiB read, so the buffer grows
  const writer = spawn(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(fifo)}, 'line\\n'.repeat(30000))`], { stdio: 'ignore' });
  try {
    assert.equal(readTextBounded(fifo, limit(1_000_000, true), fail), text);
  } finally {
    writer.kill();
  }
});
