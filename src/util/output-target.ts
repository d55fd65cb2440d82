/**
 * Checks of where a command will write, made before its work starts: a training run or an eval
 * that fails at its last step because `--out` names a directory, or a folder that does not
 * exist, has spent its minutes for nothing.
 */
import type { Stats } from 'node:fs';
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { describeFsError } from './fs-error.js';

/** `path` can be written (replaced) as a file: it is not a folder, and its folder exists and is writable. `flag` names it in errors. */
export function checkOutputFile(path: string, flag: string): void {
  const fail = (problem: string): UsageError => new UsageError(`${flag} ${path}: ${problem}`);
  const stat = statIfAny(path, fail);
  if (stat?.isDirectory()) throw fail('is a folder; give the file to write');
  if (stat && !stat.isFile()) throw fail('is not a regular file; give a file to write');
  const dir = dirname(resolve(path));
  const parent = statIfAny(dir, fail);
  if (!parent) throw fail(`its folder ${dir} does not exist`);
  if (!parent.isDirectory()) throw fail(`${dir} is not a folder`);
  writable(dir, fail);
}

/** `path` can be written as a folder: it is one, or can be made (the nearest existing path above it is a writable folder). */
export function checkOutputDir(path: string, flag: string): void {
  const fail = (problem: string): UsageError => new UsageError(`${flag} ${path}: ${problem}`);
  let dir = resolve(path);
  let stat = statIfAny(dir, fail);
  if (stat && !stat.isDirectory()) throw fail('is a file; give a folder to write into');
  while (!stat) {
    dir = dirname(dir);
    stat = statIfAny(dir, fail);
  }
  if (!stat.isDirectory()) throw fail(`${dir} is a file, so the folder cannot be made`);
  writable(dir, fail);
}

function statIfAny(path: string, fail: (problem: string) => UsageError): Stats | undefined {
  try {
    return statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fail(describeFsError(e));
  }
}

function writable(dir: string, fail: (problem: string) => UsageError): void {
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw fail(`cannot write in ${dir} (${describeFsError(e)})`);
  }
}
