import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ApiError } from '../../src/serve/api-error.js';
import { Scheduler } from '../../src/serve/scheduler.js';
import { generateSteered } from '../../src/steer/generate-steered.js';
import type { SteeredRequest } from '../../src/steer/generate-steered.js';
import { parseSteeringSpec } from '../../src/steer/steering-spec.js';
import { MODEL_ID, openaiClient, post, reference, referenceSteering, startTestServer, until } from './serve-test-helpers.js';

/**
 * Continuous batching as the client sees it: a request's text at temperature 0 does not depend on
 * what else runs (requests joining and leaving the batch, prompts fed in chunks, other rows'
 * steering), a cancelled request gives its row back, and a full queue answers 429.
 */
// 8 rows for 32 requests: rows are reused while others run; 24-token steps: longer prompts are chunked.
const server = await startTestServer({ scheduler: { maxBatch: 8, maxQueue: 64, stepTokens: 24 } });
after(() => server.close());
const openai = openaiClient(server);
const { scheduler } = server.engine;
const { tokenizer } = reference;

const PROMPTS = [
  'Once upon a time',
  'Lily',
  'Tom and his mom went to the park. They saw a big red ball under a tree, and Tom wanted to play with it. His mom said',
  'The cat',
  'One day, a little girl named Sue found a shiny stone in the garden. She showed it to her brother, who',
  'Zoo',
];
const SPECS: unknown[] = [
  undefined,
  { features: [{ source: 'blocks.2.hook_resid_post', index: 248, strength: 5 }] },
  { vectors: [{ vector: 'happy', strength: 6 }], scope: 'generated' },
  { guide: [{ layer: 2, index: 248, strength: 4 }] },
  { features: [{ layer: 1, index: 17, strength: 3, method: 'CLAMP' }], normalize_steering: true },
  { vectors: [{ vector: 'dialogue', strength: 1 }], scope: { after: 'Lily' } },
  { features: [{ layer: 3, index: 5, strength: 0, method: 'ABLATE' }] },
];
const REQUESTS = Array.from({ length: 32 }, (_, i) => ({
  prompt: PROMPTS[i % PROMPTS.length],
  max_tokens: 4 + ((i * 7) % 37),
  steering: SPECS[i % SPECS.length],
}));

const complete = async (r: (typeof REQUESTS)[number]): Promise<string> => {
  const res = await post(server, '/v1/completions', { model: MODEL_ID, temperature: 0, ...r });
  assert.equal(res.status, 200, res.text);
  return res.json().choices[0].text;
};
const asLibraryRequest = (r: (typeof REQUESTS)[number]): SteeredRequest => ({ prompt: r.prompt, maxTokens: r.max_tokens, sampling: { temperature: 0 }, steering: parseSteeringSpec(r.steering) });

test('32 concurrent requests of mixed lengths and steering return what each returns alone and what generateSteered() returns', async () => {
  const concurrent = await Promise.all(REQUESTS.map(complete));
  const alone: string[] = [];
  for (const r of REQUESTS) alone.push(await complete(r));
  const library = REQUESTS.map((r) => generateSteered(referenceSteering, [asLibraryRequest(r)])[0].text);
  const batch = generateSteered(referenceSteering, REQUESTS.map(asLibraryRequest)).map((g) => g.text);
  REQUESTS.forEach((_, i) => {
    assert.equal(concurrent[i], alone[i], `request ${i} concurrent vs alone`);
    assert.equal(concurrent[i], library[i], `request ${i} vs generateSteered alone`);
    assert.equal(concurrent[i], batch[i], `request ${i} vs generateSteered batch`);
  });
  // the steering did something: not every steered text is the unsteered one
  const unsteered = REQUESTS.map((r) => generateSteered(referenceSteering, [{ ...asLibraryRequest(r), steering: undefined }])[0].text);
  assert.ok(REQUESTS.filter((r, i) => r.steering && concurrent[i] !== unsteered[i]).length >= 8);
  const stats = scheduler.stats();
  assert.equal(stats.running + stats.waiting, 0);
  assert.ok(stats.steeredRequests >= 2 * 27, `steered requests counted: ${stats.steeredRequests}`);
});

