import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { ChatCompletionCreateParamsNonStreaming, CompletionCreateParamsNonStreaming } from 'openai/resources';
import type { GenerationRequest } from '../../src/model/generate.js';
import { generate } from '../../src/model/generate.js';
import { generateSteered } from '../../src/steer/generate-steered.js';
import { parseSteeringSpec } from '../../src/steer/steering-spec.js';
import { fullSequenceLogSoftmax, MODEL_ID, openaiClient, post, reference, referenceSteering, startTestServer } from './serve-test-helpers.js';

/**
 * The acceptance contract with the official `openai` client, used unchanged: every answer parses
 * into its types and says what the library's generate()/generateSteered() say for the same input.
 */
const server = await startTestServer();
after(() => server.close());
const openai = openaiClient(server);
const { model, tokenizer } = reference;

const greedy = (prompt: string | number[], maxTokens: number, extra: Partial<GenerationRequest> = {}) =>
  generate(model, tokenizer, [{ prompt, maxTokens, sampling: { temperature: 0 }, ...extra }])[0];

/** Log-softmax of the model's logits after each prefix of `ids`, at the next token, computed independently of the sampler. */
function teacherForcedLogprobs(ids: number[], from: number): number[] {
  const dists = fullSequenceLogSoftmax(ids);
  return ids.slice(from).map((id, k) => dists[from + k - 1][id]);
}

test('completions: the text at temperature 0 is generate()\'s, with usage and the OpenAI object fields', async () => {
  const r = await openai.completions.create({ model: MODEL_ID, prompt: 'Once upon a time', max_tokens: 30, temperature: 0 });
  const g = greedy('Once upon a time', 30);
  assert.equal(r.object, 'text_completion');
  assert.match(r.id, /^cmpl-/);
  assert.equal(r.model, MODEL_ID);
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].text, g.text);
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.choices[0].logprobs, null);
  assert.deepEqual(r.usage, { prompt_tokens: g.promptTokens, completion_tokens: 30, total_tokens: g.promptTokens + 30 });
  // token ids in, echo out: the echoed text is the prompt decoded
  const ids = tokenizer.encode('Lily and Ben');
  const e = await openai.completions.create({ model: MODEL_ID, prompt: ids, max_tokens: 12, temperature: 0, echo: true });
  assert.equal(e.choices[0].text, tokenizer.decode(ids) + greedy(ids, 12).text);
  // OpenAI's default max_tokens is 16
  const d = await openai.completions.create({ model: MODEL_ID, prompt: 'Zoo', temperature: 0 });
  assert.equal(d.usage?.completion_tokens, 16);
});

test('completions stream: chunks add up to the text, finish reason last, include_usage adds a final usage chunk with no choices', async () => {
  const stream = await openai.completions.create({ model: MODEL_ID, prompt: 'Once upon a time', max_tokens: 25, temperature: 0, stream: true, stream_options: { include_usage: true } });
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  const last = chunks.pop();
  assert.deepEqual(last?.choices, []);
  assert.deepEqual(last?.usage, { prompt_tokens: 5, completion_tokens: 25, total_tokens: 30 });
  for (const c of chunks) {
    assert.equal(c.object, 'text_completion');
    assert.equal(c.usage, null);
    assert.equal(c.choices.length, 1);
  }
  assert.equal(chunks.map((c) => c.choices[0].text).join(''), greedy('Once upon a time', 25).text);
  assert.deepEqual(chunks.map((c) => c.choices[0].finish_reason), [...Array(chunks.length - 1).fill(null), 'length']);
  // without include_usage there is no usage field at all
  const plain = await openai.completions.create({ model: MODEL_ID, prompt: 'Zoo', max_tokens: 3, temperature: 0, stream: true });
  for await (const c of plain) assert.equal('usage' in c, false);
});

test('chat: the documented transcript template, stop at the next "User:" turn; streamed role, deltas, then the finish chunk', async () => {
  const messages = [
    { role: 'system' as const, content: 'You tell short stories.' },
    { role: 'user' as const, content: 'Tell me about a cat.' },
  ];
  // The template as documented (chat-template.ts), written out here independently.
  const prompt = 'You tell short stories.\n\nUser: Tell me about a cat.\nAssistant:';
  const g = greedy(prompt, 40, { stop: ['\nUser:'] });
  const r = await openai.chat.completions.create({ model: MODEL_ID, messages, max_tokens: 40, temperature: 0 });
  assert.equal(r.object, 'chat.completion');
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].message.content, g.text);
  assert.equal(r.choices[0].finish_reason, g.finishReason);
  assert.equal(r.usage?.prompt_tokens, tokenizer.encode(prompt).length);

  const stream = await openai.chat.completions.create({ model: MODEL_ID, messages, max_completion_tokens: 40, temperature: 0, stream: true, stream_options: { include_usage: true } });
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  const usage = chunks.pop();
  assert.deepEqual(usage?.choices, []);
  assert.deepEqual(usage?.usage, r.usage);
  assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
  const finish = chunks.pop();
  assert.deepEqual(finish?.choices[0].delta, {});
  assert.equal(finish?.choices[0].finish_reason, g.finishReason);
  assert.equal(chunks.map((c) => c.choices[0].delta.content).join(''), g.text);
  for (const c of chunks) assert.equal(c.object, 'chat.completion.chunk');
});

