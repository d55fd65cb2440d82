/**
 * A tokenizer from a path, whatever its format: a llama2.c tokenizer.bin, an HF tokenizer.json, a
 * folder holding tokenizer.json (an HF model folder), or a GGUF file's embedded vocabulary
 * (gguf-vocab-tokenizer.ts; told by its "GGUF" magic). The format is told by the first bytes: a
 * tokenizer.json is "{" (after JSON whitespace) then whitespace, '"' or "}" (RFC 8259). A
 * tokenizer.bin starts with its int32 max_token_length, little-endian and at most 65536, so its
 * second byte is 0x00 or 0x01 and it never looks like that; anything else is read as tokenizer.bin,
 * whose reader gives the precise error.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TokenizerFileError } from '../errors.js';
import { describeFsError } from '../util/fs-error.js';
import { GgufFile } from './gguf/gguf-reader.js';
import { tokenizerFromGguf } from './gguf-vocab-tokenizer.js';
import { HfTokenizer } from './hf-tokenizer.js';
import { Llama2cTokenizer } from './llama2c-tokenizer.js';
import { startsWithGgufMagic } from './model-format.js';
import type { Tokenizer } from './tokenizer.js';

const SNIFF_BYTES = 64;

/** The tokenizer at `path`; vocabSize is the model's (the llama2.c file does not store its own). */
export function loadTokenizer(path: string, vocabSize?: number): Tokenizer {
  const kind = fileKind(path);
  if (kind === 'folder') {
    const file = join(path, 'tokenizer.json');
    if (fileKind(file) !== 'file') throw new TokenizerFileError(path, 'is a directory without a tokenizer.json: give the tokenizer with --tokenizer (tokenizer.bin, tokenizer.json or a GGUF file)');
    return HfTokenizer.fromFile(file, vocabSize);
  }
  // Only a regular file is sniffed (opening a FIFO would wait for a writer); the reader refuses the rest.
  if (kind === 'file' && startsWithGgufMagic(path)) return tokenizerFromGguf(GgufFile.open(path));
  return kind === 'file' && looksLikeJson(path) ? HfTokenizer.fromFile(path, vocabSize) : Llama2cTokenizer.fromFile(path, vocabSize);
}

function fileKind(path: string): 'file' | 'folder' | 'other' {
  try {
    const stat = statSync(path);
    return stat.isFile() ? 'file' : stat.isDirectory() ? 'folder' : 'other';
  } catch {
    return 'other'; // the reader reports a missing file
  }
}

function looksLikeJson(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new TokenizerFileError(path, describeFsError(e));
  }
  try {
    const head = new Uint8Array(SNIFF_BYTES);
    const n = readSync(fd, head, 0, SNIFF_BYTES, 0);
    let i = 0;
    while (i < n && isJsonSpace(head[i])) i++;
    if (head[i] !== 0x7b || i + 1 >= n) return false; // "{"
    const next = head[i + 1];
    return isJsonSpace(next) || next === 0x22 || next === 0x7d; // '"', "}"
  } catch (e) {
    throw new TokenizerFileError(path, describeFsError(e));
  } finally {
    closeSync(fd);
  }
}

function isJsonSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}
