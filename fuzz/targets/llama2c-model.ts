/**
 * llama2.c model files, one target per version (v0 legacy, v1 "ak42" fp32, v2 Q8_0): a tiny random
 * model written by our encoder (and now and then the embedded stories260K), mutated, then loaded
 * as the CLI loads a --model (fp32 or with --quantize q8_0) and asked for a few tokens.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { embeddedModelPath, embeddedTokenizerPath } from '../../src/model/embedded.js';
import { loadModel } from '../../src/model/load-model.js';
import type { Llama2cVersion } from '../../src/model/llama2c-format.js';
import { encodeLlama2c, readLlama2c } from '../../src/model/llama2c-format.js';
import type { IntField } from '../byte-mutators.js';
import { mutateBytes } from '../byte-mutators.js';
import type { FuzzTarget } from '../fuzz-target.js';
import { generateFew, randomLlamaWeights, TINY_CONFIG, writeFile } from './seed-files.js';

/** The header's integer fields: 7 int32 config values (after magic and version in v1/v2), the v2 group size. */
function headerFields(version: Llama2cVersion): IntField[] {
  const at = version === 'llama2c-v0' ? 0 : 8;
  const ints: IntField[] = Array.from({ length: 7 }, (_, i) => ({ at: at + 4 * i, bytes: 4 }));
  if (version === 'llama2c-v0') return ints;
  return [{ at: 4, bytes: 4 }, ...ints, { at: 36, bytes: 1 }, ...(version === 'llama2c-v2' ? [{ at: 37, bytes: 4 } as IntField] : [])];
}

export function llama2cTarget(version: Llama2cVersion): FuzzTarget {
  return {
    name: version.replace('llama2c-', 'llama2c-model-'),
    prepare() {
      const tiny = encodeLlama2c(TINY_CONFIG, randomLlamaWeights(TINY_CONFIG, 11), version);
      const unshared = encodeLlama2c({ ...TINY_CONFIG, sharedClassifier: false }, randomLlamaWeights({ ...TINY_CONFIG, sharedClassifier: false }, 12), version);
      const embedded = readLlama2c(embeddedModelPath());
      const real = version === 'llama2c-v0' ? readFileSync(embeddedModelPath()) : encodeLlama2c(embedded.config, embedded.weights, version, version === 'llama2c-v2' ? { groupSize: 4 } : {});
      const fields = headerFields(version);
      const floatsFrom = version === 'llama2c-v0' ? 28 : 256;
      return {
        write(rng, dir) {
          const seed = rng.chance(0.1) ? real : rng.chance(0.5) ? tiny : unshared;
          const m = mutateBytes(seed, rng, { fields, floatsFrom });
          // The file name says how to load it: as it is, or quantising at load (--quantize q8_0).
          const quantize = rng.chance(0.3);
          writeFile(dir, quantize ? 'model-q8_0.bin' : 'model.bin', m.bytes);
          return `${quantize ? 'quantize; ' : ''}${m.how}`;
        },
        writeSeed: (dir) => writeFile(dir, 'model.bin', tiny),
        read(dir) {
          const quantize = existsSync(join(dir, 'model-q8_0.bin'));
          const { model, tokenizer } = loadModel({
            model: join(dir, quantize ? 'model-q8_0.bin' : 'model.bin'),
            tokenizer: embeddedTokenizerPath(),
            quantize: quantize ? 'q8_0' : undefined,
          });
          generateFew(model, tokenizer);
        },
      };
    },
  };
}
