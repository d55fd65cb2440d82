import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sseData } from '../../src/app/suggest/sse-reader.js';

async function read(chunks: string[]): Promise<string[]> {
  const bytes = chunks.map((c) => new TextEncoder().encode(c));
  async function* body(): AsyncGenerator<Uint8Array> {
    yield* bytes;
  }
  const out: string[] = [];
  for await (const d of sseData(body())) out.push(d);
  return out;
}

// The examples of WHATWG HTML §9.2.5 ("Event stream format") and what the spec says they dispatch.
test('the spec examples: multi-line data, comments, ids, the optional space, empty data', async () => {
  assert.deepEqual(await read(['data: YHOO\ndata: +2\ndata: 10\n\n']), ['YHOO\n+2\n10']);
  assert.deepEqual(await read([': test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n']), ['first event', 'second event', ' third event']);
  assert.deepEqual(await read(['data\n\ndata\ndata\n\ndata:']), ['', '\n']);
  assert.deepEqual(await read(['event: add\ndata: 73857293\n\nretry: 10\n\ndataX: no\n\n']), ['73857293']);
});

test('CRLF, CR and LF line endings read the same', async () => {
  for (const eol of ['\n', '\r\n', '\r']) {
    assert.deepEqual(await read([`data: a${eol}data: b${eol}${eol}data: [DONE]${eol}${eol}`]), ['a\nb', '[DONE]'], JSON.stringify(eol));
  }
});

test('however the bytes are split into chunks (inside CRLF, inside a UTF-8 character), the events are the same', async () => {
  const stream = 'data: {"choices":[{"text":" café"}]}\r\n\r\n: keepalive\r\n\r\ndata: ünïcödé 🌷\r\ndata: second line\r\n\r\ndata: [DONE]\r\n\r\n';
  const whole = await read([stream]);
  assert.deepEqual(whole, ['{"choices":[{"text":" café"}]}', 'ünïcödé 🌷\nsecond line', '[DONE]']);
  const bytes = new TextEncoder().encode(stream);
  const decoder = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
  for (let cut = 1; cut < bytes.length; cut++) {
    const parts = [bytes.slice(0, cut), bytes.slice(cut)];
    const out: string[] = [];
    async function* body(): AsyncGenerator<Uint8Array> {
      yield* parts;
    }
    for await (const d of sseData(body())) out.push(d);
    assert.deepEqual(out, whole, `split at byte ${cut} (${JSON.stringify(decoder(parts[0]).slice(-4))})`);
  }
});
