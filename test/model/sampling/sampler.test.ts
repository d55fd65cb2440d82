import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { NumericError, ShapeError, UsageError } from '../../../src/errors.js';
import { Prng } from '../../../src/model/sampling/prng.js';
import { Sampler } from '../../../src/model/sampling/sampler.js';
import { validateSamplingParams, type SamplingParams } from '../../../src/model/sampling/sampling-params.js';
import { TokenCounts } from '../../../src/model/sampling/token-counts.js';
import { activeBackend } from '../../../src/tensor/backend-registry.js';

// ---- references, computed in float64 from the definitions ----

function softmax(logits: ArrayLike<number>, temperature = 1): number[] {
  const x = Array.from(logits, (v) => v / temperature);
  const max = Math.max(...x);
  const e = x.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

function logSoftmax(logits: ArrayLike<number>): number[] {
  const x = Array.from(logits);
  const max = Math.max(...x);
  const lse = max + Math.log(x.reduce((a, v) => a + Math.exp(v - max), 0));
  return x.map((v) => v - lse);
}

/** `probs` truncated to `keep` and renormalised. */
function restrict(probs: number[], keep: number[]): number[] {
  const mass = keep.reduce((a, i) => a + probs[i], 0);
  return probs.map((p, i) => (keep.includes(i) ? p / mass : 0));
}

function argmaxFirst(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

function frequencies(logits: Float32Array, params: SamplingParams, draws: number, seed: number, counts: TokenCounts | null = null): number[] {
  const sampler = new Sampler(logits.length);
  const rng = new Prng(seed);
  const hits = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < draws; i++) hits[sampler.sample(logits, params, counts, rng).token]++;
  return hits.map((h) => h / draws);
}

/** Each frequency within 4 binomial standard errors of p; tokens with p = 0 never drawn. */
function assertDistribution(freq: number[], expected: number[], draws: number, label: string): void {
  for (let i = 0; i < expected.length; i++) {
    const p = expected[i];
    if (p === 0) {
      assert.equal(freq[i], 0, `${label}: token ${i} must never be drawn`);
    } else {
      const tolerance = 4 * Math.sqrt((p * (1 - p)) / draws);
      assert.ok(Math.abs(freq[i] - p) <= tolerance, `${label}: token ${i} drawn ${freq[i]}, expected ${p} ± ${tolerance}`);
    }
  }
}

const params = (p: Partial<SamplingParams>) => validateSamplingParams(p);

// Probabilities chosen so each filter's survivors can be worked out by hand. Sorted by rank
// (ties → lower id): 0:.30 2:.20 3:.15 4:.10 5:.08 6:.07 1:.05 7:.05,
// cumulative            .30   .50   .65   .75   .83   .90   .95   1.00
const PROBS = [0.3, 0.05, 0.2, 0.15, 0.1, 0.08, 0.07, 0.05];
// Any constant shift gives the same softmax.
const LOGITS = Float32Array.from(PROBS, (p) => Math.log(p) + 1.7);
const DRAWS = 50_000;

function randomLogits(rng: Prng, n: number, scale = 3): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.nextFloat() - 0.5) * 2 * scale);
}

