/**
 * EleutherAI sparsify folders (cfg.json + sae.safetensors with encoder.weight = W_encᵀ): a topk
 * coder for the embedded model's blocks.2 residual stream, one file mutated, read as
 * `sae convert --from sparsify` does, then used.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from '../../src/model/safetensors.js';
import { readSparsify, SPARSIFY_CFG_FILENAME, SPARSIFY_WEIGHTS_FILENAME } from '../../src/sae/sparsify-format.js';
import { randomArray } from '../../test/sae/sae-test-helpers.js';
import type { FuzzTarget } from '../fuzz-target.js';
import { readSeedFolder, writeMutatedFolder, writeSeedFolder } from './folder-mutation.js';
import { embeddedConfig } from './saelens.js';
import { SAE_STRINGS, useSae } from './sae-use.js';
import { writeFile } from './seed-files.js';

/** sparsify's SparseCoderConfig fields as save_to_disk writes them. */
const CFG = { d_in: 64, expansion_factor: 32, normalize_decoder: true, num_latents: 32, k: 4, activation: 'topk', transcode: false, signed: false, skip_connection: false };

export const sparsifyTarget: FuzzTarget = {
  name: 'sparsify',
  prepare(work) {
    const model = embeddedConfig();
    const dir = join(work, 'layers.2');
    mkdirSync(dir);
    writeFile(dir, SPARSIFY_CFG_FILENAME, JSON.stringify(CFG));
    writeSafetensors(join(dir, SPARSIFY_WEIGHTS_FILENAME), {
      'encoder.weight': { shape: [32, 64], data: randomArray(32 * 64, 1, 0.3) },
      'encoder.bias': { shape: [32], data: randomArray(32, 2, 0.1) },
      W_dec: { shape: [32, 64], data: randomArray(32 * 64, 3, 0.3) },
      b_dec: { shape: [64], data: randomArray(64, 4, 0.1) },
    });
    const seed = readSeedFolder(dir);
    return {
      write: (rng, input) => writeMutatedFolder(seed, rng, input, { strings: [...SAE_STRINGS, 'encoder.weight', 'encoder.bias', 'W_dec', 'b_dec', 'groupmax'] }),
      writeSeed: (input) => writeSeedFolder(seed, input),
      read(input) {
        useSae(readSparsify(input, { model, hookName: 'blocks.2.hook_resid_post' }));
      },
    };
  },
};
