import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import type { GenerationRequest, GenerationResult, TokenEvent } from '../../src/model/generate.js';
import { generate } from '../../src/model/generate.js';
import { loadModel } from '../../src/model/load-model.js';

/**
 * Generation as a contract: seeded reproducibility, per-request independence inside a batch,
 * streaming that adds up to the final text, stop sequences, limits and logprobs.
 */

const { model, tokenizer } = loadModel();

function one(req: GenerationRequest, onToken?: (e: TokenEvent) => void): GenerationResult {
  return generate(model, tokenizer, [req], { onToken })[0];
}

/** Streamed text per request, concatenated in event order. */
function streamed(requests: GenerationRequest[]): { results: GenerationResult[]; texts: string[]; events: TokenEvent[] } {
  const texts = requests.map(() => '');
  const events: TokenEvent[] = [];
  const results = generate(model, tokenizer, requests, { onToken: (e) => {
    events.push(e);
    texts[e.request] += e.text;
  } });
  return { results, texts, events };
}

const sampled = (seed: number): GenerationRequest => ({ prompt: 'Once upon a time', maxTokens: 40, seed, sampling: { temperature: 1, topP: 0.9 } });

// The greedy continuation of "Once upon a time" without stops, which the stop tests cut.
const GREEDY: GenerationRequest = { prompt: 'Once upon a time', maxTokens: 60, sampling: { temperature: 0 } };
const greedy = one(GREEDY);

test('the same seed gives the same text; different seeds give different texts', () => {
  const a = one(sampled(42));
  const b = one(sampled(42));
  assert.deepEqual(b.tokens, a.tokens);
  assert.equal(b.text, a.text);
  assert.ok(a.tokens.length > 0);
  const others = [1, 2, 3, 4, 5].map((s) => one(sampled(s)).text);
  assert.ok(
    others.some((t) => t !== a.text),
    'five other seeds all reproduced seed 42',
  );
  assert.ok(new Set(others).size > 1, 'five seeds gave one text');
});

test('a batch of 4 different requests gives each exactly what it gives alone', () => {
  const requests: GenerationRequest[] = [
    { prompt: 'Once upon a time', maxTokens: 30, sampling: { temperature: 0 }, logprobs: true },
    { prompt: 'Lily and Ben are friends.', maxTokens: 45, seed: 7, sampling: { temperature: 1, topK: 40 }, logprobs: true },
    { prompt: 'Zoo', maxTokens: 20, seed: 3, sampling: { temperature: 0.8, topP: 0.9, frequencyPenalty: 0.5, logprobs: 3 } },
    { prompt: 'The little dog', maxTokens: 60, seed: 11, sampling: { temperature: 1.2, minP: 0.05, repetitionPenalty: 1.3 }, stop: ['!'], logprobs: true },
  ];
  const batched = generate(model, tokenizer, requests);
  assert.equal(batched.length, 4);
  requests.forEach((req, i) => {
    const alone = one(req);
    assert.deepEqual(batched[i].tokens, alone.tokens, `request ${i} tokens`);
    assert.equal(batched[i].text, alone.text, `request ${i} text`);
    assert.equal(batched[i].finishReason, alone.finishReason, `request ${i} finish reason`);
    assert.equal(batched[i].promptTokens, alone.promptTokens);
    assert.deepEqual(batched[i].logprobs.map((l) => l.top.map((t) => t.token)), alone.logprobs.map((l) => l.top.map((t) => t.token)));
    batched[i].logprobs.forEach((l, k) => assert.ok(Math.abs(l.logprob - alone.logprobs[k].logprob) <= 1e-4, `request ${i} step ${k} logprob`));
  });
  // The batch's order does not matter either.
  const reversed = generate(model, tokenizer, [...requests].reverse()).reverse();
  reversed.forEach((r, i) => assert.deepEqual(r.tokens, batched[i].tokens, `request ${i} in reversed order`));
});

