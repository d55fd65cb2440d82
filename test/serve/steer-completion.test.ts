import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { generate } from '../../src/model/generate.js';
import { generateSteered } from '../../src/steer/generate-steered.js';
import { parseSteeringSpec } from '../../src/steer/steering-spec.js';
import { post, reference, referenceSteering, sample, scrape, startTestServer } from './serve-test-helpers.js';

/**
 * POST /v1/steer/completion as Neuronpedia's clients send it: DEFAULT and STEERED texts that are
 * what the library generates for the same prompt, spec and seed, run as one batch.
 */
const server = await startTestServer();
after(() => server.close());
const PROMPT = 'Once upon a time';
const FEATURE = { model: 'stories260K', source: 'blocks.2.hook_resid_post', index: 248, strength: 5 };

type Output = { type: string; output: string; logprobs: { token: string; logprob: number; topLogprobs: { token: string; logprob: number }[] }[] | null };

const steered = (spec: unknown, extra: object) => generateSteered(referenceSteering, [{ prompt: PROMPT, steering: parseSteeringSpec(spec), ...extra }])[0];

test('greedy: DEFAULT is the clean model\'s text and STEERED the library\'s steered text, in the order of types', async () => {
  const res = await post(server, '/v1/steer/completion', { prompt: PROMPT, model: 'stories260K', features: [FEATURE], n_completion_tokens: 30, temperature: 0, types: ['DEFAULT', 'STEERED'] });
  assert.equal(res.status, 200, res.text);
  const { outputs, seed } = res.json() as { outputs: Output[]; seed: number };
  assert.deepEqual(outputs.map((o) => o.type), ['DEFAULT', 'STEERED']);
  assert.ok(Number.isSafeInteger(seed));
  const greedy = { maxTokens: 30, sampling: { temperature: 0 } };
  assert.equal(outputs[0].output, generate(reference.model, reference.tokenizer, [{ prompt: PROMPT, ...greedy }])[0].text);
  assert.equal(outputs[1].output, steered({ features: [{ source: FEATURE.source, index: 248, strength: 5 }] }, greedy).text);
  assert.notEqual(outputs[0].output, outputs[1].output);
  assert.equal(outputs[0].logprobs, null);
});

test('sampled: both rows use the one seed (n_tokens, freq_penalty, strength_multiplier, steer_method as Neuronpedia names them)', async () => {
  const body = { prompt: PROMPT, features: [{ layer: 2, index: '248', strength: 2 }], strength_multiplier: 2, steer_method: 'ORTHOGONAL_DECOMP', normalize_steering: true, n_tokens: 25, temperature: 0.9, freq_penalty: 0.5, seed: 7 };
  const res = await post(server, '/v1/steer/completion', body);
  assert.equal(res.status, 200, res.text);
  const { outputs } = res.json() as { outputs: Output[] };
  assert.deepEqual(outputs.map((o) => o.type), ['STEERED', 'DEFAULT']);
  const settings = { maxTokens: 25, seed: 7, sampling: { temperature: 0.9, frequencyPenalty: 0.5 } };
  const spec = { features: [{ layer: 2, index: 248, strength: 2 }], strength_multiplier: 2, steer_method: 'ORTHOGONAL_DECOMP', normalize_steering: true };
  assert.equal(outputs[0].output, steered(spec, settings).text);
  assert.equal(outputs[1].output, steered(undefined, settings).text);
});

test('the two rows run in one batch: n tokens take n scheduler steps, not 2n', async () => {
  const before = sample(await scrape(server), 'tinymorph:scheduler_steps_total');
  const res = await post(server, '/v1/steer/completion', { prompt: PROMPT, vectors: [{ vector: 'happy', strength: 6 }], n_completion_tokens: 40, temperature: 0, seed: 1, guide: [{ layer: 2, index: 248, strength: 4 }] });
  assert.equal(res.status, 200, res.text);
  // Both rows run all 40 tokens (this prompt and spec reach no end-of-text by then): the prefill
  // step samples both first tokens, then each step one more for each row. One at a time: 80 steps.
  const lengths = (res.json().outputs as Output[]).map((o) => reference.tokenizer.encode(o.output, { bos: false }).length);
  assert.ok(lengths.every((n) => n >= 35), `output lengths ${lengths}`);
  assert.equal(sample(await scrape(server), 'tinymorph:scheduler_steps_total') - before, 40);
});

