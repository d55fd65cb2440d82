import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TokenizerFileError } from '../../src/errors.js';
import { GgufFile } from '../../src/model/gguf/gguf-reader.js';
import { serializeGguf } from '../../src/model/gguf/gguf-writer.js';
import type { GgufValue } from '../../src/model/gguf/gguf-types.js';
import { llama2cVocabBytes, tokenizerFromGguf } from '../../src/model/gguf-vocab-tokenizer.js';
import { HfTokenizer } from '../../src/model/hf-tokenizer.js';
import { Llama2cTokenizer } from '../../src/model/llama2c-tokenizer.js';
import { packageRoot } from '../../src/util/package-root.js';

const ROOT = packageRoot();
const GGUF = join(ROOT, '../shared/fixtures/llama-2-tiny-random-gguf/llama-2-tiny-random.gguf');
const TOK32000 = join(ROOT, '../shared/models/tokenizer32000.bin');
const MISSING = [GGUF, TOK32000].filter((p) => !existsSync(p));
const SKIP = MISSING.length > 0 ? `${MISSING.join(', ')} absent (shared data, not in the repo)` : false;

test("the Llama-2 GGUF's embedded vocabulary is llama2.c's tokenizer32000.bin byte for byte, and tokenizes like it", { skip: SKIP }, () => {
  const gguf = GgufFile.open(GGUF);
  const tokens = gguf.metadata.get('tokenizer.ggml.tokens') as Extract<GgufValue, { type: 'array' }>;
  const scores = gguf.metadata.get('tokenizer.ggml.scores') as Extract<GgufValue, { type: 'array' }>;
  // tokenizer32000.bin was written by llama2.c's tokenizer.py from Meta's tokenizer.model: the same sentencepiece model.
  const bytes = llama2cVocabBytes(
    tokens.items.map((t) => (t as { value: string }).value),
    scores.items.map((s) => (s as { value: number }).value),
  );
  assert.ok(Buffer.from(bytes).equals(readFileSync(TOK32000)), 'same bytes as tokenizer32000.bin');
  const tok = tokenizerFromGguf(gguf);
  const ref = Llama2cTokenizer.fromFile(TOK32000, 32000);
  assert.equal(tok.vocabSize, 32000);
  const text = readFileSync(join(ROOT, 'assets/data/tinystories_val.txt'), 'utf8').slice(0, 20_000) + ' naïve 日本語 😀 \t\n';
  assert.deepEqual(tok.encode(text), ref.encode(text));
});

function ggufWith(entries: [string, GgufValue][]): GgufFile {
  const parts = serializeGguf(entries, []);
  const bytes = Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
  return GgufFile.parse(bytes, 'm.gguf');
}

const strings = (xs: string[]): GgufValue => ({ type: 'array', itemType: 'string', items: xs.map((value) => ({ type: 'string', value })) });
const floats = (xs: number[]): GgufValue => ({ type: 'array', itemType: 'float32', items: xs.map((value) => ({ type: 'float32', value })) });

