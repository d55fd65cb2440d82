/**
 * Activation caches (manifest.json + safetensors shards) written by `cacheActivations` from the
 * embedded model; one file mutated; streamed back shard by shard as an SAE trainer reads them,
 * or (a third of the inputs) resumed with a larger target as a rerun of `activations cache` does.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../src/model/load-model.js';
import { corpusDocuments } from '../../src/sae/activation-store/activation-store.js';
import { openActivationCache } from '../../src/sae/activation-store/cache-reader.js';
import type { CacheActivationsOptions } from '../../src/sae/activation-store/cache-writer.js';
import { cacheActivations } from '../../src/sae/activation-store/cache-writer.js';
import type { FuzzTarget } from '../fuzz-target.js';
import { AcceptedBadInput } from '../outcome.js';
import { readSeedFolder, writeMutatedFolder, writeSeedFolder } from './folder-mutation.js';
import { writeFile } from './seed-files.js';

const SETTINGS: Omit<CacheActivationsOptions, 'dir' | 'tokens'> = {
  hook: 'blocks.2.hook_resid_post', contextSize: 32, batchContexts: 4, shardTokens: 100, modelName: 'embedded', corpusName: 'fuzz',
};
const TOKENS = 250;
const STRINGS = ['tinymorph-activation-cache', 'F32', 'F16', 'blocks.2.hook_resid_post', 'shard-00000.safetensors', '../manifest.json', 'activations'];

export const activationCacheTarget: FuzzTarget = {
  name: 'activation-cache',
  prepare(work) {
    const { model, tokenizer } = loadModel();
    const docs = corpusDocuments().slice(0, 20);
    const dir = join(work, 'cache');
    cacheActivations(model, tokenizer, docs, { ...SETTINGS, dir, tokens: TOKENS });
    const seed = readSeedFolder(dir);
    return {
      write(rng, input) {
        const cache = join(input, 'cache');
        mkdirSync(cache);
        const resume = rng.chance(0.3);
        if (resume) writeFile(input, 'resume', '');
        return `${resume ? 'resume; ' : ''}${writeMutatedFolder(seed, rng, cache, { strings: STRINGS })}`;
      },
      writeSeed(input) {
        mkdirSync(join(input, 'cache'));
        writeSeedFolder(seed, join(input, 'cache'));
      },
      read(input) {
        const cache = join(input, 'cache');
        if (existsSync(join(input, 'resume'))) {
          cacheActivations(model, tokenizer, docs, { ...SETTINGS, dir: cache, tokens: TOKENS + 150 });
          return;
        }
        const c = openActivationCache(cache);
        let tokens = 0;
        for (const shard of c.shards()) {
          if (shard.length % c.manifest.d_in !== 0) throw new AcceptedBadInput(`a shard of ${shard.length} values is not whole rows of d_in ${c.manifest.d_in}`);
          tokens += shard.length / c.manifest.d_in;
        }
        if (tokens !== c.manifest.total_tokens) throw new AcceptedBadInput(`the shards held ${tokens} activations, the manifest says ${c.manifest.total_tokens}`);
      },
    };
  },
};
