import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generate } from '../../src/model/generate.js';
import { generateSteered } from '../../src/steer/generate-steered.js';
import type { SteeredRequest } from '../../src/steer/generate-steered.js';
import { parseSteeringSpec } from '../../src/steer/steering-spec.js';
import { maxAbsDiff } from '../helpers/assert-all-close.js';
import { ctx, featureFor, forcedLogits, HOOK, model, STORY, tokenizer, VOCAB } from './steer-test-helpers.js';

/** Real generations, steered and not: identity for empty specs, and a measurable, directed effect. */
const FEATURE = featureFor(' happy'); // its direct logit effect favours " happy" most
const topTokens = (k: number): number[] => {
  const dir = ctx.featureLogitDirection(ctx.sae(HOOK), FEATURE);
  return [...dir.keys()].sort((a, b) => dir[b] - dir[a]).slice(0, k);
};
const requests = (n: number, steering?: unknown): SteeredRequest[] =>
  Array.from({ length: n }, (_, i) => ({ prompt: 'Once upon a time', maxTokens: 40, seed: 100 + i, sampling: { temperature: 0.9 }, steering: parseSteeringSpec(steering) }));
const countOf = (results: { tokens: number[] }[], ids: number[]): number => results.reduce((n, r) => n + r.tokens.filter((t) => ids.includes(t)).length, 0);

test('empty and zero-strength specs generate exactly what unsteered generation does', () => {
  const plain = generate(model, tokenizer, requests(4).map(({ steering: _s, ...r }) => ({ ...r, logprobs: true })));
  for (const spec of [undefined, {}, { features: [{ source: HOOK, index: FEATURE, strength: 0 }], guide: [{ source: HOOK, index: FEATURE, strength: 0 }] }]) {
    const steered = generateSteered(ctx, requests(4, spec).map((r) => ({ ...r, logprobs: true })));
    assert.deepEqual(steered.map((r) => r.tokens), plain.map((r) => r.tokens));
    assert.deepEqual(steered.map((r) => r.logprobs.map((l) => l.logprob)), plain.map((r) => r.logprobs.map((l) => l.logprob)));
  }
});

test("steering a feature raises the frequency of its output tokens in 50 seeded generations", () => {
  const ids = topTokens(5);
  const clean = countOf(generateSteered(ctx, requests(50)), ids);
  const steered = countOf(generateSteered(ctx, requests(50, { features: [{ source: HOOK, index: FEATURE, strength: 3 }] })), ids);
  assert.ok(steered > 2 * clean + 5, `feature tokens ${ids.map((i) => tokenizer.piece(i))}: ${clean} clean vs ${steered} steered`);
});

test('SAE-guided decoding raises (strength > 0) and lowers (< 0) the frequency of the feature\'s output tokens', () => {
  const ids = topTokens(5);
  const clean = countOf(generateSteered(ctx, requests(50)), ids);
  const toward = countOf(generateSteered(ctx, requests(50, { guide: [{ source: HOOK, index: FEATURE, strength: 4 }] })), ids);
  const away = countOf(generateSteered(ctx, requests(50, { guide: [{ source: HOOK, index: FEATURE, strength: -8 }] })), ids);
  assert.ok(toward > 2 * clean + 5, `toward: ${clean} clean vs ${toward}`);
  assert.ok(away < clean, `away: ${clean} clean vs ${away}`);
});

test('guided rows in a mixed batch equal the same rows run alone; unguided rows are untouched', () => {
  const rows = Array.from({ length: 6 }, (_, i) => ({
    spec: i % 2 ? undefined : { guide: [{ source: HOOK, index: (FEATURE + 7 * i) % 1024, strength: 2 + i }], features: i === 4 ? [{ source: HOOK, index: 3, strength: 2 }] : [] },
    tokens: STORY.slice(0, 15 + i),
    promptLength: 5 + i,
  }));
  const batched = forcedLogits(rows);
  rows.forEach((r, i) => {
    const alone = forcedLogits([r])[0];
    alone.forEach((l, step) => assert.ok(maxAbsDiff(batched[i][step], l) <= 1e-4, `row ${i} step ${step}`));
    const clean = forcedLogits([{ ...r, spec: undefined }])[0];
    const moved = clean.some((l, step) => maxAbsDiff(batched[i][step], l) > 1e-3);
    assert.equal(moved, r.spec !== undefined, `row ${i}`);
  });
  assert.equal(batched[0][0].length, VOCAB);
});
