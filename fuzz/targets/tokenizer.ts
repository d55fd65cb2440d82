/**
 * llama2.c tokenizer.bin: the embedded 512-token file, mutated (max_token_length and each entry's
 * length are the size fields; scores take NaN/Inf), read with the model's vocab_size as loadModel
 * does or to the end of the file, then used to encode and decode text.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { embeddedTokenizerPath } from '../../src/model/embedded.js';
import { Llama2cTokenizer } from '../../src/model/llama2c-tokenizer.js';
import type { IntField } from '../byte-mutators.js';
import { mutateBytes } from '../byte-mutators.js';
import type { FuzzTarget } from '../fuzz-target.js';
import { writeFile } from './seed-files.js';

const TEXT = 'Once upon a time, Lily saw a 🐱 — "naïve" café!\n<0x41>\u0000';

/** max_token_length, then the int32 length of every entry (each after its float32 score). */
function lengthFields(bytes: Uint8Array): IntField[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields: IntField[] = [{ at: 0, bytes: 4 }];
  for (let at = 4; at + 8 <= bytes.length; at += 8 + view.getInt32(at + 4, true)) fields.push({ at: at + 4, bytes: 4 });
  return fields;
}

export const tokenizerTarget: FuzzTarget = {
  name: 'llama2c-tokenizer',
  prepare() {
    const seed = new Uint8Array(readFileSync(embeddedTokenizerPath()));
    const fields = lengthFields(seed);
    return {
      write(rng, dir) {
        const m = mutateBytes(seed, rng, { fields });
        const withVocab = rng.chance(0.7);
        writeFile(dir, withVocab ? 'tokenizer-512.bin' : 'tokenizer.bin', m.bytes);
        return `${withVocab ? 'vocab 512; ' : ''}${m.how}`;
      },
      writeSeed: (dir) => writeFile(dir, 'tokenizer-512.bin', seed),
      read(dir) {
        const withVocab = existsSync(join(dir, 'tokenizer-512.bin'));
        const tok = withVocab ? Llama2cTokenizer.fromFile(join(dir, 'tokenizer-512.bin'), 512) : Llama2cTokenizer.fromFile(join(dir, 'tokenizer.bin'));
        const ids = tok.encode(TEXT, { bos: true, eos: true });
        tok.decode(ids);
        for (let id = 0; id < tok.vocabSize; id++) tok.piece(id);
      },
    };
  },
};