describe('Sampler: greedy', () => {
  it('temperature 0 is argmax, ties going to the lowest index', () => {
    const rng = new Prng(3);
    const sampler = new Sampler(50);
    for (let trial = 0; trial < 200; trial++) {
      // Rounded to 0.5 so that ties at the maximum are common.
      const logits = randomLogits(rng, 50).map((v) => Math.round(v * 2) / 2);
      const got = sampler.sample(logits, params({ temperature: 0 }), null, rng).token;
      assert.equal(got, argmaxFirst(logits));
    }
    const tied = Float32Array.from([1, 5, 2, 5, 5]);
    assert.equal(new Sampler(5).sample(tied, params({ temperature: 0 }), null, rng).token, 1);
  });

  it('argmaxRows gives each row its first maximum, with and without a kernel backend', () => {
    const rng = new Prng(5);
    const vocab = 1000;
    const rows = 6;
    const logits = randomLogits(rng, rows * vocab).map((v) => Math.round(v * 2) / 2);
    logits.fill(-Infinity, 2 * vocab, 3 * vocab); // an all −∞ row: token 0
    logits[4 * vocab + 999] = 100; // the maximum in the last entry
    const want = Array.from({ length: rows }, (_, s) => argmaxFirst(logits.subarray(s * vocab, (s + 1) * vocab)));
    for (const backend of [undefined, activeBackend()]) {
      const got = new Sampler(vocab, backend).argmaxRows(logits, rows);
      assert.deepEqual(Array.from(got), want, backend?.name ?? 'no backend');
    }
    assert.throws(() => new Sampler(vocab).argmaxRows(logits, rows + 1), ShapeError);
  });

  it('topK = 1 is argmax at any temperature', () => {
    const rng = new Prng(4);
    const sampler = new Sampler(40);
    for (const temperature of [0.01, 0.7, 1, 5, 100]) {
      for (let trial = 0; trial < 100; trial++) {
        const logits = randomLogits(rng, 40).map((v) => Math.round(v));
        const got = sampler.sample(logits, params({ temperature, topK: 1 }), null, rng).token;
        assert.equal(got, argmaxFirst(logits), `T=${temperature}`);
      }
    }
  });

  it('a vanishing temperature behaves as argmax', () => {
    const rng = new Prng(5);
    const sampler = new Sampler(100);
    for (let trial = 0; trial < 100; trial++) {
      const logits = randomLogits(rng, 100);
      assert.equal(sampler.sample(logits, params({ temperature: 1e-30 }), null, rng).token, argmaxFirst(logits));
    }
  });

  it('greedy uses the penalised logits and draws nothing from the rng', () => {
    const counts = new TokenCounts(2);
    counts.addGenerated(0);
    const rng = new Prng(6);
    const got = new Sampler(2).sample(Float32Array.from([2, 1.9]), params({ temperature: 0, repetitionPenalty: 1.2 }), counts, rng);
    assert.equal(got.token, 1); // 2 / 1.2 < 1.9
    assert.equal(rng.nextU32(), new Prng(6).nextU32());
  });
});

describe('Sampler: distributions', () => {
  it('draws follow softmax(logits / T)', () => {
    for (const [temperature, seed] of [[1, 10], [0.5, 11], [2, 12]]) {
      const freq = frequencies(LOGITS, params({ temperature }), DRAWS, seed);
      assertDistribution(freq, softmax(LOGITS, temperature), DRAWS, `T=${temperature}`);
    }
  });

  it('top-k keeps the k highest logits, renormalised', () => {
    const freq = frequencies(LOGITS, params({ topK: 3 }), DRAWS, 13);
    assertDistribution(freq, restrict(PROBS, [0, 2, 3]), DRAWS, 'topK=3');
  });

  it('top-p keeps the smallest prefix with mass ≥ p, renormalised', () => {
    const cases: [number, number[]][] = [
      [0.25, [0]],
      [0.45, [0, 2]],
      [0.6, [0, 2, 3]],
      [0.7, [0, 2, 3, 4]],
      [0.8, [0, 2, 3, 4, 5]],
      [0.92, [0, 2, 3, 4, 5, 6, 1]], // 1 and 7 tie at .05: the lower id is ranked first
      [0.97, [0, 1, 2, 3, 4, 5, 6, 7]],
    ];
    for (const [topP, keep] of cases) {
      const freq = frequencies(LOGITS, params({ topP }), DRAWS, 14);
      assertDistribution(freq, restrict(PROBS, keep), DRAWS, `topP=${topP}`);
    }
  });

  it('min-p keeps tokens with p ≥ minP · p_max, renormalised', () => {
    // p_max = .30: minP .25 → threshold .075 keeps .08 but not .07; minP .6 → .18 keeps .30, .20.
    const cases: [number, number[]][] = [
      [0.25, [0, 2, 3, 4, 5]],
      [0.6, [0, 2]],
      [1, [0]],
    ];
    for (const [minP, keep] of cases) {
      const freq = frequencies(LOGITS, params({ minP }), DRAWS, 15);
      assertDistribution(freq, restrict(PROBS, keep), DRAWS, `minP=${minP}`);
    }
  });

  it('temperature, top-k, top-p and min-p compose in order', () => {
    // At T = 2, q ∝ √p: .548 .224 .447 .387 .316 .283 .265 .224 (ids 0..7).
    // top-k 5 keeps 0 2 3 4 5; renormalised: .276 .226 .195 .160 .143.
    // top-p .8: cumulative .276 .502 .698 .857 → keeps 0 2 3 4.
    // min-p .6: threshold .6 · .276 = .166 → keeps 0 2 3 (.195), drops 4 (.160).
    const freq = frequencies(LOGITS, params({ temperature: 2, topK: 5, topP: 0.8, minP: 0.6 }), DRAWS, 16);
    assertDistribution(freq, restrict(softmax(LOGITS, 2), [0, 2, 3]), DRAWS, 'combined');
  });

  it('penalties shift the sampled distribution by their formula', () => {
    // Token 0 generated twice: repetition 2 leaves its zero logit at 0 · 2 = 0, then frequency .5
    // gives 0 − 2·.5 = −1. Token 3 is in the prompt only: repetition 2 → 1 / 2 = .5, no frequency.
    const logits = Float32Array.from([0, 0, 0, 1]);
    const counts = new TokenCounts(4);
    counts.addPrompt([3]);
    counts.addGenerated(0);
    counts.addGenerated(0);
    const freq = frequencies(logits, params({ frequencyPenalty: 0.5, repetitionPenalty: 2 }), DRAWS, 17, counts);
    assertDistribution(freq, softmax([-1, 0, 0, 0.5]), DRAWS, 'penalised');
  });

  it('never draws a token whose logit is −∞', () => {
    const logits = Float32Array.from([0, -Infinity, 1, -Infinity, 0.5]);
    const freq = frequencies(logits, params({}), 20_000, 18);
    assert.equal(freq[1], 0);
    assert.equal(freq[3], 0);
    assertDistribution(freq, softmax([0, -Infinity, 1, -Infinity, 0.5]), 20_000, 'banned');
  });
});