test('streaming: the onToken texts of each request add up to its final text', () => {
  const requests: GenerationRequest[] = [
    { prompt: 'Once upon a time', maxTokens: 50, seed: 5, sampling: { temperature: 1 } },
    { prompt: 'Zoo', maxTokens: 30, sampling: { temperature: 0 } },
    // a character outside the 512-token vocabulary: byte-fallback tokens must not leak partial UTF-8
    { prompt: 'The café sign said 日本', maxTokens: 25, seed: 9, sampling: { temperature: 1.5 } },
  ];
  const { results, texts, events } = streamed(requests);
  results.forEach((r, i) => {
    assert.equal(texts[i], r.text, `request ${i}`);
    // one event per sampled token (plus one for an end-of-text token, which is not kept)
    const n = events.filter((e) => e.request === i).length;
    assert.equal(n, r.tokens.length + (r.finishReason === 'stop' ? 1 : 0), `request ${i} events`);
    // token-by-token streaming decodes exactly as a one-shot decode of all the tokens
    const lastPromptId = tokenizer.encode(String(requests[i].prompt)).at(-1);
    assert.equal(r.text, tokenizer.decode(r.tokens, lastPromptId), `request ${i} one-shot decode`);
  });
});

test('streaming with stop sequences: the streamed text equals the final text and never holds a stop string', () => {
  const stops = [['girl named'], ['ar'], ['.', ','], ['Lily. She']];
  const requests: GenerationRequest[] = stops.map((stop) => ({ ...GREEDY, stop }));
  requests.push({ prompt: 'Once upon a time', maxTokens: 80, seed: 21, sampling: { temperature: 1 }, stop: ['the'] });
  const { results, texts } = streamed(requests);
  results.forEach((r, i) => {
    assert.equal(texts[i], r.text, `request ${i}`);
    for (const s of requests[i].stop ?? []) assert.ok(!texts[i].includes(s), `request ${i} streamed "${s}"`);
  });
});

test('stop sequences: the text ends right before the first occurrence; finish reason "stop"', () => {
  assert.equal(greedy.finishReason, 'length');
  const full = greedy.text;
  assert.ok(full.startsWith(', there was a little girl named Lily.'), JSON.stringify(full.slice(0, 60)));
  const cases: string[][] = [
    ['girl named'], // spans the tokens " g" "ir" "l" " named"
    ['Lily. She'], // spans " Lily" "." " She"
    ['ar'], // inside the single-token pieces " p" "ar" "k": cuts "the p|ark"
    ['.', ','], // several stops: the earliest wins (",", at 0 → empty text)
    ['little', 'Lily'],
    ['park. One day'],
  ];
  for (const stop of cases) {
    const r = one({ ...GREEDY, stop });
    const first = Math.min(...stop.map((s) => full.indexOf(s)).filter((at) => at >= 0));
    assert.equal(r.text, full.slice(0, first), `stop ${JSON.stringify(stop)}`);
    assert.equal(r.finishReason, 'stop', `stop ${JSON.stringify(stop)}`);
    for (const s of stop) assert.ok(!r.text.includes(s));
    // Generation ended at the token that completed the stop string, not later.
    assert.deepEqual(r.tokens, greedy.tokens.slice(0, r.tokens.length));
    const decoded = (n: number): string => tokenizer.decode(r.tokens.slice(0, n), 378); // after " time"
    assert.ok(stop.some((s) => decoded(r.tokens.length).includes(s)), `stop ${JSON.stringify(stop)}: generated tokens hold no stop string`);
    assert.ok(!stop.some((s) => decoded(r.tokens.length - 1).includes(s)), `stop ${JSON.stringify(stop)}: generation went on after the stop string`);
  }
  // Text held back as a possible stop prefix ("little g" of "little girl") is released when maxTokens ends the row.
  const held = streamed([{ ...GREEDY, maxTokens: 6, stop: ['little girl'] }]);
  assert.equal(held.results[0].text, ', there was a little g');
  assert.equal(held.texts[0], ', there was a little g');
  assert.equal(held.results[0].finishReason, 'length');
  // A stop string that never occurs changes nothing.
  const none = one({ ...GREEDY, stop: ['dragon'] });
  assert.equal(none.text, full);
  assert.equal(none.finishReason, 'length');
});

