import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadModel } from '../../src/model/load-model.js';
import { post, startTestServer } from './serve-test-helpers.js';

/**
 * The real server over the embedded model with an HF tokenizer folder whose tokenizer_config.json
 * has ChatML's template (as the transformers docs give it) and a guard that refuses system turns, as
 * Gemma's template does. 400 ids (the embedded model's 512 rows are that rounded up to 128):
 * <|endoftext|> <|im_start|> <|im_end|>, a..z, Ċ (newline), Ġ (space), then fillers.
 */
const TEMPLATE =
  "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const dir = mkdtempSync(join(tmpdir(), 'tinymorph-chat-server-'));
const folder = join(dir, 'tok');
mkdirSync(folder);
const vocab: Record<string, number> = { '<|endoftext|>': 0, '<|im_start|>': 1, '<|im_end|>': 2 };
for (const ch of 'abcdefghijklmnopqrstuvwxyzĊĠ') vocab[ch] = Object.keys(vocab).length;
while (Object.keys(vocab).length < 400) vocab[`x${Object.keys(vocab).length}`] = Object.keys(vocab).length;
writeFileSync(
  join(folder, 'tokenizer.json'),
  JSON.stringify({
    added_tokens: [0, 1, 2].map((id) => ({ id, content: Object.keys(vocab)[id], special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false },
    post_processor: null,
    decoder: { type: 'ByteLevel' },
    model: { type: 'BPE', vocab, merges: [] },
  }),
);
writeFileSync(join(folder, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<|endoftext|>', eos_token: '<|im_end|>', chat_template: TEMPLATE }));
// A further end-of-turn id, as chat models list them in generation_config.json: "z" (id 28) here.
writeFileSync(join(folder, 'generation_config.json'), JSON.stringify({ eos_token_id: [2, 28] }));

const server = await startTestServer({ loaded: loadModel({ tokenizer: folder }) });
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const letters = (s: string): number[] => [...s].map((ch) => (ch === '\n' ? 29 : ch === ' ' ? 30 : ch.charCodeAt(0) - 97 + 3));
// "<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n", by hand from the template.
const PROMPT = [1, ...letters('user\nhi there'), 2, ...letters('\n'), 1, ...letters('assistant\n')];
const MESSAGES = [{ role: 'user', content: 'hi there' }];

test("/v1/tokenize renders messages through the model's chat template", async () => {
  const r = await post(server, '/v1/tokenize', { messages: MESSAGES });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json().tokens, PROMPT);
});

test('/v1/chat/completions prompts with the template, and a template error is a 400 naming tokenizer_config.json', async () => {
  const r = await post(server, '/v1/chat/completions', { messages: MESSAGES, max_tokens: 2, temperature: 0 });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json().usage.prompt_tokens, PROMPT.length);
  const bad = await post(server, '/v1/chat/completions', { messages: [{ role: 'system', content: 'x' }, ...MESSAGES], max_tokens: 2 });
  assert.equal(bad.status, 400, bad.text);
  assert.match(bad.json().error.message, /tokenizer_config\.json: chat_template failed: .*System role not supported/);
  assert.equal(bad.json().error.code, 'tokenizer_file');
});

test("a reply ends at generation_config.json's end-of-turn id as at EOS", async () => {
  for (const id of [2, 28]) {
    const r = await post(server, '/v1/chat/completions', { messages: MESSAGES, max_tokens: 5, temperature: 0, logit_bias: { [id]: 100 } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json().choices[0].finish_reason, 'stop', `id ${id}`);
    assert.equal(r.json().usage.completion_tokens, 0, `id ${id}`);
  }
  const free = await post(server, '/v1/chat/completions', { messages: MESSAGES, max_tokens: 3, temperature: 0, logit_bias: { 27: 100 } });
  assert.equal(free.json().choices[0].message.content, 'yyy', '"y" (id 27) ends nothing');
});