test('Neuronpedia\'s vector shape (steering_vector + hook), only the types asked for, and NPLogprob logprobs', async () => {
  const v = Array.from({ length: 64 }, (_, i) => Math.sin(i) / 4);
  const res = await post(server, '/v1/steer/completion', { prompt: PROMPT, types: ['STEERED'], vectors: [{ steering_vector: v, hook: 'blocks.1.hook_resid_post', strength: 3 }], n_completion_tokens: 12, temperature: 0, n_logprobs: 3 });
  assert.equal(res.status, 200, res.text);
  const [out] = (res.json() as { outputs: Output[] }).outputs;
  assert.equal(out.type, 'STEERED');
  const lib = steered({ vectors: [{ hook: 'blocks.1.hook_resid_post', vector: v, strength: 3 }] }, { maxTokens: 12, sampling: { temperature: 0, logprobs: 3 }, logprobs: true });
  assert.equal(out.output, lib.text);
  assert.equal(out.logprobs?.length, lib.logprobs.length);
  out.logprobs?.forEach((lp, i) => {
    assert.ok(Math.abs(lp.logprob - lib.logprobs[i].logprob) < 1e-6);
    assert.equal(lp.topLogprobs.length, 3);
    assert.equal(lp.topLogprobs[0].logprob, lp.logprob, 'greedy: the chosen token is the most likely');
  });
  assert.equal(out.logprobs?.map((l) => l.token).join(''), out.output);
});

test('stream: cumulative frames holding every type, the last one equal to the whole answer, then [DONE]', async () => {
  const body = { prompt: PROMPT, features: [FEATURE], n_completion_tokens: 20, temperature: 0, seed: 3 };
  const whole = (await post(server, '/v1/steer/completion', body)).json() as { outputs: Output[] };
  const res = await post(server, '/v1/steer/completion', { ...body, stream: true });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events = res.text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
  assert.equal(events.pop(), '[DONE]');
  const frames = events.map((e) => JSON.parse(e) as { outputs: Output[] });
  assert.ok(frames.length > 5);
  frames.forEach((f, i) => {
    assert.deepEqual(f.outputs.map((o) => o.type), ['STEERED', 'DEFAULT']);
    if (i > 0) f.outputs.forEach((o, k) => assert.ok(o.output.startsWith(frames[i - 1].outputs[k].output), 'frames grow'));
  });
  assert.deepEqual(frames[frames.length - 1].outputs, whole.outputs);
});

test('bad steer requests: 4xx naming the field', async () => {
  const cases: [body: unknown, status: number, param: string | null][] = [
    [{ prompt: PROMPT }, 400, 'features'],
    [{ prompt: PROMPT, features: [{ ...FEATURE, source: '../../etc' }] }, 400, 'features[0].source'],
    [{ prompt: PROMPT, features: [{ ...FEATURE, source: 'blocks.9.hook_resid_post' }] }, 400, 'features[0].source'],
    [{ prompt: PROMPT, features: [{ ...FEATURE, index: 99999 }] }, 400, 'features[0].index'],
    [{ prompt: PROMPT, features: [{ ...FEATURE, strength: 'lots' }] }, 400, 'features[0].strength'],
    [{ prompt: PROMPT, features: [{ ...FEATURE, model: 'gpt2-small' }] }, 404, 'features[0].model'],
    [{ prompt: PROMPT, features: [{ ...FEATURE, steering_vector: [1, 2] }] }, 400, 'features[0].steering_vector'],
    [{ prompt: PROMPT, vectors: [{ steering_vector: [1], hook: 'blocks.1.hook_resid_post', strength: 1 }] }, 400, 'vectors[0].vector'],
    [{ prompt: PROMPT, vectors: [{ vector: '/etc/passwd', strength: 1 }] }, 400, 'vectors[0].vector'],
    [{ prompt: PROMPT, features: [FEATURE], steer_method: 'CLAMP' }, 400, 'steer_method'],
    [{ prompt: PROMPT, features: [FEATURE], types: ['STEERED', 'STEERED'] }, 400, 'types'],
    [{ prompt: PROMPT, features: [FEATURE], types: ['BOTH'] }, 400, 'types[0]'],
    [{ prompt: PROMPT, features: [FEATURE], n_completion_tokens: 600 }, 400, 'max_tokens'],
    [{ prompt: PROMPT, features: [FEATURE], scope: 'sometimes' }, 400, 'scope'],
    [{ features: [FEATURE] }, 400, 'prompt'],
  ];
  for (const [body, status, param] of cases) {
    const res = await post(server, '/v1/steer/completion', body);
    assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text}`);
    assert.equal(res.json().error.param, param, res.text);
  }
  const nan = await post(server, '/v1/steer/completion', `{"prompt": "x", "features": [{"layer": 2, "index": 1, "strength": NaN}]}`);
  assert.equal(nan.status, 400);
  assert.equal(nan.json().error.code, 'invalid_json');
});