test('maxTokens is respected with finish reason "length"; a prompt as long as the context is a UsageError', () => {
  for (const maxTokens of [1, 7, 33]) {
    const r = one({ prompt: 'Once upon a time', maxTokens, sampling: { temperature: 0 } });
    assert.equal(r.tokens.length, maxTokens);
    assert.equal(r.finishReason, 'length');
    assert.equal(r.promptTokens, 5);
  }
  for (const seed of [1, 2, 3]) {
    const r = one({ prompt: 'Once upon a time', maxTokens: 20, seed, sampling: { temperature: 1.5 } });
    assert.ok(r.tokens.length <= 20);
    if (r.tokens.length < 20) assert.equal(r.finishReason, 'stop');
  }
  // Generation also stops at the context end, as run.c caps steps at seq_len: forwards at positions
  // 499..511 each sample a token, so a 500-token prompt gets 13 new tokens.
  const long = Array.from({ length: 500 }, (_, i) => (i === 0 ? 1 : 259 + (i % 200)));
  const r = one({ prompt: long, maxTokens: 100, sampling: { temperature: 0 }, stopAtEndOfText: false });
  assert.equal(r.finishReason, 'length');
  assert.equal(r.tokens.length, 13);

  const ctx = model.config.seqLen;
  for (const n of [ctx, ctx + 100]) {
    assert.throws(() => one({ prompt: Array.from({ length: n }, () => 300), maxTokens: 5 }), UsageError, `${n}-token prompt`);
  }
  assert.throws(() => one({ prompt: 'Once', maxTokens: 0 }), UsageError);
  assert.throws(() => one({ prompt: [], maxTokens: 5 }), UsageError);
  assert.throws(() => one({ prompt: 'Once', sampling: { temperature: -1 } }), UsageError);
});

test('without logprobs asked for, none are computed (NaN), and the tokens are the same', () => {
  const plain = one({ prompt: 'Once upon a time', maxTokens: 10, sampling: { temperature: 0 } });
  const withLp = one({ prompt: 'Once upon a time', maxTokens: 10, sampling: { temperature: 0 }, logprobs: true });
  assert.deepEqual(plain.tokens, withLp.tokens);
  assert.ok(plain.logprobs.every((l) => Number.isNaN(l.logprob)));
  assert.ok(withLp.logprobs.every((l) => l.logprob <= 0));
});

test('logprobs: 5 alternatives per step, sorted descending, and at temperature 0 the chosen token is the first', () => {
  const r = one({ prompt: 'Once upon a time', maxTokens: 25, sampling: { temperature: 0, logprobs: 5 } });
  assert.equal(r.logprobs.length, r.tokens.length);
  r.logprobs.forEach((step, k) => {
    assert.equal(step.top.length, 5, `step ${k}`);
    for (let j = 1; j < 5; j++) assert.ok(step.top[j - 1].logprob >= step.top[j].logprob, `step ${k} not sorted`);
    assert.equal(new Set(step.top.map((t) => t.token)).size, 5);
    assert.ok(step.top[0].logprob <= 0);
    assert.ok(step.top.reduce((s, t) => s + Math.exp(t.logprob), 0) <= 1 + 1e-6);
    assert.equal(step.token, r.tokens[k]);
    assert.equal(step.token, step.top[0].token, `step ${k}: greedy token is not the most likely`);
    assert.equal(step.logprob, step.top[0].logprob);
  });
  // The first step's logprobs are the log-softmax of the prompt's next-token logits.
  const logits = model.forward(model.newCache(1), [tokenizer.encode('Once upon a time')]).logits;
  const max = Math.max(...logits);
  const lse = max + Math.log(logits.reduce((s, x) => s + Math.exp(x - max), 0));
  for (const t of r.logprobs[0].top) assert.ok(Math.abs(t.logprob - (logits[t.token] - lse)) <= 1e-4);

  // Sampled tokens: the chosen one need not be first, but its logprob is reported and the list is sorted.
  const s = one({ prompt: 'Zoo', maxTokens: 25, seed: 4, sampling: { temperature: 1.3, logprobs: 5 } });
  for (const step of s.logprobs) {
    assert.equal(step.top.length, 5);
    for (let j = 1; j < 5; j++) assert.ok(step.top[j - 1].logprob >= step.top[j].logprob);
    assert.ok(step.logprob <= step.top[0].logprob);
    const inTop = step.top.find((t) => t.token === step.token);
    if (inTop) assert.equal(inTop.logprob, step.logprob);
  }
  // Without the option, no alternatives.
  assert.ok(greedy.logprobs.every((l) => l.top.length === 0));
});

