import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { UsageError } from '../../../src/errors.js';
import {
  defaultSamplingParams,
  validateSamplingParams,
  type SamplingParams,
} from '../../../src/model/sampling/sampling-params.js';

describe('validateSamplingParams', () => {
  it('fills every missing field with the "off" defaults', () => {
    assert.deepEqual(validateSamplingParams({}), {
      temperature: 1,
      topK: 0,
      topP: 1,
      minP: 0,
      frequencyPenalty: 0,
      presencePenalty: 0,
      repetitionPenalty: 1,
      logprobs: 0,
    });
    assert.deepEqual(validateSamplingParams({}), { ...defaultSamplingParams });
    assert.ok(Object.isFrozen(defaultSamplingParams));
  });

  it('keeps given values and accepts the edges of each range', () => {
    const edges: Partial<SamplingParams>[] = [
      { temperature: 0 },
      { topK: 1 },
      { topP: 1 },
      { topP: 1e-9 },
      { minP: 0 },
      { minP: 1 },
      { frequencyPenalty: -2, presencePenalty: 2 },
      { frequencyPenalty: 2, presencePenalty: -2 },
      { repetitionPenalty: 1e-3 },
      { logprobs: 20 },
    ];
    for (const p of edges) {
      const v = validateSamplingParams(p);
      for (const [k, value] of Object.entries(p)) assert.equal(v[k as keyof SamplingParams], value);
    }
  });

  it('throws a UsageError naming the field and the bad value', () => {
    const bad: [keyof SamplingParams, unknown][] = [
      ['temperature', -0.1],
      ['temperature', Infinity],
      ['temperature', NaN],
      ['topK', -1],
      ['topK', 2.5],
      ['topP', 0],
      ['topP', 1.01],
      ['topP', NaN],
      ['minP', -0.01],
      ['minP', 1.5],
      ['frequencyPenalty', 2.5],
      ['frequencyPenalty', -Infinity],
      ['presencePenalty', -3],
      ['repetitionPenalty', 0],
      ['repetitionPenalty', -1],
      ['repetitionPenalty', Infinity],
      ['logprobs', 21],
      ['logprobs', -1],
      ['logprobs', 1.5],
      ['temperature', '0.7'],
      ['topK', null],
    ];
    for (const [field, value] of bad) {
      assert.throws(
        () => validateSamplingParams({ [field]: value } as Partial<SamplingParams>),
        (e: unknown) => {
          assert.ok(e instanceof UsageError, `${field}=${String(value)} should throw UsageError`);
          assert.match(e.message, new RegExp(`\\b${field}\\b`));
          const shown = typeof value === 'number' ? String(value) : JSON.stringify(value);
          assert.ok(e.message.includes(shown), `"${e.message}" should show ${shown}`);
          return true;
        },
      );
    }
  });
});
