import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Completion } from 'openai/resources';
import { generate } from '../../src/model/generate.js';
import { fullSequenceLogSoftmax, MODEL_ID, openaiClient, post, reference, startTestServer } from './serve-test-helpers.js';

/**
 * /v1/completions with echo and logprobs scores the prompt as OpenAI's legacy API and vLLM do:
 * tokens/token_logprobs/top_logprobs/text_offset cover prompt + completion, the first prompt token
 * has null. Checked against the reference model's own full-sequence forward (log-softmax at every
 * position), on a server whose small step budget feeds each prompt in several chunks.
 */
const STEP_TOKENS = 8;
const server = await startTestServer({ scheduler: { maxBatch: 4, maxQueue: 8, stepTokens: STEP_TOKENS } });
after(() => server.close());
const openai = openaiClient(server);
const { model, tokenizer } = reference;
const TOL = 1e-4;
const TOP = 3;

type Logprobs = NonNullable<Completion['choices'][0]['logprobs']>;

/** A token as logprobs name it: the text it adds after `prev`, or its piece when it adds none (BOS, EOS). */
const tokenName = (id: number, prev: number): string => tokenizer.decode([id], prev) || tokenizer.piece(id);

/** Every field of `lp` for the token ids `ids` (prompt, then completion) against the full-sequence reference; `text` is the choice's text. */
function assertScores(lp: Logprobs, ids: number[], text: string): void {
  const dists = fullSequenceLogSoftmax(ids);
  assert.equal(lp.tokens?.length, ids.length);
  assert.equal(lp.token_logprobs?.[0], null);
  assert.equal(lp.top_logprobs?.[0], null);
  assert.equal(lp.text_offset?.[0], 0);
  for (let i = 1; i < ids.length; i++) {
    const dist = dists[i - 1];
    const logprob = lp.token_logprobs?.[i] as number;
    assert.ok(Math.abs(logprob - dist[ids[i]]) < TOL, `token ${i}: ${logprob} vs ${dist[ids[i]]}`);
    // the top map: the token itself and the TOP likeliest under the reference (found by sorting, not by the server's selection)
    const best = [...dist.keys()].sort((a, b) => dist[b] - dist[a] || a - b).slice(0, TOP);
    const top = lp.top_logprobs?.[i] as Record<string, number>;
    const expected = new Map([ids[i], ...best].map((id) => [tokenName(id, ids[i - 1]), dist[id]]));
    assert.deepEqual(new Set(Object.keys(top)), new Set(expected.keys()), `position ${i}`);
    for (const [token, value] of expected) assert.ok(Math.abs(top[token] - value) < TOL, `position ${i}, ${token}: ${top[token]} vs ${value}`);
    // offsets: each token's text sits at its offset in the choice's text
    const offset = lp.text_offset?.[i] as number;
    assert.equal(text.slice(offset, offset + (lp.tokens?.[i].length ?? 0)), lp.tokens?.[i], `offset of token ${i}`);
    assert.ok(offset >= (lp.text_offset?.[i - 1] as number));
  }
}

const PROMPT = 'Once upon a time there was a little girl named Lily who loved to play outside';
const promptIds = tokenizer.encode(PROMPT);