test('a generation over the memory of an earlier, larger one gives what a fresh model gives', () => {
  const fresh = loadModel();
  const req = (prompt: string): GenerationRequest => ({ prompt, maxTokens: 20, seed: 3, sampling: { temperature: 0.8 } });
  const want = generate(fresh.model, fresh.tokenizer, [req('The dog'), req('A girl named Lily')]);
  // Fill a larger cache with other rows first: its stale keys and values must never be read.
  generate(model, tokenizer, [req('Once upon a time, there was'), req('Tom had a red ball'), req('The sun'), req('She')].map((r) => ({ ...r, maxTokens: 60 })));
  const got = generate(model, tokenizer, [req('The dog'), req('A girl named Lily')]);
  assert.deepEqual(got.map((r) => r.tokens), want.map((r) => r.tokens));
});

test('withCache: a nested call gets memory of its own, and the spare is taken over afterwards', () => {
  model.withCache(2, 16, (a) => model.withCache(2, 16, (b) => assert.notEqual(a.keys[0].buffer, b.keys[0].buffer)));
  const first = model.withCache(1, 8, (c) => c.keys[0].buffer);
  assert.equal(model.withCache(1, 8, (c) => c.keys[0].buffer), first, 'the same spare memory serves consecutive calls');
});

test('logit bias: −100 on the greedy first token gives the runner-up the model ranked second; +100 forces a token; ids are checked', () => {
  const plain = one({ ...GREEDY, maxTokens: 1, sampling: { temperature: 0, logprobs: 2 } });
  const [first, second] = plain.logprobs[0].top.map((t) => t.token);
  assert.equal(one({ ...GREEDY, maxTokens: 1, logitBias: { [first]: -100 } }).tokens[0], second);
  const forced = tokenizer.encode(' dog', { bos: false })[0];
  assert.deepEqual(one({ ...GREEDY, maxTokens: 3, logitBias: { [forced]: 100 } }).tokens, [forced, forced, forced]);
  // only the biased row moves in a batch
  const [biased, clean] = generate(model, tokenizer, [{ ...GREEDY, maxTokens: 5, logitBias: { [forced]: 100 } }, { ...GREEDY, maxTokens: 5 }]);
  assert.deepEqual(biased.tokens, Array(5).fill(forced));
  assert.deepEqual(clean.tokens, greedy.tokens.slice(0, 5));
  assert.throws(() => one({ ...GREEDY, logitBias: { 512: 1 } }), (e: unknown) => e instanceof UsageError && /logit bias token id "512" is outside 0\.\.511/.test(e.message));
  assert.throws(() => one({ ...GREEDY, logitBias: { 5: Number.NaN } }), (e: unknown) => e instanceof UsageError && /logit bias for token 5 must be a finite number/.test(e.message));
});
