import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SteeringError } from '../../src/errors.js';
import { compileSteering } from '../../src/steer/compile-steering.js';
import { generateSteered } from '../../src/steer/generate-steered.js';
import { EMPTY_STEERING, parseSteeringSpec } from '../../src/steer/steering-spec.js';
import { formatFieldPath } from '../../src/util/validate-json.js';
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
    [{ scope: { start: 5, end: 2 } }, /steering\.scope\.end must be greater than start \(5\), got 2$/],
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

/** The SteeringError that parsing `raw` throws. */
function parseError(raw: unknown): string {
  try {
    parseSteeringSpec(raw);
  } catch (e) {
    assert.ok(e instanceof SteeringError, String(e));
    return e.message;
  }
  return assert.fail(`${JSON.stringify(raw)} parsed`);
}

test('non-finite numbers are reported as what they are, not as null (JSON.parse reads 1e400 as Infinity)', () => {
  const big = JSON.parse('{"features": [{"source": 2, "index": 1, "strength": 1e400}]}') as unknown;
  assert.equal(parseError(big), 'steering.features[0].strength must be a finite number, got Infinity');
  assert.equal(parseError({ strength_multiplier: -Infinity }), 'steering.strength_multiplier must be a finite number, got -Infinity');
  assert.equal(parseError({ vectors: [{ hook: HOOK, vector: [1, NaN] }] }), 'steering.vectors[0].vector[1] must be a finite number, got NaN');
  assert.equal(parseError({ features: [{ source: HOOK, index: 1e400 }] }), 'steering.features[0].index must be a non-negative integer, got Infinity');
});

test('an inline vector error names the element; a huge value or key is quoted short', () => {
  assert.equal(parseError({ vectors: [{ hook: HOOK, vector: [0.5, null, 1] }] }), 'steering.vectors[0].vector[1] must be a finite number, got null');
  const mb = 'x'.repeat(1 << 20);
  for (const raw of [{ steer_method: mb }, { [mb]: 1 }, { features: [{ source: HOOK, index: mb }] }, { vectors: [{ hook: HOOK, vector: [mb] }] }]) {
    const message = parseError(raw);
    assert.ok(message.length < 200, `${message.length} characters: ${message.slice(0, 300)}`);
    assert.match(message, /xxxx…/);
  }
});

test('deeply nested values (5,000 and 100,000 levels) are reported in one short line, without overflowing the stack', () => {
  for (const depth of [5_000, 100_000]) {
    for (const [open, close] of [['[', ']'], ['{"a":', '}']]) {
      const deep = JSON.parse(`${open.repeat(depth)}1${close.repeat(depth)}`) as unknown;
      for (const raw of [deep, { features: deep }, { features: [deep] }, { vectors: [{ hook: HOOK, vector: deep }] }, { vectors: [{ hook: HOOK, vector: [deep] }] }, { scope: deep }]) {
        const message = parseError(raw);
        assert.ok(message.length < 250, `${message.length} characters`);
        assert.match(message, /^steering/);
      }
    }
  }
});

test('errors name fields as the caller says the user wrote them, at parse and at compile time, never by batch row', () => {
  const inFile = (path: readonly PropertyKey[]) => `my-spec.json: ${formatFieldPath(path)}`;
  assert.throws(() => parseSteeringSpec({ features: [{ source: HOOK, index: 1, strength: 'x' }] }, inFile), {
    message: 'my-spec.json: features[0].strength must be a finite number, got "x"',
  });
  const spec = parseSteeringSpec({ features: [{ source: HOOK, index: 1 }, { source: HOOK, index: 5000, strength: 1 }] }, inFile);
  assert.throws(() => compileSteering(spec, ctx), { message: /^my-spec\.json: features\[1\]\.index 5000 is outside 0\.\.1023/ });
  // The second row of a batch: its spec's fields, not requests[1].
  const rows = [{ prompt: 'Lily', maxTokens: 2 }, { prompt: 'Lily', maxTokens: 2, steering: parseSteeringSpec({ guide: [{ layer: 2, index: 7000, strength: 1 }] }) }];
  assert.throws(() => generateSteered(ctx, rows), { name: 'SteeringError', message: /^steering\.guide\[0\]\.index 7000 is outside/ });
});
