import assert from 'node:assert/strict';
import { test } from 'node:test';
import { activeSteering, featureEntries, vectorEntries, withFeature, withoutFeature, withoutVector, withVector } from '../../src/app/steer/steering-spec-edit.js';
import { isEmptySteering, parseSteeringSpec } from '../../src/steer/steering-spec.js';

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
