import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { post, startTestServer, until } from './serve-test-helpers.js';

/**
 * The first request that guides with an SAE needs that SAE's feature means (~1.5 s over the
 * validation text). The server computes them on its analysis thread: the streams already running
 * keep decoding meanwhile instead of stalling until the means are ready.
 */
const server = await startTestServer();
after(() => server.close());

test('the first guide request on an SAE does not stall running streams while its feature means are computed', async () => {
  const res = await fetch(`${server.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'Once upon a time', max_tokens: 500, temperature: 0, ignore_eos: true, stream: true }),
  });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let streamed = 0;
  const reading = (async () => {
    for (let r = await reader.read(); !r.done; r = await reader.read()) streamed += (new TextDecoder().decode(r.value).match(/^data: \{/gm) ?? []).length;
  })();
  await until(() => streamed >= 3, 'the stream to start');
  const atGuide = streamed;
  const guided = await post(server, '/v1/completions', { prompt: 'The dog', max_tokens: 1, temperature: 0, steering: { guide: [{ layer: 3, index: 7, strength: 4 }] } });
  const whileGuidePrepared = streamed - atGuide;
  assert.equal(guided.status, 200, guided.text);
  // Computed on the event loop, the means held every step until they were ready: a token or two
  // got through. Off it, the stream runs on (hundreds of steps in the time the means take).
  assert.ok(whileGuidePrepared >= 100, `the running stream got ${whileGuidePrepared} tokens while the guide request was prepared and answered`);
  await reading;
});
