/**
 * Steering requests (JSON, Neuronpedia field names): specs using every part of the format —
 * feature edits on the shipped SAEs by hook and by layer with each method, preset and inline
 * vectors, guidance, every scope — mutated as JSON, then parsed and used for a steered generation
 * on the embedded model, as `steer --spec FILE` does (a file that is not JSON at all is refused
 * there before parsing, as here).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../src/errors.js';
import { loadModel } from '../../src/model/load-model.js';
import { generateSteered } from '../../src/steer/generate-steered.js';
import { SteeringContext } from '../../src/steer/steering-context.js';
import { parseSteeringSpec, SAE_SPACE_METHODS, STEER_METHODS } from '../../src/steer/steering-spec.js';
import { randomArray } from '../../test/sae/sae-test-helpers.js';
import { mutateJson } from '../json-mutators.js';
import type { FuzzTarget } from '../fuzz-target.js';
import { AcceptedBadInput } from '../outcome.js';
import { writeFile } from './seed-files.js';
import { HOOK_STRINGS } from './steering-vectors.js';

const inline = Array.from(randomArray(64, 4, 0.5), (v) => Math.round(v * 1000) / 1000);

const SPECS: unknown[] = [
  { features: [{ source: 'blocks.2.hook_resid_post', index: 248, strength: 3, method: 'SIMPLE_ADDITIVE' }], strength_multiplier: 1, steer_method: 'SIMPLE_ADDITIVE', normalize_steering: false },
  { features: [{ layer: 1, index: '17', strength: 2, method: 'CLAMP' }, { source: '3', index: 5, strength: 0, method: 'ABLATE' }], scope: 'generated' },
  { vectors: [{ vector: 'happy', strength: 1 }, { hook: 'blocks.1.hook_resid_mid', vector: inline, strength: 2, method: 'ORTHOGONAL_DECOMP' }], normalize_steering: true, scope: { start: 1, end: 6 } },
  { guide: [{ layer: 2, index: 248, strength: 4 }], features: [{ source: 'blocks.2.hook_resid_post', index: 3, strength: 0.5, method: 'MULTIPLY' }], scope: { after: 'time' } },
  { features: [{ source: 'blocks.1.hook_resid_post', index: 9, strength: 1, method: 'PROJECTION_CAP' }], vectors: [{ vector: 'happy', hook: 'blocks.2.hook_resid_post', strength: -1 }], steer_method: 'PROJECTION_CAP', scope: 'prompt' },
];
const STRINGS = [...STEER_METHODS, ...SAE_SPACE_METHODS, ...HOOK_STRINGS, 'happy', 'all', 'prompt', 'generated', 'blocks.2.hook_resid_post', '2', '99', 'assets/saes/blocks.2.hook_resid_post'];

export const steeringSpecTarget: FuzzTarget = {
  name: 'steering-spec',
  prepare() {
    const { model, tokenizer } = loadModel();
    // One context for all inputs: it caches the shipped SAEs and their feature means, which no input changes.
    const ctx = new SteeringContext(model, tokenizer);
    const seeds = SPECS.map((s) => JSON.stringify(s));
    return {
      write(rng, dir) {
        const m = mutateJson(rng.pick(seeds), rng, { strings: STRINGS });
        writeFile(dir, 'spec.json', m.text);
        return m.how;
      },
      writeSeed: (dir) => writeFile(dir, 'spec.json', seeds[2]),
      read(dir) {
        const path = join(dir, 'spec.json');
        let raw: unknown;
        try {
          raw = JSON.parse(readFileSync(path, 'utf8'));
        } catch {
          throw new UsageError(`--spec ${path}: not JSON`);
        }
        const spec = parseSteeringSpec(raw, `${path}: steering`);
        const [r] = generateSteered(ctx, [{ prompt: 'Once upon a time', maxTokens: 3, sampling: { temperature: 0 }, stopAtEndOfText: false, steering: spec }]);
        if (r.tokens.length !== 3) throw new AcceptedBadInput(`steered generation gave ${r.tokens.length} of 3 tokens without an error`);
      },
    };
  },
};
