/**
 * Crash-safe file saving: a reader of `path` sees either the old file or the complete new one,
 * never a half-written file. The data goes to a temp file in the same directory (so the rename
 * stays on one file system, where POSIX rename(2) is atomic), is fsynced, then renamed over the
 * target; the directory is fsynced so the rename itself survives a power cut.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** Replace `path` atomically with `data` (a string is written as UTF-8; an array is concatenated). */
export function writeFileAtomic(path: string, data: Uint8Array | string | Uint8Array[]): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const chunks = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : Array.isArray(data) ? data : [data];
  let created = false;
  let fd: number | undefined;
  try {
    // 'wx': fail rather than share a temp file with another writer that drew the same name (and
    // then leave that file alone: only a temp file this call created is removed below).
    fd = openSync(tmp, 'wx');
    created = true;
    for (const chunk of chunks) writeAll(fd, chunk);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // the temp file is removed below either way; `err` is the failure worth reporting
      }
    }
    if (created) rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDirectory(dir);
}

/** writeSync may write fewer bytes than asked (large buffers, pipes), so loop until done. */
function writeAll(fd: number, chunk: Uint8Array): void {
  let written = 0;
  while (written < chunk.byteLength) {
    written += writeSync(fd, chunk, written, chunk.byteLength - written);
  }
}

/**
 * Best effort: some platforms (Windows) and file systems cannot open or fsync a directory. The new
 * file is already complete and in place at this point; only its durability across a power cut is
 * weaker there, so a failure here is not an error.
 */
function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // see the comment above: nothing to do when the platform cannot fsync a directory
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