test('echo + logprobs: the prompt is scored as the full-sequence forward scores it, then the completion, in one list', async () => {
  assert.ok(promptIds.length > 2 * STEP_TOKENS, 'the prompt spans several prefill chunks');
  const r = await openai.completions.create({ model: MODEL_ID, prompt: PROMPT, max_tokens: 6, temperature: 0, echo: true, logprobs: TOP });
  const g = generate(model, tokenizer, [{ prompt: PROMPT, maxTokens: 6, sampling: { temperature: 0 } }])[0];
  const choice = r.choices[0];
  assert.equal(choice.text, PROMPT + g.text);
  assertScores(choice.logprobs as Logprobs, [...promptIds, ...g.tokens], choice.text);
  assert.equal(choice.logprobs?.tokens?.[0], tokenizer.piece(tokenizer.bosId)); // BOS: named by its piece,
  assert.equal(choice.logprobs?.text_offset?.[1], 0); // and holding no characters of the text
  assert.deepEqual(r.usage, { prompt_tokens: promptIds.length, completion_tokens: 6, total_tokens: promptIds.length + 6 });

  // streamed: the echo chunk carries the prompt's logprobs, then one position per chunk; together the same list
  const stream = await openai.completions.create({ model: MODEL_ID, prompt: PROMPT, max_tokens: 6, temperature: 0, echo: true, logprobs: TOP, stream: true });
  let text = '';
  const all: Logprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  const sizes: number[] = [];
  for await (const c of stream) {
    text += c.choices[0].text;
    const lp = c.choices[0].logprobs;
    if (!lp) continue;
    sizes.push(lp.tokens?.length ?? 0);
    for (const k of ['tokens', 'token_logprobs', 'top_logprobs', 'text_offset'] as const) (all[k] as unknown[]).push(...(lp[k] ?? []));
  }
  assert.equal(text, choice.text);
  assert.deepEqual(sizes, [promptIds.length, 1, 1, 1, 1, 1, 1]);
  assertScores(all, [...promptIds, ...g.tokens], text);
});

test('echo + logprobs with n > 1 and several prompts: each choice scores its own prompt', async () => {
  const prompts = ['Tom had a big red ball and a small blue car', 'The sun'];
  const r = await openai.completions.create({ model: MODEL_ID, prompt: prompts, n: 2, max_tokens: 4, temperature: 0, echo: true, logprobs: 1 });
  assert.equal(r.choices.length, 4);
  for (const choice of r.choices) {
    const prompt = prompts[Math.floor(choice.index / 2)];
    const g = generate(model, tokenizer, [{ prompt, maxTokens: 4, sampling: { temperature: 0 } }])[0];
    assert.equal(choice.text, prompt + g.text);
    const lp = choice.logprobs as Logprobs;
    const ids = [...tokenizer.encode(prompt), ...g.tokens];
    const dists = fullSequenceLogSoftmax(ids);
    assert.equal(lp.token_logprobs?.length, ids.length);
    assert.equal(lp.token_logprobs?.[0], null);
    ids.slice(1).forEach((id, k) => assert.ok(Math.abs((lp.token_logprobs?.[k + 1] as number) - dists[k][id]) < TOL, `choice ${choice.index}, token ${k + 1}`));
  }
});

test('max_tokens 0 with echo scores a text: the prompt back, its logprobs, nothing generated; without echo it is a 400', async () => {
  const r = await openai.completions.create({ model: MODEL_ID, prompt: PROMPT, max_tokens: 0, echo: true, logprobs: TOP });
  const choice = r.choices[0];
  assert.equal(choice.text, PROMPT);
  assert.equal(choice.finish_reason, 'length');
  assertScores(choice.logprobs as Logprobs, promptIds, PROMPT);
  assert.deepEqual(r.usage, { prompt_tokens: promptIds.length, completion_tokens: 0, total_tokens: promptIds.length });

  const stream = await openai.completions.create({ model: MODEL_ID, prompt: PROMPT, max_tokens: 0, echo: true, logprobs: TOP, stream: true });
  const chunks = [];
  for await (const c of stream) chunks.push(c.choices[0]);
  assert.deepEqual(chunks.map((c) => [c.text, c.finish_reason]), [[PROMPT, null], ['', 'length']]);
  assert.deepEqual(chunks[0].logprobs, choice.logprobs);

  const bad = await post(server, '/v1/completions', { prompt: PROMPT, max_tokens: 0 });
  assert.equal(bad.status, 400);
  assert.equal(bad.json().error.param, 'max_tokens');
  assert.equal(server.engine.scheduler.stats().running, 0);
});
