/**
 * GGUF llama model files: a tiny random Llama written by our exporter as F32, F16, BF16 and Q8_0 with
 * tok512's vocabulary embedded, one with Llama-3 RoPE scaling (and, when it is there, the Llama-2 fixture of ../shared/fixtures),
 * mutated with every count, length, dimension, type and offset of the header as a size field;
 * loaded as `--model FILE.gguf` loads it (its own vocabulary as the tokenizer) and asked for a few tokens.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { embeddedTokenizerPath } from '../../src/model/embedded.js';
import { writeGgufLlama } from '../../src/model/gguf-llama-write.js';
import { loadModel } from '../../src/model/load-model.js';
import { packageRoot } from '../../src/util/package-root.js';
import { mutateBytes } from '../byte-mutators.js';
import type { FuzzTarget } from '../fuzz-target.js';
import { ggufFields } from './control-vector-gguf.js';
import { generateFew, randomLlamaWeights, TINY_CONFIG, writeFile } from './seed-files.js';

const FIXTURE = join(packageRoot(), '../shared/fixtures/llama-2-tiny-random-gguf/llama-2-tiny-random.gguf');

export const ggufLlamaTarget: FuzzTarget = {
  name: 'gguf-llama-model',
  prepare(work) {
    // Q8_0 needs rows of 32: a 32-wide variant of the tiny config.
    const wide = { ...TINY_CONFIG, dim: 32, sharedClassifier: false };
    // Llama-3 RoPE scaling, stored as a rope_freqs tensor.
    const llama3 = { ...TINY_CONFIG, ropeScaling: { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8 } };
    const tokenizerBin = readFileSync(embeddedTokenizerPath());
    const files: [string, () => void][] = [
      ['f32.gguf', () => writeGgufLlama(join(work, 'f32.gguf'), TINY_CONFIG, randomLlamaWeights(TINY_CONFIG, 31), { tokenizerBin })],
      ['f16.gguf', () => writeGgufLlama(join(work, 'f16.gguf'), wide, randomLlamaWeights(wide, 32), { dtype: 'F16', tokenizerBin })],
      ['bf16.gguf', () => writeGgufLlama(join(work, 'bf16.gguf'), TINY_CONFIG, randomLlamaWeights(TINY_CONFIG, 34), { dtype: 'BF16', tokenizerBin })],
      ['llama3.gguf', () => writeGgufLlama(join(work, 'llama3.gguf'), llama3, randomLlamaWeights(llama3, 35), { tokenizerBin })],
      ['q8.gguf', () => writeGgufLlama(join(work, 'q8.gguf'), wide, randomLlamaWeights(wide, 33), { dtype: 'Q8_0', tokenizerBin })],
    ];
    for (const [, write] of files) write();
    const seedOf = (path: string) => {
      const bytes = new Uint8Array(readFileSync(path));
      return { bytes, ...ggufFields(bytes) };
    };
    const seeds = files.map(([name]) => seedOf(join(work, name)));
    const fixture = existsSync(FIXTURE) ? seedOf(FIXTURE) : undefined;
    return {
      write(rng, dir) {
        // The fixture (1.7 MB, 32000 tokens) is slow to mutate and read: now and then only.
        const seed = fixture && rng.chance(0.05) ? fixture : rng.pick(seeds);
        const m = mutateBytes(seed.bytes, rng, { fields: seed.fields, floatsFrom: seed.dataFrom });
        writeFile(dir, 'model.gguf', m.bytes);
        return m.how;
      },
      writeSeed: (dir) => writeFile(dir, 'model.gguf', seeds[0].bytes),
      read(dir) {
        const { model, tokenizer } = loadModel({ model: join(dir, 'model.gguf') });
        generateFew(model, tokenizer);
      },
    };
  },
};