test('a long prompt is fed in chunks while a running stream goes on getting a token every step', async () => {
  let streamed = 0;
  const [running] = scheduler.submit([{ prompt: tokenizer.encode('Once upon a time'), maxTokens: 300, stopAtEndOfText: false, sampling: { temperature: 0 } }], () => streamed++);
  await until(() => streamed > 0, 'the first stream to start');
  const longPrompt = tokenizer.encode(PROMPTS[2].repeat(4)); // ≈ 130 tokens, 23 a step beside the running row's one
  const atSubmit = streamed;
  let atFirstToken: number | undefined;
  const [long] = scheduler.submit([{ prompt: longPrompt, maxTokens: 5, sampling: { temperature: 0 } }], () => (atFirstToken ??= streamed));
  const result = await long.done;
  running.cancel();
  await running.done;
  const prefillSteps = Math.ceil(longPrompt.length / 23);
  assert.ok(longPrompt.length > 100);
  assert.ok((atFirstToken as number) - atSubmit >= prefillSteps, `the stream got ${(atFirstToken as number) - atSubmit} tokens while a ${longPrompt.length}-token prompt was fed (${prefillSteps} steps)`);
  // and the chunked prefill gives what one whole-prompt prefill gives
  assert.equal(result.text, generateSteered(referenceSteering, [{ prompt: longPrompt, maxTokens: 5, sampling: { temperature: 0 } }])[0].text);
});

test('a cancelled request gives back its row before the next step; the others go on unchanged', async () => {
  const requests = ['Once upon a time', 'Lily', 'The dog'].map((p) => ({ prompt: tokenizer.encode(p), maxTokens: 30, sampling: { temperature: 0 } }));
  const seen: number[] = [0, 0, 0];
  let runningAfterCancel: number | undefined;
  const jobs = scheduler.submit(requests, (i) => {
    seen[i]++;
    if (i === 0 && seen[0] === 3) jobs[0].cancel();
    // the first token event of the step after the cancel: the row is already free
    if (i === 1 && seen[0] === 3 && runningAfterCancel === undefined && seen[1] > 3) runningAfterCancel = scheduler.stats().running;
  });
  const [cancelled, ...others] = await Promise.all(jobs.map((j) => j.done));
  assert.equal(cancelled.finishReason, 'abort');
  assert.equal(cancelled.tokens.length, 3);
  assert.equal(runningAfterCancel, 2);
  others.forEach((r, k) => assert.equal(r.text, generateSteered(referenceSteering, [requests[k + 1]])[0].text));
});

test('a cancel between steps frees the row at once: no further step runs for it', async () => {
  let streamed = 0;
  const [job] = scheduler.submit([{ prompt: tokenizer.encode('Once upon a time'), maxTokens: 300, stopAtEndOfText: false, sampling: { temperature: 0 } }], () => streamed++);
  await until(() => streamed >= 3, 'the request to stream');
  const stepsAtCancel = scheduler.stats().steps;
  job.cancel();
  // synchronously: the row and its KV-cache positions are free before the event loop turns again
  assert.equal(scheduler.stats().running, 0);
  assert.equal(scheduler.stats().kvPositionsUsed, 0);
  const result = await job.done;
  assert.equal(result.finishReason, 'abort');
  assert.equal(result.tokens.length, streamed);
  assert.equal(scheduler.stats().steps, stepsAtCancel);
});

test('a client that breaks out of a stream is cancelled and its row freed; the other streams\' text is unchanged', async () => {
  const abortsBefore = scheduler.stats().finished.abort;
  const settings = { model: MODEL_ID, max_tokens: 300, temperature: 0, ignore_eos: true, stream: true as const };
  const stream = async (prompt: string, stopAfter?: number): Promise<string> => {
    let text = '';
    let chunks = 0;
    for await (const c of await openai.completions.create({ ...settings, prompt })) {
      text += c.choices[0]?.text ?? '';
      if (stopAfter !== undefined && ++chunks === stopAfter) break;
    }
    return text;
  };
  const [, a, b] = await Promise.all([
    stream('Tom had a red ball', 5).then(async (t) => {
      await until(() => scheduler.stats().finished.abort === abortsBefore + 1, 'the broken stream to be cancelled');
      return t;
    }),
    stream('Once upon a time'),
    stream('Lily'),
  ]);
  const expected = (prompt: string) => generateSteered(referenceSteering, [{ prompt, maxTokens: 300, stopAtEndOfText: false, sampling: { temperature: 0 } }])[0].text;
  assert.equal(a, expected('Once upon a time'));
  assert.equal(b, expected('Lily'));
  const stats = scheduler.stats();
  assert.equal(stats.running, 0);
  assert.equal(stats.kvPositionsUsed, 0);
});