test('a GGUF vocabulary tinymorph cannot read is one TokenizerFileError naming the file and the key', () => {
  const cases: [[string, GgufValue][], RegExp][] = [
    [[], /m\.gguf: holds no tokenizer \(no tokenizer\.ggml\.model\)/],
    [[['tokenizer.ggml.model', { type: 'string', value: 'bert' }]], /tokenizer\.ggml\.model is "bert"; tinymorph reads the "llama" and "gpt2" vocabularies/],
    [[['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }], ['tokenizer.ggml.pre', { type: 'string', value: 'qwen2' }]], /tokenizer\.ggml\.pre "qwen2" is not a pre-tokenizer tinymorph knows/],
    [[['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }], ['tokenizer.ggml.tokens', strings(['a'])]], /no tokenizer\.ggml\.merges/],
    [[['tokenizer.ggml.model', { type: 'string', value: 'llama' }]], /no tokenizer\.ggml\.tokens/],
    [[['tokenizer.ggml.model', { type: 'string', value: 'llama' }], ['tokenizer.ggml.tokens', strings(['<unk>', '<s>', '</s>'])], ['tokenizer.ggml.scores', floats([0, 0])]], /scores has 2 entries but tokenizer\.ggml\.tokens has 3/],
    [[['tokenizer.ggml.model', { type: 'string', value: 'llama' }], ['tokenizer.ggml.tokens', floats([0])]], /tokenizer\.ggml\.tokens must be an array of string, got an array of float32/],
    [
      [['tokenizer.ggml.model', { type: 'string', value: 'llama' }], ['tokenizer.ggml.tokens', strings(['<unk>', '<s>', '</s>'])], ['tokenizer.ggml.scores', floats([0, 0, 0])], ['tokenizer.ggml.bos_token_id', { type: 'uint32', value: 5 }]],
      /bos_token_id is 5; the llama vocabulary reader needs 1/,
    ],
  ];
  for (const [entries, pattern] of cases) {
    assert.throws(() => tokenizerFromGguf(ggufWith(entries)), (e: unknown) => e instanceof TokenizerFileError && pattern.test(e.message), String(pattern));
  }
  const ok = tokenizerFromGguf(ggufWith([['tokenizer.ggml.model', { type: 'string', value: 'llama' }], ['tokenizer.ggml.tokens', strings(['<unk>', '<s>', '</s>', '▁a'])], ['tokenizer.ggml.scores', floats([0, 0, 0, -1])]]));
  assert.equal(ok.piece(3), ' a');
});

const GPT2 = join(ROOT, '../shared/fixtures/gpt2-tokenizer/tokenizer.json');

test('a "gpt2" GGUF vocabulary (as llama.cpp writes GPT-2\'s) tokenizes as its tokenizer.json and as tiktoken', { skip: existsSync(GPT2) ? false : `${GPT2} is absent` }, () => {
  const json = JSON.parse(readFileSync(GPT2, 'utf8')) as { model: { vocab: Record<string, number>; merges: string[] } };
  const tokens: string[] = [];
  for (const [piece, id] of Object.entries(json.model.vocab)) tokens[id] = piece;
  const gguf = ggufWith([
    ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: 'string', value: 'gpt-2' }],
    ['tokenizer.ggml.tokens', strings(tokens)],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'int32', items: tokens.map((_, id) => ({ type: 'int32', value: id === 50256 ? 3 : 1 })) }],
    ['tokenizer.ggml.merges', strings(json.model.merges)],
    ['tokenizer.ggml.bos_token_id', { type: 'uint32', value: 50256 }],
    ['tokenizer.ggml.eos_token_id', { type: 'uint32', value: 50256 }],
  ]);
  const tok = tokenizerFromGguf(gguf);
  const ref = HfTokenizer.fromFile(GPT2);
  assert.equal(tok.vocabSize, 50257);
  assert.equal(tok.bosId, 50256);
  // openai/tiktoken tests/test_encoding.py (gpt2).
  assert.deepEqual(tok.encode('hello world', { bos: false }), [31373, 995]);
  assert.deepEqual(tok.encode('hello <|endoftext|>', { bos: false }), [31373, 220, 50256]);
  const text = readFileSync(join(ROOT, 'assets/data/tinystories_val.txt'), 'utf8').slice(0, 5000) + " naïve 日本語 😀 \t\n  it's";
  assert.deepEqual(tok.encode(text), ref.encode(text));
  assert.equal(tok.decode(tok.encode(text)), text);

  // Llama-3's pre-tokenizer over the same vocabulary: digits go in groups of at most three
  // (\p{N}{1,3}) and the space on its own, where GPT-2's regex keeps " 12345" whole.
  const llama3 = tokenizerFromGguf(ggufWith([...gguf.metadata].filter(([k]) => k !== 'tokenizer.ggml.pre').concat([['tokenizer.ggml.pre', { type: 'string', value: 'llama-bpe' }]])));
  const gpt2Ids = (t: string): number[] => ref.encode(t, { bos: false });
  assert.deepEqual(llama3.encode(' 12345', { bos: false }), [...gpt2Ids(' '), ...gpt2Ids('123'), ...gpt2Ids('45')]);
  assert.notDeepEqual(gpt2Ids(' 12345'), llama3.encode(' 12345', { bos: false }));
});