test('legacy logprobs: tokens spell the text, logprobs are the model\'s, top maps hold the sampled token and alternatives, offsets advance', async () => {
  const r = await openai.completions.create({ model: MODEL_ID, prompt: 'Once upon a time', max_tokens: 12, temperature: 0, logprobs: 3 });
  const lp = r.choices[0].logprobs;
  assert.ok(lp?.tokens && lp.token_logprobs && lp.top_logprobs && lp.text_offset);
  const g = greedy('Once upon a time', 12);
  assert.equal(lp.tokens.join(''), r.choices[0].text);
  const expected = teacherForcedLogprobs([...tokenizer.encode('Once upon a time'), ...g.tokens], 5);
  lp.token_logprobs.forEach((x, i) => assert.ok(Math.abs(x - expected[i]) < 1e-4, `token ${i}: ${x} vs ${expected[i]}`));
  lp.top_logprobs.forEach((top, i) => {
    const entries = Object.entries(top);
    assert.ok(entries.length >= 1 && entries.length <= 4);
    assert.equal(top[lp.tokens![i]], lp.token_logprobs![i]); // greedy: the sampled token is the best
    assert.ok(entries.every(([, v]) => v <= lp.token_logprobs![i] + 1e-6));
  });
  lp.text_offset.forEach((off, i) => assert.equal(off, lp.tokens!.slice(0, i).join('').length));

  // streamed: the same tokens and values, one position per chunk
  const stream = await openai.completions.create({ model: MODEL_ID, prompt: 'Once upon a time', max_tokens: 12, temperature: 0, logprobs: 3, stream: true });
  const parts = [];
  for await (const c of stream) if (c.choices[0].logprobs) parts.push(c.choices[0].logprobs);
  assert.deepEqual(parts.flatMap((p) => p.tokens), lp.tokens);
  assert.deepEqual(parts.flatMap((p) => p.token_logprobs), lp.token_logprobs);
  assert.deepEqual(parts.flatMap((p) => p.text_offset), lp.text_offset);
});

test('chat logprobs: token, logprob, UTF-8 bytes and top_logprobs sorted, streamed and not alike', async () => {
  const messages = [{ role: 'user' as const, content: 'Once upon a time' }];
  const r = await openai.chat.completions.create({ model: MODEL_ID, messages, max_tokens: 10, temperature: 0, logprobs: true, top_logprobs: 2 });
  const content = r.choices[0].logprobs?.content ?? [];
  assert.equal(content.length, r.usage?.completion_tokens);
  assert.equal(content.map((t) => t.token).join(''), r.choices[0].message.content);
  for (const t of content) {
    assert.deepEqual(t.bytes, [...Buffer.from(t.token, 'utf8')]);
    assert.equal(t.top_logprobs.length, 2);
    assert.equal(t.top_logprobs[0].token, t.token);
    assert.ok(t.top_logprobs[0].logprob >= t.top_logprobs[1].logprob);
  }
  const stream = await openai.chat.completions.create({ model: MODEL_ID, messages, max_tokens: 10, temperature: 0, logprobs: true, top_logprobs: 2, stream: true });
  const streamed = [];
  for await (const c of stream) streamed.push(...(c.choices[0]?.logprobs?.content ?? []));
  assert.deepEqual(streamed, content);
});

