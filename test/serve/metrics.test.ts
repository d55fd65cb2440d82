import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { MODEL_ID, post, reference, sample, scrape, startTestServer, until } from './serve-test-helpers.js';

/**
 * /metrics as a Prometheus scraper reads it: the counters move by exactly what the requests sent
 * ask for, the histograms count every request and token, and a client that disconnects is seen to
 * give its row back at once.
 */
const server = await startTestServer({ scheduler: { maxBatch: 4, maxQueue: 8, stepTokens: 64 } });
after(() => server.close());
const { scheduler } = server.engine;
const P = 'tinymorph:';

test('the text is served as Prometheus 0.0.4 with a HELP and TYPE line before every family', async () => {
  const res = await fetch(`${server.url}/metrics`);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const lines = (await res.text()).split('\n');
  const types = new Map(lines.filter((l) => l.startsWith('# TYPE ')).map((l) => l.slice(7).split(' ') as [string, string]));
  for (const [name, type] of [
    ['num_requests_running', 'gauge'], ['num_requests_waiting', 'gauge'], ['kv_cache_usage_perc', 'gauge'],
    ['prompt_tokens_total', 'counter'], ['generation_tokens_total', 'counter'], ['request_success_total', 'counter'], ['steered_requests_total', 'counter'],
    ['time_to_first_token_seconds', 'histogram'], ['inter_token_latency_seconds', 'histogram'], ['e2e_request_latency_seconds', 'histogram'], ['request_queue_time_seconds', 'histogram'],
  ]) assert.equal(types.get(`${P}${name}`), type, name);
});

test('counters and histogram counts match the requests sent: tokens prefilled and generated, finish reasons, steered requests', async () => {
  const before = await scrape(server);
  // ignore_eos: each choice generates exactly max_tokens, whatever the text.
  const requests = [
    { prompt: 'Once upon a time', max_tokens: 7, n: 1 },
    { prompt: 'Lily and Ben are friends.', max_tokens: 12, n: 2, steering: { features: [{ layer: 2, index: 248, strength: 3 }] } },
    { prompt: 'Zoo', max_tokens: 1, n: 1, stream: true },
    { prompt: 'The cat', max_tokens: 5, n: 3, steering: { vectors: [{ vector: 'happy', strength: 6 }] }, stream: true },
  ];
  await Promise.all(requests.map(async (r) => assert.equal((await post(server, '/v1/completions', { ...r, ignore_eos: true, model: MODEL_ID })).status, 200)));
  const now = await scrape(server);
  const delta = (name: string, labels = ''): number => sample(now, `${P}${name}`, labels) - sample(before, `${P}${name}`, labels);
  const choices = requests.reduce((s, r) => s + r.n, 0);
  const promptTokens = requests.reduce((s, r) => s + r.n * reference.tokenizer.encode(r.prompt).length, 0);
  const generated = requests.reduce((s, r) => s + r.n * r.max_tokens, 0);
  assert.equal(delta('prompt_tokens_total'), promptTokens);
  assert.equal(delta('generation_tokens_total'), generated);
  assert.equal(delta('request_success_total', 'finished_reason="length"'), choices);
  assert.equal(delta('request_success_total', 'finished_reason="stop"'), 0);
  assert.equal(delta('request_success_total', 'finished_reason="abort"'), 0);
  assert.equal(delta('steered_requests_total'), 2 + 3);
  for (const h of ['time_to_first_token_seconds', 'e2e_request_latency_seconds', 'request_queue_time_seconds']) assert.equal(delta(`${h}_count`), choices, h);
  assert.equal(delta('inter_token_latency_seconds_count'), generated - choices);
  assert.ok(delta('time_to_first_token_seconds_sum') <= delta('e2e_request_latency_seconds_sum'));
  for (const h of ['time_to_first_token_seconds', 'inter_token_latency_seconds', 'e2e_request_latency_seconds', 'request_queue_time_seconds']) {
    const buckets = [...now].filter(([k]) => k.startsWith(`${P}${h}_bucket{`)).map(([, v]) => v);
    assert.ok(buckets.every((v, i) => i === 0 || v >= buckets[i - 1]), `${h} buckets are cumulative`);
    assert.equal(buckets[buckets.length - 1], sample(now, `${P}${h}_count`), `${h} +Inf bucket = count`);
  }
  assert.equal(sample(now, `${P}num_requests_running`), 0);
  assert.equal(sample(now, `${P}kv_cache_usage_perc`), 0);
});

test('a client that aborts mid-stream: /metrics shows its row freed within one decode step', async () => {
  const before = await scrape(server);
  const controller = new AbortController();
  const res = await fetch(`${server.url}/v1/completions`, {
    method: 'POST',
    signal: controller.signal,
    body: JSON.stringify({ prompt: 'Once upon a time', max_tokens: 400, temperature: 0, ignore_eos: true, stream: true }),
  });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let events = 0;
  while (events < 3) events += (new TextDecoder().decode((await reader.read()).value).match(/^data: /gm) ?? []).length;
  const during = await scrape(server);
  assert.equal(sample(during, `${P}num_requests_running`), 1);
  assert.ok(sample(during, `${P}kv_cache_usage_perc`) > 0);
  // The only running request: once its row is released no further step runs, so the step counter
  // on /metrics stops where the release happened. Client and server share this process's event
  // loop: one step may run between the client's abort and the server learning of it (libuv runs
  // the socket's 'close' callback after the check phase, where the scheduler steps); the scheduler
  // frees the row the moment the request's abort signal fires, before any further step.
  const stepsAtAbort = scheduler.stats().steps;
  controller.abort();
  await until(() => scheduler.stats().running === 0, 'the aborted request to be released');
  const after = await scrape(server);
  assert.equal(sample(after, `${P}num_requests_running`), 0);
  assert.equal(sample(after, `${P}kv_cache_usage_perc`), 0);
  assert.equal(sample(after, `${P}request_success_total`, 'finished_reason="abort"') - sample(before, `${P}request_success_total`, 'finished_reason="abort"'), 1);
  const stepsAfter = sample(after, `${P}scheduler_steps_total`);
  assert.ok(stepsAfter - stepsAtAbort <= 1, `${stepsAfter - stepsAtAbort} steps ran between the client's abort and its row's release`);
  assert.ok(sample(after, `${P}generation_tokens_total`) - sample(before, `${P}generation_tokens_total`) < 400);
});
