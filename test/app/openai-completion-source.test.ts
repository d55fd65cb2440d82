import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openAiCompletionSource } from '../../src/app/suggest/openai-completion-source.js';
import { EXCERPT_CHARS } from '../../src/app/suggest/related-context.js';
import { generate } from '../../src/model/generate.js';
import type { RunningServer } from '../../src/serve/server.js';
import { reference, startTestServer } from '../serve/serve-test-helpers.js';

// The page's suggestion source against the real model server: with a related note's excerpt before
// the text, a long note's prompt keeps to the same number of characters (the excerpt takes the far
// end of the text's room), so the request still fits the embedded model's 512-token context.
let server: RunningServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

async function suggestion(o: Parameters<typeof openAiCompletionSource>[0], text: string): Promise<string> {
  let out = '';
  for await (const piece of openAiCompletionSource(o).suggest(text, new AbortController().signal)) out += piece;
  return out;
}

test('suggestion source: a related excerpt goes first and the text before the cursor gives it room; the model sees exactly that prompt', async () => {
  const long = Array.from({ length: 60 }, (_, i) => `Lily saw ${i % 2 ? 'a red ball' : 'a big dog'} in the park and she was happy.`).join(' ');
  const excerpt = 'The boat sailed on the blue sea. '.repeat(20).slice(0, EXCERPT_CHARS).trim();
  const o = { url: `${server.url}/v1/completions`, maxTokens: 24, seed: 3, temperature: 0.8, contextChars: 1000 };
  const prompt = `${excerpt}\n\n${long.slice(-(1000 - excerpt.length - 2))}`;
  assert.equal(prompt.length, 1000);
  assert.ok(reference.tokenizer.encode(long.slice(-1000)).length + 24 <= 512, 'the plain prompt fits');
  const expected = generate(reference.model, reference.tokenizer, [{ prompt, maxTokens: 24, seed: 3, sampling: { temperature: 0.8, topP: 0.9 }, stop: ['\n\n'] }])[0].text;
  assert.equal(await suggestion({ ...o, preamble: () => excerpt }, long), expected);
  // Without an excerpt (none found yet), the prompt is the text alone.
  const plain = generate(reference.model, reference.tokenizer, [{ prompt: long.slice(-1000), maxTokens: 24, seed: 3, sampling: { temperature: 0.8, topP: 0.9 }, stop: ['\n\n'] }])[0].text;
  assert.equal(await suggestion({ ...o, preamble: () => undefined }, long), plain);
});
