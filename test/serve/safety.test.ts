import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { createApp } from '../../src/serve/app.js';
import { EngineRef } from '../../src/serve/serve-engine.js';
import type { RunningServer } from '../../src/serve/server.js';
import { startServer } from '../../src/serve/server.js';
import { openaiClient, post, startTestServer } from './serve-test-helpers.js';

/**
 * What the server refuses, and how: every bad request a 4xx in OpenAI's error shape naming the
 * field, never a 5xx; DNS rebinding, foreign origins, missing keys and oversized bodies kept out.
 */
const server = await startTestServer({ maxBodyBytes: 64 * 1024 });
after(() => server.close());

/** A GET with exactly these headers (fetch always sends its own Host). */
function rawGet(s: RunningServer, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: s.port, path, headers, setHost: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function assertOpenAiError(body: unknown, status: number, actual: number, param?: string | null): void {
  assert.equal(actual, status, JSON.stringify(body));
  const e = (body as { error: Record<string, unknown> }).error;
  assert.deepEqual(Object.keys(e).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(typeof e.message, 'string');
  if (param !== undefined) assert.equal(e.param, param, String(e.message));
}

test('bad bodies: 4xx in OpenAI\'s error shape naming the field, and the server goes on serving', async () => {
  const cases: [path: string, body: unknown, status: number, param: string | null, message: RegExp][] = [
    ['/v1/completions', '{"prompt": "Once",', 400, null, /not valid JSON/],
    ['/v1/completions', '{"prompt": "x", "temperature": NaN}', 400, null, /not valid JSON/],
    ['/v1/completions', '[1, 2]', 400, null, /expected object/],
    ['/v1/completions', {}, 400, 'prompt', /prompt/],
    ['/v1/completions', { prompt: 5 }, 400, 'prompt', /token ids/],
    ['/v1/completions', { prompt: 'x', temperature: 'hot' }, 400, 'temperature', /expected number.*"hot"/],
    ['/v1/completions', { prompt: 'x', temperature: 7 }, 400, 'temperature', /2/],
    ['/v1/completions', '{"prompt": "x", "top_p": 1e999}', 400, 'top_p', /Infinity/],
    ['/v1/completions', { prompt: 'x', max_tokens: 0 }, 400, 'max_tokens', /only allowed with echo/],
    ['/v1/completions', { prompt: 'x', max_tokens: -1, echo: true }, 400, 'max_tokens', /0/],
    ['/v1/completions', { prompt: 'x', max_tokens: 2.5 }, 400, 'max_tokens', /int/],
    ['/v1/completions', { prompt: 'x', n: 0 }, 400, 'n', /1/],
    ['/v1/completions', { prompt: 'x', stream: 'yes' }, 400, 'stream', /boolean/],
    ['/v1/completions', { prompt: 'x', stop: ['a', 'b', 'c', 'd', 'e'] }, 400, 'stop', /4/],
    ['/v1/completions', { prompt: 'x', logit_bias: { dog: 3 } }, 400, 'logit_bias.dog', /token ids/],
    ['/v1/completions', { prompt: 'x', logit_bias: { 600: 3 } }, 400, 'logit_bias.600', /token id 600 is outside the vocabulary 0\.\.511/],
    ['/v1/completions', { prompt: [1, 2, 600] }, 400, 'prompt[2]', /600 is not a token id/],
    ['/v1/completions', { prompt: 'x', suffix: 'end' }, 400, 'suffix', /not supported/],
    ['/v1/completions', { prompt: 'x', steering: { features: [{ source: 'blocks.2.hook_resid_post', index: 3, strength: 'NaN' }] } }, 400, 'steering.features[0].strength', /finite number/],
    ['/v1/completions', { prompt: 'x', steering: { features: [{ source: 'blocks.2.hook_resid_post', index: 1024, strength: 1 }] } }, 400, 'steering.features[0].index', /1024 is outside 0\.\.1023/],
    ['/v1/completions', { prompt: 'x', steering: { features: [{ source: 'blocks.4.hook_resid_post', index: 1, strength: 1 }] } }, 400, 'steering.features[0].source', /not a shipped SAE/],
    ['/v1/completions', { prompt: 'x', steering: { features: [{ source: '../../etc', index: 1, strength: 1 }] } }, 400, 'steering.features[0].source', /not a shipped SAE/],
    ['/v1/completions', { prompt: 'x', steering: { vectors: [{ vector: '/etc/passwd', strength: 1 }] } }, 400, 'steering.vectors[0].vector', /not a preset/],
    ['/v1/completions', { prompt: 'x', steering: { vectors: [{ hook: 'blocks.1.hook_resid_post', vector: [1, 2], strength: 1 }] } }, 400, 'steering.vectors[0].vector', /2 numbers/],
    ['/v1/completions', { prompt: 'x', steering: { colour: 'red' } }, 400, 'steering.colour', /not a steering field/],
    ['/v1/chat/completions', { messages: [] }, 400, 'messages', /1/],
    ['/v1/chat/completions', { messages: [{ role: 'robot', content: 'hi' }] }, 400, 'messages[0].role', /user/],
    ['/v1/chat/completions', { messages: [{ role: 'user', content: 3 }] }, 400, 'messages[0].content', /string/],
    ['/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }], top_logprobs: 2 }, 400, 'top_logprobs', /needs logprobs/],
    ['/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function' }] }, 400, 'tools', /not supported/],
    ['/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, 404, 'model', /gpt-4o/],
    ['/v1/detokenize', { tokens: [1, -1] }, 400, 'tokens[1]', /number/],
    ['/v1/detokenize', { tokens: [1, 9999] }, 400, 'tokens[1]', /9999 is not a token id/],
    ['/v1/tokenize', { text: 'hi' }, 400, 'prompt', /exactly one of prompt/],
    ['/v1/nowhere', {}, 404, null, /no route for POST \/v1\/nowhere/],
  ];
  for (const [path, body, status, param, message] of cases) {
    const res = await post(server, path, body);
    assertOpenAiError(res.json(), status, res.status, param);
    assert.match(res.json().error.message, message, `${path} ${JSON.stringify(body)}`);
  }
  assert.equal((await fetch(`${server.url}/health`)).status, 200);
});

test('oversized bodies: 413, whether or not the client says the length up front', async () => {
  const big = JSON.stringify({ prompt: 'x'.repeat(70 * 1024) });
  const declared = await post(server, '/v1/completions', big);
  assertOpenAiError(declared.json(), 413, declared.status);
  const chunked = await fetch(`${server.url}/v1/completions`, {
    method: 'POST',
    body: new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(big)), c.close()) }),
    duplex: 'half',
  } as RequestInit);
  assertOpenAiError(await chunked.json(), 413, chunked.status);
});

