import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_FEATURE_STRENGTH, settingsWithFeature } from '../../src/app/steer/steering-controller.js';
import { activeSteering, describeSteering } from '../../src/app/steer/steering-spec-edit.js';
import { generateSteered } from '../../src/steer/generate-steered.js';
import { parseSteeringSpec } from '../../src/steer/steering-spec.js';
import { Settings } from '../../src/vault/vault-api.js';
import { ctx, HOOK } from '../steer/steer-test-helpers.js';

const run = (spec: unknown) => generateSteered(ctx, [{ prompt: 'Once upon a time', maxTokens: 24, seed: 3, sampling: { temperature: 0.8, topP: 0.9 }, steering: parseSteeringSpec(spec) }])[0].tokens;

test('activeSteering leaves out exactly the additive entries at strength 0: what it sends generates what the whole spec does', () => {
  const spec = {
    features: [
      { source: HOOK, index: 968, strength: 0 },
      { source: HOOK, index: 5, strength: 0, method: 'CLAMP' },
    ],
    vectors: [
      { vector: 'happy', strength: 6 },
      { vector: 'animals', strength: 0 },
    ],
  };
  const sent = activeSteering(spec);
  assert.deepEqual(sent, { features: [{ source: HOOK, index: 5, strength: 0, method: 'CLAMP' }], vectors: [{ vector: 'happy', strength: 6 }] });
  assert.deepEqual(run(sent), run(spec), 'the same tokens with and without the idle entries');
  assert.notDeepEqual(run(sent), run(undefined), 'and the spec does steer');
});

test('activeSteering: a spec whose every edit is an addition at 0 is no spec; a spec-wide method other than addition keeps its zeros', () => {
  assert.equal(activeSteering({}), undefined);
  assert.equal(activeSteering({ features: [{ source: HOOK, index: 968, strength: 0 }], vectors: [{ vector: 'happy', strength: 0 }], guide: [{ source: HOOK, index: 3, strength: 0 }] }), undefined);
  const capped = { steer_method: 'ORTHOGONAL_DECOMP', vectors: [{ vector: 'happy', strength: 0 }] };
  assert.deepEqual(activeSteering(capped), capped);
  assert.notDeepEqual(run(capped), run(undefined), 'removing the component along the direction is an edit, not the identity');
});

test('describeSteering counts what is sent', () => {
  assert.equal(describeSteering({ features: [{ source: HOOK, index: 1, strength: 0 }] }), null);
  assert.equal(describeSteering({ features: [{ source: HOOK, index: 1, strength: 2 }, { source: HOOK, index: 2, strength: -1 }] }), 'Steered · 2 features');
  assert.equal(describeSteering({ features: [{ source: HOOK, index: 1, strength: 2 }], vectors: [{ vector: 'happy', strength: 6 }] }), 'Steered · 1 feature · 1 vector');
});

test('steerWith adds a feature at the default strength with its label; one steered already keeps the writer’s strength and method', () => {
  const s = Settings.parse({});
  const added = settingsWithFeature(s, { source: HOOK, index: 968, label: 'dogs' });
  assert.deepEqual(added.steering.spec, { features: [{ source: HOOK, index: 968, strength: DEFAULT_FEATURE_STRENGTH }] });
  assert.deepEqual(added.steering.labels, { [`${HOOK}#968`]: 'dogs' });
  assert.doesNotThrow(() => parseSteeringSpec(added.steering.spec), 'the server takes it');
  const tuned = { ...s, steering: { spec: { features: [{ source: HOOK, index: 968, strength: -2, method: 'CLAMP' }] }, labels: {} } };
  const again = settingsWithFeature(tuned, { source: HOOK, index: 968, label: 'dogs, renamed' });
  assert.deepEqual(again.steering.spec, tuned.steering.spec);
  assert.equal(again.steering.labels[`${HOOK}#968`], 'dogs, renamed');
});