test('with a queue of N, request N+1 gets 429 with Retry-After in OpenAI\'s error shape', async () => {
  const small = await startTestServer({ scheduler: { maxBatch: 1, maxQueue: 2, stepTokens: 8 } });
  try {
    const s = small.engine.scheduler;
    const long = { prompt: tokenizer.encode('Once upon a time'), maxTokens: 500, stopAtEndOfText: false, sampling: { temperature: 0 } };
    const [runningJob] = s.submit([long]);
    await until(() => s.stats().running === 1, 'the first request to run');
    const queued = s.submit([long, long]);
    assert.equal(s.stats().waiting, 2);
    const res = await post(small, '/v1/completions', { prompt: 'Zoo', max_tokens: 2 });
    assert.equal(runningJob.timing.finished, undefined, 'the running request finished before the check');
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '1');
    const { error } = res.json();
    assert.equal(error.type, 'rate_limit_error');
    assert.equal(error.code, 'queue_full');
    assert.match(error.message, /2 of 2 waiting/);
    // the client raises its RateLimitError
    await assert.rejects(openaiClient(small).completions.create({ model: MODEL_ID, prompt: 'Zoo', max_tokens: 2 }), (e: { status?: number }) => e.status === 429);
    for (const j of [runningJob, ...queued]) j.cancel();
    await Promise.all([runningJob, ...queued].map((j) => j.done));
    // room again
    assert.equal((await post(small, '/v1/completions', { prompt: 'Zoo', max_tokens: 2 })).status, 200);
  } finally {
    await small.close();
  }
});

test('the queue counts only requests beyond the free rows: with no queue at all, a free row still takes a request', async () => {
  const s = new Scheduler(reference.model, tokenizer, { maxBatch: 1, maxQueue: 0, stepTokens: 8 });
  try {
    const [a] = s.submit([{ prompt: tokenizer.encode('Zoo'), maxTokens: 3, sampling: { temperature: 0 } }]);
    assert.throws(() => s.submit([{ prompt: tokenizer.encode('Zoo'), maxTokens: 3 }]), (e: unknown) => e instanceof ApiError && e.status === 429);
    await a.done;
    const [b] = s.submit([{ prompt: tokenizer.encode('Zoo'), maxTokens: 3, sampling: { temperature: 0 } }]);
    assert.equal((await b.done).tokens.length, 3);
  } finally {
    await s.close(0);
  }
});

test('prompt + max_tokens beyond the context is a 400 naming both numbers', async () => {
  const res = await post(server, '/v1/completions', { prompt: 'Once upon a time', max_tokens: 508 });
  assert.equal(res.status, 400);
  const { error } = res.json();
  assert.equal(error.param, 'max_tokens');
  assert.equal(error.code, 'context_length_exceeded');
  assert.match(error.message, /prompt \(5 tokens\) \+ max_tokens \(508\) = 513 exceeds the model's context of 512 tokens/);
  assert.equal((await post(server, '/v1/completions', { prompt: 'Once upon a time', max_tokens: 507 })).status, 200);
  const chat = await post(server, '/v1/chat/completions', { messages: [{ role: 'user', content: 'word '.repeat(600) }] });
  assert.equal(chat.status, 400);
  assert.equal(chat.json().error.param, 'messages');
});

test('a request steered so hard that its logits overflow fails alone (400 naming steering); the requests batched with it finish unchanged', async () => {
  const settings = { max_tokens: 30, temperature: 0.7, seed: 4 };
  const [bad, ...good] = await Promise.all([
    post(server, '/v1/completions', { prompt: 'Lily', ...settings, steering: { features: [{ layer: 2, index: 248, strength: 1e300 }] } }),
    ...['Once upon a time', 'The cat'].map((prompt) => post(server, '/v1/completions', { prompt, ...settings })),
  ]);
  assert.equal(bad.status, 400, bad.text);
  assert.equal(bad.json().error.param, 'steering');
  assert.equal(bad.json().error.code, 'non_finite_logits');
  good.forEach((r, i) => {
    assert.equal(r.status, 200, r.text);
    const prompt = ['Once upon a time', 'The cat'][i];
    assert.equal(r.json().choices[0].text, generateSteered(referenceSteering, [{ prompt, maxTokens: 30, seed: 4, sampling: { temperature: 0.7 } }])[0].text);
  });
  assert.equal(scheduler.stats().running, 0);
});
