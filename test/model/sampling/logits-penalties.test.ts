import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ShapeError } from '../../../src/errors.js';
import {
  applyFrequencyPresencePenalties,
  applyPenalties,
  applyRepetitionPenalty,
} from '../../../src/model/sampling/logits-penalties.js';
import { TokenCounts } from '../../../src/model/sampling/token-counts.js';

const close = (a: number, b: number) => Math.abs(a - b) < 1e-5;

function assertUnchangedExcept(before: Float32Array, after: Float32Array, changed: number[]): void {
  for (let i = 0; i < before.length; i++) {
    if (!changed.includes(i)) assert.equal(after[i], before[i], `logit ${i} should not change`);
  }
}

describe('penalties', () => {
  it('repetition penalty divides positive and multiplies negative logits of seen tokens', () => {
    const logits = Float32Array.from([2, -1, 0.5, -3, 4, 0]);
    const before = logits.slice();
    const c = new TokenCounts(6);
    c.addPrompt([0, 1]);
    c.addGenerated(3);
    c.addGenerated(3);
    c.addGenerated(5);
    applyRepetitionPenalty(logits, c, 2);
    assert.equal(logits[0], 1); // 2 / 2
    assert.equal(logits[1], -2); // -1 · 2
    assert.equal(logits[3], -6); // -3 · 2, once however often it was generated
    assert.equal(logits[5], 0); // zero stays zero
    assertUnchangedExcept(before, logits, [0, 1, 3, 5]);
  });

  it('repetition penalty below 1 makes seen tokens more likely', () => {
    const logits = Float32Array.from([2, -1]);
    const c = new TokenCounts(2);
    c.addGenerated(0);
    c.addGenerated(1);
    applyRepetitionPenalty(logits, c, 0.5);
    assert.deepEqual(Array.from(logits), [4, -0.5]);
  });

  it('frequency and presence subtract count·f + p from generated tokens only', () => {
    const logits = Float32Array.from([1, 1, 1, 1, 1]);
    const c = new TokenCounts(5);
    c.addPrompt([4]);
    for (const t of [0, 0, 0, 2]) c.addGenerated(t);
    applyFrequencyPresencePenalties(logits, c, 0.5, 0.25);
    assert.ok(close(logits[0], 1 - (3 * 0.5 + 0.25))); // -0.75
    assert.ok(close(logits[2], 1 - (1 * 0.5 + 0.25))); // 0.25
    assert.equal(logits[4], 1); // prompt-only: count 0, untouched
    assert.equal(logits[1], 1);
    assert.equal(logits[3], 1);
  });

  it('negative frequency/presence penalties raise logits', () => {
    const logits = Float32Array.from([0, 0]);
    const c = new TokenCounts(2);
    c.addGenerated(1);
    c.addGenerated(1);
    applyFrequencyPresencePenalties(logits, c, -1, -0.5);
    assert.deepEqual(Array.from(logits), [0, 2.5]);
  });

  it('applyPenalties applies repetition first, then frequency and presence', () => {
    const logits = Float32Array.from([3, -2, 7]);
    const c = new TokenCounts(3);
    c.addGenerated(0);
    c.addGenerated(0);
    c.addGenerated(1);
    applyPenalties(logits, c, { repetitionPenalty: 1.5, frequencyPenalty: 0.1, presencePenalty: 0.3 });
    assert.ok(close(logits[0], 3 / 1.5 - (2 * 0.1 + 0.3))); // 1.5
    assert.ok(close(logits[1], -2 * 1.5 - (1 * 0.1 + 0.3))); // -3.4
    assert.equal(logits[2], 7);
  });

  it('off values leave the logits bit-identical', () => {
    const logits = Float32Array.from([0.1, -0.2, 0.3]);
    const before = logits.slice();
    const c = new TokenCounts(3);
    c.addGenerated(0);
    c.addGenerated(1);
    applyPenalties(logits, c, { repetitionPenalty: 1, frequencyPenalty: 0, presencePenalty: 0 });
    assert.deepEqual(logits, before);
  });

  it('only touched ids change in a large vocab', () => {
    const vocab = 50_000;
    const logits = new Float32Array(vocab).map((_, i) => Math.sin(i));
    const before = logits.slice();
    const c = new TokenCounts(vocab);
    const ids = [7, 49_999, 12_345, 0];
    c.addPrompt([ids[0]]);
    for (const t of ids.slice(1)) c.addGenerated(t);
    applyPenalties(logits, c, { repetitionPenalty: 1.3, frequencyPenalty: 0.4, presencePenalty: 0.2 });
    assertUnchangedExcept(before, logits, ids);
    for (const t of ids) assert.notEqual(logits[t], before[t]);
  });

  it('rejects logits whose length is not the vocab size', () => {
    const c = new TokenCounts(4);
    assert.throws(() => applyRepetitionPenalty(new Float32Array(3), c, 1.2), ShapeError);
    assert.throws(() => applyFrequencyPresencePenalties(new Float32Array(5), c, 1, 1), ShapeError);
  });
});
