/**
 * The model formats `--model` accepts and how one is recognised from what is on disk, not from a
 * name: a folder holding config.json is an HF checkpoint, a file starting with "GGUF" a GGUF file,
 * any other file a llama2.c file (whose header the llama2.c reader then checks).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ModelFileError } from '../errors.js';
import { describeFsError } from '../util/fs-error.js';
import { GGUF_MAGIC } from './gguf/gguf-types.js';
import type { Llama2cVersion } from './llama2c-format.js';

export type ModelFormat = Llama2cVersion | 'hf-llama' | 'gguf';

/** One tensor as the file stores it (for `inspect`). */
export interface TensorDescription {
  name: string;
  dtype: string;
  /** As the file writes it (GGUF: ggml order, ne[0] first). */
  shape: number[];
}

/** What a reader found beyond the config and weights. */
export interface ModelDescription {
  architecture: string;
  tensors: TensorDescription[];
}

export type ModelKind = 'llama2c' | 'hf' | 'gguf';

export function detectModelKind(path: string): ModelKind {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    throw new ModelFileError(path, describeFsError(e));
  }
  if (isDir) {
    try {
      statSync(join(path, 'config.json'));
    } catch {
      throw new ModelFileError(path, 'is a folder without config.json; an HF model folder needs config.json and model.safetensors (or sharded safetensors with model.safetensors.index.json)');
    }
    return 'hf';
  }
  return startsWithGgufMagic(path) ? 'gguf' : 'llama2c';
}

/** True when the first 4 bytes are "GGUF" (a FIFO or unreadable file is left to the format's reader to refuse). */
export function startsWithGgufMagic(path: string): boolean {
  let st;
  try {
    st = statSync(path);
  } catch {
    return false;
  }
  if (!st.isFile() || st.size < 4) return false;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.readUInt32LE(0) === GGUF_MAGIC;
  } finally {
    closeSync(fd);
  }
}
