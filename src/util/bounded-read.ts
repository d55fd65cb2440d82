/**
 * Reading a user-named file whole, with a ceiling. A path can name something that never ends
 * (/dev/zero, a FIFO a program keeps writing, a log that keeps growing) or a file far larger than
 * the kind of input it claims to be; readFileSync would read until memory runs out. Here each
 * kind of input has a limit, the file is stat'ed first (a regular file over the limit is refused
 * before a byte is read), and the bytes are counted as they arrive, so a file that grows while it
 * is read, or a pipe, stops at the limit too.
 */
import type { Stats } from 'node:fs';
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { isatty } from 'node:tty';
import type { TinymorphError } from '../errors.js';
import { describeFsError } from './fs-error.js';

/** What a file is read as, and the most bytes such a file may hold. */
export interface ReadLimit {
  /** The kind of input, as the error says it ("a tokenizer"). */
  what: string;
  maxBytes: number;
  /**
   * Whether a pipe or terminal is accepted (read until it ends, within maxBytes), as for text a
   * shell may hand over as `<(command)`. Formats whose reader needs the size take regular files only.
   */
  streams?: boolean;
}

const MiB = 1024 * 1024;
/** How long a FIFO opened with no writer yet is given for one to come before it counts as empty. */
const FIFO_WRITER_WAIT_MS = 5000;
/** A Buffer holds at most this many bytes (2^32 on 64-bit Node 20), so no limit is above it. */
const MAX_BUFFER = 2 ** 32;

/**
 * The limits, generous for real use: llama2.c tokenizers are under 1 MiB for 32k tokens (a 128k
 * vocabulary a few MiB); SAE weight files reach GBs (a 131k-latent Gemma Scope SAE is 2.4 GB), as
 * the largest Buffer allows. Text must fit in one JS string (V8: 2^29 − 24 characters). Model
 * files are not read whole: llama2c-tensor-source.ts reads them tensor by tensor.
 */
export const READ_LIMITS = {
  tokenizer: { what: 'a tokenizer', maxBytes: 64 * MiB },
  safetensors: { what: 'a safetensors file', maxBytes: MAX_BUFFER },
  gguf: { what: 'a GGUF file', maxBytes: MAX_BUFFER },
  npz: { what: 'an .npz file', maxBytes: MAX_BUFFER },
  config: { what: 'a JSON config', maxBytes: 16 * MiB },
  manifest: { what: 'a cache manifest', maxBytes: 64 * MiB },
  spec: { what: 'a steering request', maxBytes: 64 * MiB, streams: true },
  prompt: { what: 'a prompt', maxBytes: 64 * MiB, streams: true },
  text: { what: 'text', maxBytes: 500 * MiB, streams: true },
} as const satisfies Record<string, ReadLimit>;

/** Reads `path` (or standard input for "-" where streams are accepted) whole; `fail` makes the typed error for a problem. */
export function readFileBounded(path: string, limit: ReadLimit, fail: (problem: string) => TinymorphError): Buffer {
  if (path === '-' && limit.streams) {
    const stdin = fstatSync(0);
    checkKind(stdin, limit, isatty(0), fail);
    return readFd(0, limit, fail, stdin);
  }
  // Checked before open(2) as well: a device never ends, a folder is no input.
  const stat = statOf(path, fail);
  checkKind(stat, limit, undefined, fail);
  let fd: number;
  try {
    // A FIFO opens without waiting for a writer (a blocking open would hang for ever on a FIFO no
    // program writes); readFd then gives a writer a few seconds to come, and readChunk waits for
    // data while one is there.
    fd = openSync(path, stat.isFIFO() ? constants.O_RDONLY | constants.O_NONBLOCK : 'r');
  } catch (e) {
    throw fail(describeFsError(e));
  }
  try {
    const opened = fstatSync(fd); // the path may have been replaced between stat and open
    checkKind(opened, limit, isatty(fd), fail);
    return readFd(fd, limit, fail, opened, opened.isFIFO() ? Date.now() + FIFO_WRITER_WAIT_MS : 0);
  } finally {
    closeSync(fd);
  }
}