describe('Sampler: logprobs', () => {
  it('reports the log-softmax of the raw logits, whatever the sampling settings', () => {
    const rng = new Prng(20);
    const vocab = 100;
    const sampler = new Sampler(vocab);
    const counts = new TokenCounts(vocab);
    for (const t of [3, 3, 17, 42]) counts.addGenerated(t);
    const settings = [
      params({ logprobs: 5 }),
      params({ logprobs: 5, temperature: 0 }),
      params({ logprobs: 5, temperature: 0.3, topK: 10, topP: 0.5, minP: 0.1 }),
      params({ logprobs: 5, temperature: 3, repetitionPenalty: 1.5, frequencyPenalty: 1, presencePenalty: 1 }),
    ];
    for (let trial = 0; trial < 20; trial++) {
      const logits = randomLogits(rng, vocab);
      const expected = logSoftmax(logits);
      const ranked = Array.from(expected.keys()).sort((a, b) => expected[b] - expected[a] || a - b);
      const tops = settings.map((p) => {
        const got = sampler.sample(logits, p, counts, rng);
        assert.ok(Math.abs(got.logprob - expected[got.token]) < 1e-5);
        return got.top;
      });
      for (const top of tops) assert.deepEqual(top, tops[0], 'top alternatives do not depend on the settings');
      const top = tops[0];
      assert.deepEqual(top.map((t) => t.token), ranked.slice(0, 5));
      for (const t of top) assert.ok(Math.abs(t.logprob - expected[t.token]) < 1e-5);
      for (let j = 1; j < top.length; j++) assert.ok(top[j - 1].logprob >= top[j].logprob);
      assert.ok(top.reduce((a, t) => a + Math.exp(t.logprob), 0) <= 1);
    }
  });

  it('returns no alternatives when logprobs is 0, and up to the vocab when asked for more', () => {
    const rng = new Prng(21);
    assert.deepEqual(new Sampler(8).sample(LOGITS, params({}), null, rng).top, []);
    const top = new Sampler(3).sample(Float32Array.from([0, 2, 2]), params({ logprobs: 20 }), null, rng).top;
    assert.deepEqual(top.map((t) => t.token), [1, 2, 0]); // equal logits: lower id first
    assert.ok(Math.abs(top.reduce((a, t) => a + Math.exp(t.logprob), 0) - 1) < 1e-6);
  });
});

