import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TokenizerFileError } from '../../src/errors.js';
import { GgufFile } from '../../src/model/gguf/gguf-reader.js';
import { serializeGguf } from '../../src/model/gguf/gguf-writer.js';
import type { GgufValue } from '../../src/model/gguf/gguf-types.js';
import { llama2cVocabBytes, tokenizerFromGguf } from '../../src/model/gguf-vocab-tokenizer.js';
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
    [[['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }]], /tokenizer\.ggml\.model is "gpt2"/],
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
