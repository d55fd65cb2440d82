import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TokenizerFileError } from '../../src/errors.js';
import { HfChatTemplate } from '../../src/model/hf-chat-template.js';
import { loadTokenizer } from '../../src/model/load-tokenizer.js';
import { chatPrompt, CHAT_STOP, renderChat } from '../../src/serve/chat-template.js';

// Templates as published in the models' tokenizer_config.json files.
/** ChatML, as the transformers documentation ("Chat templates") gives it. */
const CHATML =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
/** meta-llama/Meta-Llama-3-8B-Instruct. */
const LLAMA3 =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
/** google/gemma-2-2b-it. */
const GEMMA =
  "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}";

const CONVERSATION = [
  { role: 'user', content: 'Hi there' },
  { role: 'assistant', content: ' Hello! ' },
  { role: 'user', content: 'Tell me a story.\n' },
];

test('ChatML renders each turn between <|im_start|> and <|im_end|>, then opens the assistant turn', () => {
  const t = HfChatTemplate.fromConfig(CHATML, 'tokenizer_config.json', '<s>', '</s>');
  const want =
    '<|im_start|>system\nBe brief.<|im_end|>\n' + '<|im_start|>user\nHi there<|im_end|>\n' + '<|im_start|>assistant\n Hello! <|im_end|>\n' + '<|im_start|>user\nTell me a story.\n<|im_end|>\n' + '<|im_start|>assistant\n';
  assert.equal(t.render([{ role: 'system', content: 'Be brief.' }, ...CONVERSATION]), want);
});

test('Llama-3 writes bos_token once, trims each message, and ends turns with <|eot_id|>', () => {
  const t = HfChatTemplate.fromConfig(LLAMA3, 'tokenizer_config.json', '<|begin_of_text|>', '<|eot_id|>');
  const want =
    '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>' +
    '<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>' +
    '<|start_header_id|>user<|end_header_id|>\n\nTell me a story.<|eot_id|>' +
    '<|start_header_id|>assistant<|end_header_id|>\n\n';
  assert.equal(t.render(CONVERSATION), want);
});

test('Gemma names the assistant "model", and its raise_exception is a TokenizerFileError naming the file', () => {
  const t = HfChatTemplate.fromConfig(GEMMA, '/m/tokenizer_config.json', '<bos>', '<eos>');
  const want = '<bos><start_of_turn>user\nHi there<end_of_turn>\n' + '<start_of_turn>model\nHello!<end_of_turn>\n' + '<start_of_turn>user\nTell me a story.<end_of_turn>\n' + '<start_of_turn>model\n';
  assert.equal(t.render(CONVERSATION), want);
  assert.throws(
    () => t.render([{ role: 'system', content: 'x' }]),
    (e: unknown) => e instanceof TokenizerFileError && e.file === '/m/tokenizer_config.json' && /chat_template failed: .*System role not supported/.test(e.message),
  );
  assert.throws(() => t.render([{ role: 'assistant', content: 'x' }]), (e: unknown) => e instanceof TokenizerFileError && /roles must alternate/.test(e.message));
});

test('a template that does not parse, or a list without "default", fails when it is read', () => {
  assert.throws(
    () => HfChatTemplate.fromConfig('{% for m in messages %}{{ m.content }', '/m/tokenizer_config.json', '<s>', '</s>'),
    (e: unknown) => e instanceof TokenizerFileError && e.file === '/m/tokenizer_config.json' && /chat_template does not parse/.test(e.message) && !e.message.includes('\n'),
  );
  const named = [
    { name: 'tool_use', template: 'tools' },
    { name: 'default', template: '{{ messages[0].content }}!' },
  ];
  assert.equal(HfChatTemplate.fromConfig(named, 'c.json', '<s>', '</s>').render([{ role: 'user', content: 'hi' }]), 'hi!');
  assert.throws(() => HfChatTemplate.fromConfig(named.slice(0, 1), 'c.json', '<s>', '</s>'), (e: unknown) => e instanceof TokenizerFileError && /none named "default"/.test(e.message));
  assert.throws(() => HfChatTemplate.fromConfig('{{ "" }}', 'c.json', '<s>', '</s>').render([]), (e: unknown) => e instanceof TokenizerFileError && /as no text/.test(e.message));
});

const dir = mkdtempSync(join(tmpdir(), 'tinymorph-chat-tpl-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A byte-level tokenizer with ChatML's markers as special tokens, and tokenizer_config.json beside it. */
function chatmlFolder(config: Record<string, unknown>): string {
  const folder = join(dir, `f${Math.random().toString(36).slice(2)}`);
  mkdirSync(folder);
  const vocab: Record<string, number> = { '<|endoftext|>': 0, '<|im_start|>': 1, '<|im_end|>': 2 };
  for (const ch of 'abcdefghijklmnopqrstuvwxyzĊĠ') vocab[ch] = Object.keys(vocab).length;
  const json = {
    added_tokens: [0, 1, 2].map((id) => ({ id, content: Object.keys(vocab)[id], special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false },
    post_processor: null,
    decoder: { type: 'ByteLevel' },
    model: { type: 'BPE', vocab, merges: [] },
  };
  writeFileSync(join(folder, 'tokenizer.json'), JSON.stringify(json));
  writeFileSync(join(folder, 'tokenizer_config.json'), JSON.stringify(config));
  return folder;
}

test("chatPrompt uses the tokenizer's template (no BOS of its own, markers as special ids, no extra stop), else the plain transcript", () => {
  const tok = loadTokenizer(chatmlFolder({ chat_template: CHATML, eos_token: '<|im_end|>', bos_token: '<|endoftext|>' }));
  const messages = [{ role: 'developer' as const, content: 'be' }, { role: 'user' as const, content: [{ type: 'text' as const, text: 'hi' }] }];
  const { ids, stops } = chatPrompt(tok, messages);
  const letters = (s: string): number[] => [...s].map((ch) => (ch === '\n' ? 29 : ch === ' ' ? 30 : ch.charCodeAt(0) - 97 + 3));
  // "<|im_start|>system\nbe<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
  assert.deepEqual(ids, [1, ...letters('system\nbe'), 2, ...letters('\n'), 1, ...letters('user\nhi'), 2, ...letters('\n'), 1, ...letters('assistant\n')]);
  assert.deepEqual(stops, []);
  assert.equal(tok.eosId, 2, 'the reply ends at <|im_end|>');

  const plain = loadTokenizer(chatmlFolder({ eos_token: '<|im_end|>', bos_token: '<|endoftext|>' }));
  const fallback = chatPrompt(plain, messages);
  assert.deepEqual(fallback.ids, plain.encode(renderChat(messages)));
  assert.deepEqual(fallback.stops, [CHAT_STOP]);
});

test('a broken chat_template in tokenizer_config.json fails at load, naming that file', () => {
  const folder = chatmlFolder({ chat_template: '{% if %}', bos_token: '<|endoftext|>' });
  assert.throws(() => loadTokenizer(folder), (e: unknown) => e instanceof TokenizerFileError && e.file === join(folder, 'tokenizer_config.json') && /chat_template does not parse/.test(e.message));
  const wrongType = chatmlFolder({ chat_template: 42 });
  assert.throws(() => loadTokenizer(wrongType), (e: unknown) => e instanceof TokenizerFileError && /chat_template must be a template string or a list of \{"name", "template"\}, got 42/.test(e.message));
});