describe('Sampler: determinism and safety', () => {
  it('the same seed gives the same tokens; a different seed gives different ones', () => {
    const run = (seed: number) => {
      const rng = new Prng(seed);
      const sampler = new Sampler(8);
      return Array.from({ length: 200 }, () => sampler.sample(LOGITS, params({ topP: 0.9 }), null, rng).token);
    };
    assert.deepEqual(run(1), run(1));
    assert.notDeepEqual(run(1), run(2));
  });

  it('results do not depend on what the sampler did before (rows can share one)', () => {
    const rng = new Prng(30);
    const vocab = 300;
    const rows = Array.from({ length: 4 }, () => randomLogits(rng, vocab));
    const settings = params({ temperature: 0.8, topK: 50, topP: 0.9, minP: 0.02 });
    const shared = new Sampler(vocab);
    const rowRngs = rows.map((_, r) => new Prng(100 + r));
    const interleaved: number[][] = rows.map(() => []);
    for (let step = 0; step < 50; step++) {
      rows.forEach((logits, r) => interleaved[r].push(shared.sample(logits, settings, null, rowRngs[r]).token));
    }
    rows.forEach((logits, r) => {
      const alone = new Sampler(vocab);
      const rowRng = new Prng(100 + r);
      const tokens = Array.from({ length: 50 }, () => alone.sample(logits, settings, null, rowRng).token);
      assert.deepEqual(interleaved[r], tokens, `row ${r}`);
    });
  });

  it('never mutates the input logits', () => {
    const logits = Float32Array.from([0.3, -2, 1.5, 0, 4, -0.5]);
    const before = logits.slice();
    const counts = new TokenCounts(6);
    for (const t of [0, 1, 4, 4]) counts.addGenerated(t);
    const sampler = new Sampler(6);
    const rng = new Prng(31);
    for (const temperature of [0, 1]) {
      sampler.sample(logits, params({ temperature, topK: 3, topP: 0.9, minP: 0.1, repetitionPenalty: 1.3, frequencyPenalty: 1, presencePenalty: 1 }), counts, rng);
    }
    assert.deepEqual(logits, before);
  });

  it('rejects logits of the wrong length, NaN, +∞ or nothing finite', () => {
    const sampler = new Sampler(3);
    const rng = new Prng(32);
    const p = params({});
    assert.throws(() => sampler.sample(new Float32Array(4), p, null, rng), ShapeError);
    for (const bad of [[0, NaN, 1], [0, Infinity, 1], [-Infinity, -Infinity, -Infinity]]) {
      assert.throws(() => sampler.sample(Float32Array.from(bad), p, null, rng), NumericError, String(bad));
    }
    assert.throws(() => new Sampler(0), UsageError);
  });

  it('rejects non-finite logits without log-probabilities too, on every path (greedy, penalised greedy, each filter)', () => {
    const sampler = new Sampler(4);
    const counts = new TokenCounts(4);
    counts.addGenerated(2);
    const rows = { allNaN: [NaN, NaN, NaN, NaN], oneNaN: [0, 1, NaN, 2], plusInf: [0, Infinity, 1, 2], allMinusInf: [-Infinity, -Infinity, -Infinity, -Infinity] };
    const settings = {
      greedy: params({ temperature: 0 }),
      penalisedGreedy: params({ temperature: 0, repetitionPenalty: 1.3 }),
      sampled: params({}),
      topK: params({ topK: 2 }),
      minP: params({ minP: 0.1, topP: 1 }),
    };
    for (const [rowName, row] of Object.entries(rows)) {
      for (const [name, p] of Object.entries(settings)) {
        // Greedy sees only the maximum, and top-k may leave the NaN out: a draw over finite logits is still well defined.
        if (rowName === 'oneNaN' && (p.temperature === 0 || p.topK > 0)) continue;
        assert.throws(() => sampler.sample(Float32Array.from(row), p, counts, new Prng(1), false), NumericError, `${rowName}, ${name}`);
      }
    }
    // −∞ bans a token; the rest are sampled as usual.
    assert.equal(sampler.sample(Float32Array.of(-Infinity, 0, -Infinity, -Infinity), params({}), null, new Prng(1), false).token, 1);
  });

  it('runs 1000 calls on a 32,000-token vocab without growing memory', () => {
    const vocab = 32_000;
    const rng = new Prng(33);
    const logits = randomLogits(rng, vocab, 8);
    const sampler = new Sampler(vocab);
    const counts = new TokenCounts(vocab);
    const settings = [
      params({}),
      params({ temperature: 0, logprobs: 5 }),
      params({ temperature: 0.7, topK: 40, logprobs: 20 }),
      params({ topP: 0.9, repetitionPenalty: 1.1, frequencyPenalty: 0.5, presencePenalty: 0.5 }),
      params({ temperature: 1.3, topK: 1000, topP: 0.95, minP: 0.05 }),
    ];
    const warm = sampler.sample(logits, settings[0], counts, rng);
    counts.addGenerated(warm.token);
    // Only the small results are allocated; a per-call scratch buffer (128 KB) would show here.
    const buffersBefore = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 1000; i++) {
      const got = sampler.sample(logits, settings[i % settings.length], counts, rng);
      assert.ok(Number.isInteger(got.token) && got.token >= 0 && got.token < vocab);
      assert.ok(got.logprob <= 0 && Number.isFinite(got.logprob));
      counts.addGenerated(got.token);
    }
    const growth = process.memoryUsage().arrayBuffers - buffersBefore;
    assert.ok(growth < 4 * 1024 * 1024, `array buffers grew by ${growth} bytes`);
  });
});
