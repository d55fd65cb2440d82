import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { generate } from '../../src/model/generate.js';
import { BadBodies } from './bad-bodies.js';
import { MODEL_ID, post, reference, startTestServer } from './serve-test-helpers.js';

/**
 * 2,000+ generated bad bodies against every POST endpoint of one server: never a 5xx, every 4xx
 * in OpenAI's error shape naming the field (or the body, when there is no field to name: text
 * that is not JSON, a body that is not an object), and the server still generates correctly after.
 */
const server = await startTestServer({ scheduler: { maxBatch: 8, maxQueue: 16, stepTokens: 64 }, features: { dir: mkdtempSync(join(tmpdir(), 'tm-serve-fuzz-')), buildTokens: 4 * 128 } });
after(() => server.close());

const steering = { features: [{ source: 'blocks.2.hook_resid_post', index: 248, strength: 3 }], vectors: [{ vector: 'happy', strength: 2 }], scope: 'generated' };
const VALID: [path: string, body: any][] = [
  ['/v1/completions', { model: MODEL_ID, prompt: 'Once upon a time', max_tokens: 2, temperature: 0.5, seed: 1, logprobs: 2, stop: ['.'], logit_bias: { '5': 1 }, steering }],
  ['/v1/completions', { prompt: [1, 403, 407], max_tokens: 2, n: 2, stream: true, stream_options: { include_usage: true }, echo: true }],
  ['/v1/chat/completions', { model: MODEL_ID, messages: [{ role: 'system', content: 'Be kind.' }, { role: 'user', content: [{ type: 'text', text: 'Hi' }] }], max_completion_tokens: 2, logprobs: true, top_logprobs: 2, steering }],
  ['/v1/tokenize', { prompt: 'Once upon a time', add_special_tokens: false }],
  ['/v1/detokenize', { tokens: [1, 403, 407] }],
  ['/v1/steer/completion', { prompt: 'Lily', model: MODEL_ID, features: [{ model: MODEL_ID, source: 'blocks.2.hook_resid_post', index: 248, strength: 4 }], vectors: [{ steering_vector: Array(64).fill(0.01), hook: 'blocks.1.hook_resid_post', strength: 1 }], types: ['STEERED', 'DEFAULT'], n_completion_tokens: 2, temperature: 0, strength_multiplier: 1, freq_penalty: 0, seed: 1, n_logprobs: 1, steer_method: 'SIMPLE_ADDITIVE', normalize_steering: false }],
  ['/v1/features/explain-text', { text: 'Lily saw a dog.', source: '2', per_token: 2, top: 3 }],
  ['/v1/features/contrast', { a: ['happy day'], b: ['sad day'], source: 'blocks.2.hook_resid_post', top: 2 }],
  ['/v1/features/2/40/label', { label: 'a label' }],
  ['/v1/vectors/style', { name: 'mine', texts: ['"Hi!" said Tom.'] }],
];
const ROUNDS = 300; // × 10 endpoints; about 3 in 10 mutations leave a valid body
const CONCURRENCY = 8;

/** The body says what the problem is with: a field, or the body as a whole (not JSON, not an object). */
function namesTheField(error: { message: string; param: string | null; code: string | null }): boolean {
  return error.param !== null || error.code === 'invalid_json' || error.message.startsWith('the request body');
}

test(`${ROUNDS * VALID.length} mutated bodies (2,000+ of them bad): no 5xx, every 4xx in OpenAI's error shape naming the field; the server then still generates`, async () => {
  const gen = new BadBodies(19);
  const jobs = Array.from({ length: ROUNDS }, () => VALID.map(([path, body]) => ({ path, text: gen.next(body) }))).flat();
  const statuses = new Map<number, number>();
  const failures: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < jobs.length) {
        const { path, text } = jobs[next++];
        const res = await post(server, path, text);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const shown = `${path} ${text.length > 300 ? `${text.slice(0, 300)}…` : text} → ${res.status} ${res.text.slice(0, 300)}`;
        if (res.status >= 500) failures.push(shown);
        else if (res.status >= 400) {
          let error: any;
          try {
            error = JSON.parse(res.text).error;
          } catch {
            failures.push(`not JSON: ${shown}`);
            continue;
          }
          const shapeOk = error && Object.keys(error).sort().join() === 'code,message,param,type' && typeof error.message === 'string' && typeof error.type === 'string';
          if (!shapeOk || !namesTheField(error)) failures.push(`error shape or field: ${shown}`);
        }
      }
    }),
  );
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} bad answers`);
  const bad = [...statuses].filter(([s]) => s >= 400).reduce((n, [, c]) => n + c, 0);
  assert.ok(bad >= 2000, `only ${bad} of ${jobs.length} bodies were refused: ${JSON.stringify([...statuses])}`);

  const res = await post(server, '/v1/completions', { prompt: 'Once upon a time', max_tokens: 20, temperature: 0 });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json().choices[0].text, generate(reference.model, reference.tokenizer, [{ prompt: 'Once upon a time', maxTokens: 20, sampling: { temperature: 0 } }])[0].text);
  assert.equal(server.engine.scheduler.stats().running, 0);
});