test('Host allow-list on loopback: another, an empty or a missing Host is a 403 (DNS rebinding); loopback names pass', async () => {
  const hosts: Record<string, string>[] = [{ Host: 'evil.example' }, { Host: `evil.example:${server.port}` }, { Host: '' }, {}];
  for (const headers of hosts) {
    const r = await rawGet(server, '/v1/models', headers);
    assertOpenAiError(JSON.parse(r.body), 403, r.status);
  }
  for (const host of ['localhost', '127.0.0.1', '[::1]']) assert.equal((await rawGet(server, '/v1/models', { Host: `${host}:${server.port}` })).status, 200, host);
});

test('CORS is off by default and a foreign page cannot make the model work; --cors-origin allows exactly the origins named', async () => {
  const body = JSON.stringify({ prompt: 'x', max_tokens: 1 });
  const foreign = await fetch(`${server.url}/v1/completions`, { method: 'POST', headers: { origin: 'http://evil.example', 'content-type': 'text/plain' }, body });
  assertOpenAiError(await foreign.json(), 403, foreign.status);
  assert.equal(foreign.headers.get('access-control-allow-origin'), null);
  const same = await fetch(`${server.url}/v1/completions`, { method: 'POST', headers: { origin: server.url }, body });
  assert.equal(same.status, 200);
  assert.equal(same.headers.get('access-control-allow-origin'), null);

  const withCors = await startTestServer({ corsOrigins: ['http://localhost:5173'] });
  try {
    const pre = await fetch(`${withCors.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'http://localhost:5173');
    const ok = await fetch(`${withCors.url}/v1/completions`, { method: 'POST', headers: { origin: 'http://localhost:5173' }, body });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), 'http://localhost:5173');
    const evilPre = await fetch(`${withCors.url}/v1/completions`, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
    assert.equal(evilPre.headers.get('access-control-allow-origin'), null, 'an origin not named was reflected');
    const evil = await fetch(`${withCors.url}/v1/completions`, { method: 'POST', headers: { origin: 'http://evil.example' }, body });
    assert.equal(evil.status, 403);
  } finally {
    await withCors.close();
  }
});

test('a non-loopback bind refuses to start without an API key; with one, requests without it get 401', async () => {
  await assert.rejects(startServer({ host: '0.0.0.0', port: 0 }), (e: unknown) => e instanceof UsageError && /refusing to listen on 0\.0\.0\.0 without an API key/.test(e.message));
  const keyed = await startTestServer({ host: '0.0.0.0', apiKey: 'sekrit' });
  try {
    const url = `http://127.0.0.1:${keyed.port}`;
    const none = await fetch(`${url}/v1/models`);
    assertOpenAiError(await none.json(), 401, none.status);
    const wrong = await fetch(`${url}/v1/models`, { headers: { authorization: 'Bearer guess' } });
    const wrongBody = await wrong.json();
    assertOpenAiError(wrongBody, 401, wrong.status);
    assert.equal(wrongBody.error.type, 'authentication_error');
    assert.equal((await fetch(`${url}/v1/models`, { headers: { authorization: 'Bearer sekrit' } })).status, 200);
    assert.equal((await fetch(`${url}/health`)).status, 200, 'the health probe needs no key');
    await assert.rejects(openaiClient({ ...keyed, url }, 'guess').models.list(), (e: { status?: number }) => e.status === 401);
    assert.equal((await openaiClient({ ...keyed, url }, 'sekrit').completions.create({ model: 'stories260K', prompt: 'Zoo', max_tokens: 2 })).choices.length, 1);
  } finally {
    await keyed.close();
  }
});

test('/health and the API answer 503 with Retry-After while the model is loading', async () => {
  const app = createApp({ engines: new EngineRef() });
  for (const [method, path] of [['GET', '/health'], ['GET', '/v1/models'], ['POST', '/v1/completions']]) {
    const res = await app.request(path, { method, body: method === 'POST' ? JSON.stringify({ prompt: 'x' }) : undefined });
    assertOpenAiError(await res.json(), 503, res.status);
    assert.equal(res.headers.get('retry-after'), '1');
  }
});
