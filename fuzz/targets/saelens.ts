/**
 * SAELens folders (cfg.json + sae_weights.safetensors + sparsity.safetensors): one of each
 * architecture written by our writer for the embedded model's blocks.2 residual stream, and a
 * pre-6.0 flat cfg.json; one file mutated; read with the model check as `steer` and `sae eval` do,
 * then used.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { embeddedModelPath } from '../../src/model/embedded.js';
import { readLlama2cHeader } from '../../src/model/llama2c-format.js';
import { withFile } from '../../src/model/llama2c-tensor-source.js';
import { readSaeLensFolder, SAE_CFG_FILENAME, writeSaeLensFolder } from '../../src/sae/saelens-format.js';
import { randomArray, randomSae, v6Config } from '../../test/sae/sae-test-helpers.js';
import type { FuzzTarget } from '../fuzz-target.js';
import type { SeedFolder } from './folder-mutation.js';
import { readSeedFolder, writeMutatedFolder, writeSeedFolder } from './folder-mutation.js';
import { SAE_STRINGS, useSae } from './sae-use.js';

export const embeddedConfig = () => withFile(embeddedModelPath(), (fd, size) => readLlama2cHeader(fd, size, embeddedModelPath()).config);

/** A pre-6.0 cfg.json: flat keys, `hook_point`, topk's k in activation_fn_kwargs. */
const PRE6_CFG = {
  architecture: 'topk',
  d_in: 64,
  d_sae: 32,
  dtype: 'torch.float32',
  hook_point: 'blocks.2.hook_resid_post',
  model_name: 'stories260K',
  context_size: 128,
  apply_b_dec_to_input: true,
  normalize_activations: 'none',
  activation_fn_kwargs: { k: 4 },
  sae_lens_version: '3.13.0',
};

export const saelensTarget: FuzzTarget = {
  name: 'saelens-folder',
  prepare(work) {
    const model = embeddedConfig();
    const seeds: SeedFolder[] = [];
    for (const arch of ['standard', 'gated', 'jumprelu', 'topk']) {
      const dir = join(work, arch);
      const sae = randomSae(v6Config(arch, 64, 32, arch === 'topk' ? { k: 4 } : {}), seeds.length + 1);
      sae.sparsity = randomArray(32, 9, 3).map((v) => -Math.abs(v));
      writeSaeLensFolder(dir, sae);
      seeds.push(readSeedFolder(dir));
    }
    const pre6 = join(work, 'pre6');
    writeSaeLensFolder(pre6, randomSae(v6Config('topk', 64, 32, { k: 4 }), 7));
    writeFileSync(join(pre6, SAE_CFG_FILENAME), JSON.stringify(PRE6_CFG));
    seeds.push(readSeedFolder(pre6));
    return {
      write: (rng, dir) => writeMutatedFolder(rng.pick(seeds), rng, dir, { strings: SAE_STRINGS }),
      writeSeed: (dir) => writeSeedFolder(seeds[3], dir),
      read(dir) {
        useSae(readSaeLensFolder(dir, { model }));
      },
    };
  },
};
