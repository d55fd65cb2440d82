import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cardVariants, steeringLabel } from '../../src/app/margin/card-variants.js';

test('unsteered: three cards at consecutive seeds, each labelled unsteered, none carrying a steering field', () => {
  assert.deepEqual(cardVariants({}, 4), [
    { seed: 4, label: 'seed 4 · unsteered' },
    { seed: 5, label: 'seed 5 · unsteered' },
    { seed: 6, label: 'seed 6 · unsteered' },
  ]);
  // A spec whose lists are empty steers nothing (the request then has no steering field at all).
  assert.deepEqual(cardVariants({ features: [], vectors: [] }, 1, {}, 2).map((v) => v.steering), [undefined, undefined]);
});

test('steered: seeds s and s+1 with the spec, then the unsteered card at seed s; labels name every part', () => {
  const spec = { vectors: [{ vector: 'happy', strength: 4 }], features: [{ source: 'blocks.2.hook_resid_post', index: 123, strength: 6 }] };
  const v = cardVariants(spec, 4);
  assert.deepEqual(v.map((x) => x.label), ['seed 4 · happy +4 · feature 123 +6', 'seed 5 · happy +4 · feature 123 +6', 'seed 4 · unsteered']);
  assert.deepEqual(v[0].steering, spec);
  assert.deepEqual(v[1].steering, spec);
  assert.equal(v[2].steering, undefined);
  assert.equal(steeringLabel(spec, { 'blocks.2.hook_resid_post#123': 'dogs' }), 'happy +4 · dogs +6');
});

test('labels say what each method does with its strength', () => {
  const f = (strength: number, method?: string) => ({ features: [{ source: 's', index: 7, strength, method }] });
  assert.equal(steeringLabel(f(-3)), 'feature 7 −3');
  assert.equal(steeringLabel(f(0, 'ABLATE')), 'feature 7 ablated');
  assert.equal(steeringLabel(f(5, 'CLAMP')), 'feature 7 clamped to 5');
  assert.equal(steeringLabel(f(2, 'MULTIPLY')), 'feature 7 ×2');
  assert.equal(steeringLabel({ guide: [{ source: 's', index: 1, strength: 1 }] }), 'guided');
});

test('seeds wrap inside the server\'s range', () => {
  assert.deepEqual(cardVariants({}, 2 ** 31 - 1).map((v) => v.seed), [2 ** 31 - 1, 0, 1]);
});
