/**
 * Steering-vector files (safetensors, one 1-D tensor per hook point): vectors at three hooks of
 * the embedded model (residual stream and MLP widths) written by our writer, a shipped preset, and
 * a well-formed file made for another model (10- and 100-wide vectors); mutated, read as
 * `steer --vector FILE` reads them, then steered with.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../src/model/load-model.js';
import { SteeringContext, presetPath } from '../../src/steer/steering-context.js';
import { PRESETS } from '../../src/steer/presets.js';
import { writeSteeringVectors } from '../../src/steer/steering-vector-set.js';
import { randomArray } from '../../test/sae/sae-test-helpers.js';
import type { FuzzTarget } from '../fuzz-target.js';
import { mutateSafetensors } from './safetensors-mutation.js';
import { writeFile } from './seed-files.js';
import { steerWithVectorFile } from './vector-use.js';

export const HOOK_STRINGS = ['blocks.0.hook_resid_post', 'blocks.1.hook_resid_mid', 'blocks.4.mlp.hook_post', 'blocks.5.hook_resid_post', 'blocks.2.attn.hook_pattern', 'hook_embed', 'ln_final.hook_normalized', 'blocks.-1.hook_resid_post'];

export const steeringVectorsTarget: FuzzTarget = {
  name: 'steering-vectors',
  prepare(work) {
    const { model, tokenizer } = loadModel();
    const ours = join(work, 'vectors.safetensors');
    writeSteeringVectors(ours, {
      vectors: new Map([
        ['blocks.1.hook_resid_post', randomArray(64, 1, 0.5)],
        ['blocks.3.hook_resid_mid', randomArray(64, 2, 0.5)],
        ['blocks.2.mlp.hook_post', randomArray(172, 3, 0.5)],
      ]),
      metadata: { method: 'caa', model: 'stories260K' },
    });
    const other = join(work, 'other-model.safetensors');
    writeSteeringVectors(other, {
      vectors: new Map([
        ['blocks.1.hook_resid_post', randomArray(10, 4, 0.5)],
        ['blocks.2.hook_resid_post', randomArray(100, 5, 0.5)],
      ]),
      metadata: { model: 'another model' },
    });
    const seeds = [ours, presetPath(PRESETS[0].name), other].map((p) => new Uint8Array(readFileSync(p)));
    return {
      write(rng, dir) {
        const m = mutateSafetensors(rng.pick(seeds), rng, HOOK_STRINGS);
        writeFile(dir, 'vectors.safetensors', m.bytes);
        return m.how;
      },
      writeSeed: (dir) => writeFile(dir, 'vectors.safetensors', seeds[0]),
      read(dir) {
        steerWithVectorFile(new SteeringContext(model, tokenizer), join(dir, 'vectors.safetensors'));
      },
    };
  },
};