/** readFileBounded as UTF-8 text. */
export function readTextBounded(path: string, limit: ReadLimit, fail: (problem: string) => TinymorphError): string {
  return readFileBounded(path, limit, fail).toString('utf8');
}

/** The file's stat, or the typed error for a missing or unreadable one. */
function statOf(path: string, fail: (problem: string) => TinymorphError): Stats {
  try {
    return statSync(path);
  } catch (e) {
    throw fail(describeFsError(e));
  }
}

/**
 * Refuses anything but a regular file (a FIFO would block the open, a device never ends): for
 * readers that seek in a file rather than read it whole; `what` names the input.
 */
export function requireRegularFile(path: string, what: string, fail: (problem: string) => TinymorphError): void {
  checkKind(statOf(path, fail), { what, maxBytes: Infinity }, false, fail);
}

/** Refuses a directory, a regular file over the limit, and anything but a pipe or terminal (tty: unknown before open) where streams are accepted. */
function checkKind(stat: Stats, limit: ReadLimit, tty: boolean | undefined, fail: (problem: string) => TinymorphError): void {
  if (stat.isDirectory()) throw fail(describeFsError({ code: 'EISDIR' }));
  if (stat.isFile()) {
    if (stat.size > limit.maxBytes) throw fail(`is ${stat.size} bytes, over the ${formatLimit(limit.maxBytes)} limit for ${limit.what}`);
    return;
  }
  const pipe = stat.isFIFO() || stat.isSocket() || (stat.isCharacterDevice() && tty !== false);
  if (!pipe || !limit.streams) throw fail(`is ${kindName(stat)}; ${limit.what} must be a regular file${limit.streams ? ' or a pipe' : ''}`);
}

function kindName(stat: Stats): string {
  if (stat.isFIFO()) return 'a pipe';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'not a file';
}

/**
 * Reads until end of file into one buffer of the expected size, growing it (doubling, capped at
 * the limit) only when more bytes come than stat said; one byte read past a full buffer tells a
 * file that ended from one that goes on.
 */
function readFd(fd: number, limit: ReadLimit, fail: (problem: string) => TinymorphError, stat: Stats, writerDeadline = 0): Buffer {
  const over = (): TinymorphError => fail(`holds more than the ${formatLimit(limit.maxBytes)} limit for ${limit.what}`);
  let buf = Buffer.allocUnsafeSlow(Math.min(limit.maxBytes, stat.isFile() ? stat.size : 64 * 1024));
  const probe = Buffer.allocUnsafeSlow(1);
  let total = 0;
  for (;;) {
    if (total === buf.length) {
      const n = readChunk(fd, probe, 0, 1, fail);
      if (n === 0) return buf;
      if (buf.length >= limit.maxBytes) throw over();
      const grown = Buffer.allocUnsafeSlow(Math.min(limit.maxBytes, Math.max(64 * 1024, buf.length * 2)));
      buf.copy(grown, 0, 0, total);
      grown[total++] = probe[0];
      buf = grown;
    }
    const n = readChunk(fd, buf, total, buf.length - total, fail);
    if (n === 0 && total === 0 && Date.now() < writerDeadline) {
      // A non-blocking FIFO reads as ended while no writer has opened it yet.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      continue;
    }
    if (n === 0) return buf.subarray(0, total);
    total += n;
  }
}

/** One read(2); a non-blocking descriptor (stdin set so by a parent) that has nothing yet is waited on. */
function readChunk(fd: number, buf: Buffer, offset: number, length: number, fail: (problem: string) => TinymorphError): number {
  for (;;) {
    try {
      return readSync(fd, buf, offset, length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      else if (code === 'EOF') return 0; // Windows reports a closed pipe this way
      else throw fail(describeFsError(e));
    }
  }
}

function formatLimit(bytes: number): string {
  return bytes % (1024 * MiB) === 0 ? `${bytes / (1024 * MiB)} GiB` : bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes}-byte`;
}
