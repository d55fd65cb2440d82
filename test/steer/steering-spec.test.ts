import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SteeringError } from '../../src/errors.js';
import { compileSteering } from '../../src/steer/compile-steering.js';
import { EMPTY_STEERING, parseSteeringSpec } from '../../src/steer/steering-spec.js';
import { ctx, HOOK } from './steer-test-helpers.js';

test('a Neuronpedia-style request parses, with defaults filled in', () => {
  const spec = parseSteeringSpec({
    features: [{ layer: HOOK, index: '12', strength: 4 }, { source: 2, index: 3, strength: -1, method: 'CLAMP' }],
    vectors: [{ hook: HOOK, vector: [1, 2], strength: 0.5 }],
    strength_multiplier: 2,
    steer_method: 'ORTHOGONAL_DECOMP',
    normalize_steering: true,
    scope: { after: '"' },
  });
  assert.deepEqual(spec.features, [{ source: HOOK, index: 12, strength: 4 }, { source: '2', index: 3, strength: -1, method: 'CLAMP' }]);
  assert.equal(spec.strength_multiplier, 2);
  assert.deepEqual(spec.scope, { kind: 'after', marker: '"' });
  assert.deepEqual(parseSteeringSpec(undefined), EMPTY_STEERING);
  assert.deepEqual(parseSteeringSpec({ scope: { start: 3 } }).scope, { kind: 'range', start: 3, end: Number.MAX_SAFE_INTEGER });
});

test('bad requests fail with a SteeringError that names the field', () => {
  const cases: [unknown, RegExp][] = [
    [[], /^steering must be an object/],
    [{ feature: [] }, /steering\.feature is not a steering field/],
    [{ features: {} }, /steering\.features must be an array/],
    [{ features: [{ index: 1, strength: 1 }] }, /steering\.features\[0\]\.source/],
    [{ features: [{ source: HOOK, index: -1, strength: 1 }] }, /steering\.features\[0\]\.index must be a non-negative integer/],
    [{ features: [{ source: HOOK, index: 1, strength: 'big' }] }, /steering\.features\[0\]\.strength must be a finite number/],
    [{ features: [{ source: HOOK, index: 1, strength: 1, method: 'PUSH' }] }, /steering\.features\[0\]\.method must be one of/],
    [{ vectors: [{ vector: [1, 2], strength: 1 }] }, /steering\.vectors\[0\]\.hook is required/],
    [{ vectors: [{ hook: HOOK, vector: [], strength: 1 }] }, /steering\.vectors\[0\]\.vector must be/],
    [{ steer_method: 'ADD' }, /steering\.steer_method must be one of/],
    [{ scope: 'middle' }, /steering\.scope must be/],
    [{ scope: { start: 5, end: 2 } }, /steering\.scope: end \(2\) must be greater/],
    [{ normalize_steering: 'yes' }, /steering\.normalize_steering must be true or false/],
  ];
  for (const [raw, message] of cases) assert.throws(() => parseSteeringSpec(raw), (e: unknown) => e instanceof SteeringError && message.test(e.message), JSON.stringify(raw));
});

test('specs that do not fit the model fail at compile time, naming the field', () => {
  const cases: [unknown, RegExp][] = [
    [{ features: [{ source: HOOK, index: 5000, strength: 1 }] }, /steering\.features\[0\]\.index 5000 is outside 0\.\.1023/],
    [{ features: [{ source: 'no/such/sae', index: 1, strength: 1 }] }, /steering\.features\[0\]\.source.*no shipped SAE/],
    [{ features: [{ source: '9', index: 1, strength: 1 }] }, /steering\.features\[0\]\.source/],
    [{ vectors: [{ hook: HOOK, vector: [1, 2, 3], strength: 1 }] }, /steering\.vectors\[0\]\.vector has 3 numbers but blocks\.2\.hook_resid_post is 64 wide/],
    [{ vectors: [{ hook: 'blocks.9.hook_resid_post', vector: [1], strength: 1 }] }, /steering\.vectors\[0\].*blocks\.9/],
    [{ vectors: [{ vector: 'no-such-preset', strength: 1 }] }, /steering\.vectors\[0\].*neither a preset/],
  ];
  for (const [raw, message] of cases) {
    assert.throws(() => compileSteering(parseSteeringSpec(raw), ctx), (e: unknown) => e instanceof SteeringError && message.test(e.message), JSON.stringify(raw));
  }
});
