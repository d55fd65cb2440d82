import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SteeringError } from '../../../src/errors.js';
import type { HookName } from '../../../src/model/hook-points.js';
import { loadModel } from '../../../src/model/load-model.js';
import { runWithCache } from '../../../src/model/run-with-cache.js';
import { styleVector } from '../../../src/steer/vectors/style-vector.js';
import { assertAllClose } from '../../helpers/assert-all-close.js';

const { model, tokenizer } = loadModel();
const HOOK: HookName = 'blocks.2.hook_resid_post';

/** Sum over tokens 1.. of each context (BOS left out), through runWithCache one context at a time. */
function handSum(contexts: number[][]): { sum: Float64Array; tokens: number } {
  const sum = new Float64Array(model.config.dim);
  let tokens = 0;
  for (const ctx of contexts) {
    const acts = runWithCache(model, ctx, [HOOK]).activations.get(HOOK)!;
    for (let t = 1; t < ctx.length; t++) for (let j = 0; j < sum.length; j++) sum[j] += acts[t * sum.length + j];
    tokens += ctx.length - 1;
  }
  return { sum, tokens };
}

test('style vector = mean over sample tokens − mean over as many reference tokens, contexts cut alike', () => {
  const samples = ['The old lighthouse keeper counted the gulls at dawn, as he had for forty years.', 'Fog rolled in.'];
  const reference = [
    'Once upon a time there was a little dog named Spot. Spot liked to run and play in the park with his ball.',
    'One day Spot saw a big cat in the tree. The cat said hello and they became good friends for ever.',
    'More text that is never read.',
  ];
  const size = 8; // small contexts, so the cutting rule is exercised
  const set = styleVector(model, tokenizer, samples, reference, { hooks: [HOOK], contextSize: size });
  // Cut by hand: BOS + 7 tokens at a time, per document; the reference stops at the samples' token count.
  const cut = (docs: string[], limit = Infinity): number[][] => {
    const out: number[][] = [];
    let n = 0;
    for (const doc of docs) {
      const ids = tokenizer.encode(doc, { bos: false });
      for (let at = 0; at < ids.length && n < limit; at += size - 1) {
        const piece = ids.slice(at, Math.min(at + size - 1, at + limit - n));
        out.push([tokenizer.bosId, ...piece]);
        n += piece.length;
      }
    }
    return out;
  };
  const mine = handSum(cut(samples));
  const ref = handSum(cut(reference, mine.tokens));
  assert.equal(ref.tokens, mine.tokens);
  assert.equal(set.metadata.sample_tokens, String(mine.tokens));
  assert.equal(set.metadata.reference_tokens, String(mine.tokens));
  const expected = mine.sum.map((s, j) => s / mine.tokens - ref.sum[j] / ref.tokens);
  assertAllClose(set.vectors.get(HOOK)!, expected, { atol: 1e-5 });
});

test('style vector of samples against themselves is zero; empty samples are an error', () => {
  const text = ['Tim had a red kite. He flew it high in the blue sky every day.'];
  const set = styleVector(model, tokenizer, text, text, { contextSize: 16 });
  assert.equal(set.vectors.size, model.config.nLayers);
  for (const v of set.vectors.values()) assert.ok(v.every((a) => Math.abs(a) < 1e-6));
  assert.throws(() => styleVector(model, tokenizer, [], text), SteeringError);
  assert.throws(() => styleVector(model, tokenizer, text, text, { contextSize: 1 }), SteeringError);
});
