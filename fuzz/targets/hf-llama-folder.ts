/**
 * HF Llama folders (config.json + model.safetensors, or shards + model.safetensors.index.json): a
 * tiny random Llama written by our exporter, one file, F32 / BF16 and sharded; one file mutated or
 * left out; loaded as `--model DIR --tokenizer tok512.bin` loads it and asked for a few tokens.
 */
import { join } from 'node:path';
import { embeddedTokenizerPath } from '../../src/model/embedded.js';
import { writeHfLlama } from '../../src/model/hf-llama-write.js';
import { loadModel } from '../../src/model/load-model.js';
import type { FuzzTarget } from '../fuzz-target.js';
import type { SeedFolder } from './folder-mutation.js';
import { readSeedFolder, writeMutatedFolder, writeSeedFolder } from './folder-mutation.js';
import { generateFew, randomLlamaWeights, TINY_CONFIG } from './seed-files.js';

/** Values that mean something in config.json and the index. */
const HF_STRINGS = ['llama', 'LlamaForCausalLM', 'llama3', 'silu', 'F16', 'BF16', 'I32', 'model.norm.weight', 'model-00001-of-00002.safetensors', '../model.safetensors'];

export const hfLlamaTarget: FuzzTarget = {
  name: 'hf-llama-folder',
  prepare(work) {
    const untied = { ...TINY_CONFIG, sharedClassifier: false };
    const seeds: SeedFolder[] = [];
    const add = (name: string, write: (dir: string) => void) => {
      write(join(work, name));
      seeds.push(readSeedFolder(join(work, name)));
    };
    add('single', (dir) => writeHfLlama(dir, TINY_CONFIG, randomLlamaWeights(TINY_CONFIG, 21)));
    add('bf16-untied', (dir) => writeHfLlama(dir, untied, randomLlamaWeights(untied, 22), { dtype: 'BF16' }));
    add('sharded', (dir) => writeHfLlama(dir, TINY_CONFIG, randomLlamaWeights(TINY_CONFIG, 23), { maxShardBytes: 20_000 }));
    return {
      write: (rng, dir) => writeMutatedFolder(rng.pick(seeds), rng, dir, { strings: HF_STRINGS }),
      writeSeed: (dir) => writeSeedFolder(seeds[2], dir),
      read(dir) {
        const { model, tokenizer } = loadModel({ model: dir, tokenizer: embeddedTokenizerPath() });
        generateFew(model, tokenizer);
      },
    };
  },
};