test('n > 1: with a seed, choice i is generate() seeded seed + i, streamed and not', async () => {
  const settings = { prompt: 'Lily and Ben', max_tokens: 20, temperature: 1, top_p: 0.9, seed: 7, n: 3 };
  const r = await openai.completions.create({ model: MODEL_ID, ...settings });
  const expected = [0, 1, 2].map((i) => generate(model, tokenizer, [{ prompt: 'Lily and Ben', maxTokens: 20, seed: 7 + i, sampling: { temperature: 1, topP: 0.9 } }])[0]);
  assert.deepEqual(r.choices.map((c) => c.index), [0, 1, 2]);
  assert.deepEqual(r.choices.map((c) => c.text), expected.map((g) => g.text));
  assert.equal(new Set(expected.map((g) => g.text)).size, 3, 'three seeds gave fewer than three texts');
  assert.equal(r.usage?.completion_tokens, expected.reduce((n, g) => n + g.tokens.length, 0));
  assert.equal(r.usage?.prompt_tokens, expected[0].promptTokens);

  const chat = await openai.chat.completions.create({ model: MODEL_ID, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 8, temperature: 1, seed: 3, n: 2, stream: true });
  const texts = ['', ''];
  for await (const c of chat) for (const ch of c.choices) texts[ch.index] += ch.delta.content ?? '';
  const plain = await openai.chat.completions.create({ model: MODEL_ID, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 8, temperature: 1, seed: 3, n: 2 });
  assert.deepEqual(texts, plain.choices.map((c) => c.message.content));
});

test('steering through the body (extra_body in the SDKs) gives generateSteered()\'s text; a bad spec is a 400 naming the field', async () => {
  const spec = { features: [{ source: 'blocks.2.hook_resid_post', index: 248, strength: 6 }], vectors: [{ vector: 'happy', strength: 4 }], scope: 'generated' };
  const params: CompletionCreateParamsNonStreaming & { steering: unknown } = { model: MODEL_ID, prompt: 'Once upon a time', max_tokens: 30, temperature: 0, steering: spec };
  const r = await openai.completions.create(params);
  const [steered] = generateSteered(referenceSteering, [{ prompt: 'Once upon a time', maxTokens: 30, sampling: { temperature: 0 }, steering: parseSteeringSpec(spec) }]);
  assert.equal(r.choices[0].text, steered.text);
  assert.notEqual(steered.text, greedy('Once upon a time', 30).text, 'the steering changed nothing');

  const chatParams: ChatCompletionCreateParamsNonStreaming & { steering: unknown } = { model: MODEL_ID, messages: [{ role: 'user', content: 'A story' }], max_tokens: 20, temperature: 0, steering: spec };
  const c = await openai.chat.completions.create(chatParams);
  const [chatSteered] = generateSteered(referenceSteering, [{ prompt: 'User: A story\nAssistant:', maxTokens: 20, stop: ['\nUser:'], sampling: { temperature: 0 }, steering: parseSteeringSpec(spec) }]);
  assert.equal(c.choices[0].message.content, chatSteered.text);

  const bad = { ...params, steering: { features: [{ source: 'blocks.2.hook_resid_post', index: 5000, strength: 1 }] } };
  await assert.rejects(openai.completions.create(bad), (e: { status?: number; param?: string; message: string }) => e.status === 400 && e.param === 'steering.features[0].index' && /5000/.test(e.message));
});

test('tokenize and detokenize (vLLM shapes) agree with the tokenizer', async () => {
  const t = (await post(server, '/v1/tokenize', { prompt: 'Once upon a time' })).json();
  assert.deepEqual(t.tokens, tokenizer.encode('Once upon a time'));
  assert.equal(t.count, t.tokens.length);
  assert.equal(t.max_model_len, model.config.seqLen);
  assert.deepEqual([t.token_strs[0], t.token_strs.slice(1).join('')], [tokenizer.piece(tokenizer.bosId), 'Once upon a time']);
  const noBos = (await post(server, '/v1/tokenize', { prompt: 'Once', add_special_tokens: false })).json();
  assert.deepEqual(noBos.tokens, tokenizer.encode('Once', { bos: false }));
  const chat = (await post(server, '/v1/tokenize', { messages: [{ role: 'user', content: 'Hi' }] })).json();
  assert.deepEqual(chat.tokens, tokenizer.encode('User: Hi\nAssistant:'));
  const d = (await post(server, '/v1/detokenize', { tokens: t.tokens })).json();
  assert.equal(d.prompt, 'Once upon a time');
});

test('models: the one served model, listed and retrieved; another name is a 404', async () => {
  const list = await openai.models.list();
  assert.deepEqual(list.data.map((m) => [m.id, m.object, m.owned_by]), [[MODEL_ID, 'model', 'tinymorph']]);
  assert.equal((await openai.models.retrieve(MODEL_ID)).id, MODEL_ID);
  await assert.rejects(openai.models.retrieve('gpt-4'), (e: { status?: number }) => e.status === 404);
  await assert.rejects(openai.completions.create({ model: 'gpt-4', prompt: 'x' }), (e: { status?: number; code?: string }) => e.status === 404 && e.code === 'model_not_found');
});
