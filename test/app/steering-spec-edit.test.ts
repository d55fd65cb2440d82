import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_FEATURE_STRENGTH, settingsWithFeature } from '../../src/app/steer/steering-controller.js';
import { activeSteering, describeSteering, featureEntries, vectorEntries, withFeature, withoutFeature, withoutVector, withVector } from '../../src/app/steer/steering-spec-edit.js';
import { generateSteered } from '../../src/steer/generate-steered.js';
import { isEmptySteering, parseSteeringSpec } from '../../src/steer/steering-spec.js';
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

test("the page's spec edits produce specs the server's parser accepts, with the same features and vectors", () => {
  let spec = withFeature({}, { source: 'blocks.2.hook_resid_post', index: 7, strength: 4 });
  spec = withFeature(spec, { source: 'blocks.2.hook_resid_post', index: 9, strength: -2, method: 'CLAMP' });
  spec = withVector(spec, { vector: 'happy', strength: 3 });
  const parsed = parseSteeringSpec(spec);
  assert.deepEqual(
    parsed.features.map((f) => [f.source, f.index, f.strength, f.method ?? null]),
    [
      ['blocks.2.hook_resid_post', 7, 4, null],
      ['blocks.2.hook_resid_post', 9, -2, 'CLAMP'],
    ],
  );
  assert.deepEqual(featureEntries(spec).map((f) => f.index), [7, 9]);
  assert.deepEqual(vectorEntries(spec).map((v) => [v.vector, v.strength]), [['happy', 3]]);
});

test('adding a feature that is there replaces its entry; removing everything leaves nothing to send', () => {
  let spec = withFeature({ strength_multiplier: 2 }, { source: 's', index: 1, strength: 1 });
  spec = withFeature(spec, { source: 's', index: 1, strength: 5 });
  assert.deepEqual(featureEntries(spec), [{ source: 's', index: 1, strength: 5 }]);
  spec = withVector(withVector(spec, { vector: 'v', strength: 1 }), { vector: 'v', strength: 2 });
  assert.deepEqual(vectorEntries(spec), [{ vector: 'v', strength: 2 }]);
  assert.ok(activeSteering(spec));
  const emptied = withoutVector(withoutFeature(spec, 's', 1), 'v');
  assert.equal(activeSteering(emptied), undefined);
  // What the page stops sending is what the server would treat as no steering at all.
  assert.ok(isEmptySteering(parseSteeringSpec(emptied)));
  assert.equal(emptied.strength_multiplier, 2, 'other fields the writer set in the JSON are kept');
});
