import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { UsageError } from '../../../src/errors.js';
import { TokenCounts } from '../../../src/model/sampling/token-counts.js';

function touched(c: TokenCounts): number[] {
  return Array.from(c.touchedIds.subarray(0, c.distinct));
}

describe('TokenCounts', () => {
  it('counts generated tokens and lists each distinct id once, in first-seen order', () => {
    const c = new TokenCounts(10);
    for (const t of [3, 7, 3, 3, 0]) c.addGenerated(t);
    assert.equal(c.distinct, 3);
    assert.deepEqual(touched(c), [3, 7, 0]);
    assert.equal(c.counts[3], 3);
    assert.equal(c.counts[7], 1);
    assert.equal(c.counts[0], 1);
    assert.equal(c.counts.reduce((a, b) => a + b, 0), 5);
  });

  it('marks prompt tokens as seen without counting them', () => {
    const c = new TokenCounts(10);
    c.addPrompt([5, 5, 2]);
    c.addGenerated(2);
    assert.deepEqual(touched(c), [5, 2]);
    assert.equal(c.counts[5], 0);
    assert.equal(c.counts[2], 1);
  });

  it('grows its id list past the initial capacity and can hold the whole vocab', () => {
    const vocab = 1000;
    const c = new TokenCounts(vocab);
    for (let t = vocab - 1; t >= 0; t--) c.addGenerated(t);
    assert.equal(c.distinct, vocab);
    assert.deepEqual(new Set(touched(c)).size, vocab);
  });

  it('reset forgets everything', () => {
    const c = new TokenCounts(10);
    c.addPrompt([1, 2]);
    c.addGenerated(4);
    c.reset();
    assert.equal(c.distinct, 0);
    assert.ok(c.counts.every((x) => x === 0));
    c.addGenerated(1);
    assert.deepEqual(touched(c), [1]);
    assert.equal(c.counts[1], 1);
  });

  it('rejects out-of-range ids and a bad vocab size', () => {
    const c = new TokenCounts(4);
    for (const t of [-1, 4, 1.5, NaN]) assert.throws(() => c.addGenerated(t), UsageError);
    assert.throws(() => c.addPrompt([0, 9]), UsageError);
    assert.throws(() => new TokenCounts(0), UsageError);
  });
});
