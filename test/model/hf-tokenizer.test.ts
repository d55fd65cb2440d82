import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Tokenizer as LibTokenizer } from '@huggingface/tokenizers';
import { TokenizerFileError } from '../../src/errors.js';
import { HfTokenizer } from '../../src/model/hf-tokenizer.js';
import { Llama2cTokenizer } from '../../src/model/llama2c-tokenizer.js';
import { loadTokenizer } from '../../src/model/load-tokenizer.js';
import { StreamingTokenDecoder } from '../../src/model/utf8-stream-decoder.js';
import { packageRoot } from '../../src/util/package-root.js';

const ROOT = packageRoot();
const GPT2 = join(ROOT, '../shared/fixtures/gpt2-tokenizer/tokenizer.json');
const NO_GPT2 = `${GPT2} is absent (it lives in the shared fixtures folder, not in the repo)`;
const TOK32000 = join(ROOT, '../shared/models/tokenizer32000.bin');
const NO_TOK32000 = `${TOK32000} is absent (it lives in the shared data folder, not in the repo)`;
const VAL_TEXT = readFileSync(join(ROOT, 'assets/data/tinystories_val.txt'), 'utf8');

const dir = mkdtempSync(join(tmpdir(), 'tinymorph-hf-tok-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const gpt2 = existsSync(GPT2) ? HfTokenizer.fromFile(GPT2) : undefined;

/** Texts that stress a tokenizer: unicode of every width, emoji (4-byte, ZWJ sequences), whitespace runs, control characters. */
const HARD_TEXTS = [
  '',
  ' ',
  'Hello world',
  "I'm   fine,\n\n\tthanks!  ",
  'naïve café — “quotes” … ½ ∑ 日本語のテキスト 한국어 العربية עברית',
  '😀 👩‍👩‍👧 🇫🇷 family: 👨🏽‍💻',
  '\u0000\u0001\u0007\b\u001b[31mred\u001b[0m\u007f\u0085\u00a0\u00ad\u2028\ufeff',
  'a\r\nb\rc\n\n\n\nd',
  '      many spaces    ',
  "it's we'll they'd I'M don't",
  '12345 3.14159 -0 1e10',
  '\ud800 lone surrogate',
  'toString constructor __proto__ hasOwnProperty valueOf', // pieces that are also Object.prototype's names
];

/** A seeded xorshift32: random code points of every UTF-8 length. */
function randomTexts(count: number, seed: number): string[] {
  let s = seed >>> 0;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  const ranges = [[0x00, 0x7f], [0x20, 0x7e], [0x80, 0x7ff], [0x800, 0xd7ff], [0xe000, 0xffff], [0x10000, 0x10ffff], [0x1f300, 0x1faff]];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let t = '';
    const len = next() % 40;
    for (let j = 0; j < len; j++) {
      const [lo, hi] = ranges[next() % ranges.length];
      t += String.fromCodePoint(lo + (next() % (hi - lo + 1)));
    }
    out.push(t);
  }
  return out;
}

/** What JavaScript strings hold becomes UTF-8; a lone surrogate becomes U+FFFD there (WHATWG Encoding). */
const wellFormed = (t: string): string => new TextDecoder().decode(new TextEncoder().encode(t));

test('GPT-2 tokenizer.json: ids as tiktoken gives them for the gpt2 encoding', { skip: gpt2 ? false : NO_GPT2 }, () => {
  const tok = gpt2!;
  const ids = (t: string): number[] => tok.encode(t, { bos: false });
  // openai/tiktoken tests/test_encoding.py (test_simple, test_simple_repeated), MIT.
  assert.deepEqual(ids('hello world'), [31373, 995]);
  assert.deepEqual(ids('hello <|endoftext|>'), [31373, 220, 50256]);
  // test_encode_surrogate_pairs: "lone surrogate just gets replaced" by U+FFFD.
  assert.deepEqual(ids('\ud83d'), ids('\ufffd'));
  assert.deepEqual(ids('\ud83d\udc4d'), ids('👍'));
  const zeros: [number, number[]][] = [
    [1, [15]], [2, [405]], [3, [830]], [4, [2388]], [5, [20483]], [6, [10535]], [7, [24598]], [8, [8269]],
    [9, [10535, 830]], [10, [8269, 405]], [11, [8269, 830]], [12, [8269, 2388]], [13, [8269, 20483]],
    [14, [8269, 10535]], [15, [8269, 24598]], [16, [25645]], [17, [8269, 10535, 830]],
  ];
  for (const [n, want] of zeros) assert.deepEqual(ids('0'.repeat(n)), want, `${n} zeros`);
  // GPT-2's encoder.json: "Hello" 15496, "Ġworld" 995, "Ġthe" 262, "<|endoftext|>" 50256.
  assert.deepEqual(ids('Hello world'), [15496, 995]);
  assert.deepEqual(ids(' the'), [262]);
  assert.equal(tok.vocabSize, 50257);
  assert.equal(tok.bosId, 50256, 'GPT-2 begins and ends texts with <|endoftext|>');
  assert.equal(tok.eosId, 50256);
  assert.deepEqual(tok.encode('hello world', { bos: true, eos: true }), [50256, 31373, 995, 50256]);
});

test('GPT-2 tokenizer.json: decode(encode(text)) is the text, and matches the library decode', { skip: gpt2 ? false : NO_GPT2 }, () => {
  const tok = gpt2!;
  const lib = new LibTokenizer(JSON.parse(readFileSync(GPT2, 'utf8')), {});
  for (const text of [...HARD_TEXTS, ...randomTexts(300, 22)]) {
    const ids = tok.encode(text, { bos: false });
    assert.equal(tok.decode(ids), wellFormed(text), JSON.stringify(text));
    if (ids.length > 0) assert.equal(tok.decode(ids), lib.decode(ids, { clean_up_tokenization_spaces: false }), JSON.stringify(text)); // the library refuses []
    assert.equal(tok.decode(tok.encode(text)), wellFormed(text), 'BOS adds no text');
  }
  // Every token alone, as the tokenizers crate decodes it (transformers' clean_up_tokenization_spaces off: it is no part of the file).
  for (let id = 0; id < tok.vocabSize; id++) {
    if (tok.decode([id]) !== lib.decode([id], { skip_special_tokens: true, clean_up_tokenization_spaces: false })) assert.fail(`token ${id}: ${JSON.stringify(tok.decode([id]))} vs the library's ${JSON.stringify(lib.decode([id]))}`);
  }
});

test('GPT-2: streaming decode holds back a character split across byte-level tokens', { skip: gpt2 ? false : NO_GPT2 }, () => {
  const tok = gpt2!;
  const text = '😀 日本語 👩‍👩‍👧!';
  const ids = tok.encode(text, { bos: false });
  assert.ok(ids.some((id) => new TextDecoder('utf-8', { fatal: false }).decode(tok.textBytes(-1, id)).includes('\ufffd')), 'some token holds part of a character');
  const dec = new StreamingTokenDecoder(tok);
  const chunks = ids.map((id) => dec.push(id));
  const tail = dec.flush();
  assert.equal(chunks.join('') + tail, text);
  for (const c of chunks) assert.ok(!c.includes('\ufffd'), `chunk ${JSON.stringify(c)} shows a broken character`);
  assert.equal(tok.piece(50256), '<|endoftext|>');
  assert.equal(tok.piece(262), ' the', 'a piece reads as text, not as its byte-level spelling Ġthe');
  assert.equal(tok.textBytes(-1, 50256).length, 0, 'a special token adds no text');
});

/**
 * Llama-2's tokenizer.json written from the llama2.c export of the same sentencepiece model
 * (tokenizer32000.bin): the structure of meta-llama/Llama-2-7b-hf's file (normalizer Prepend "▁" +
 * Replace " "→"▁", BPE with byte_fallback, decoder Replace/ByteFallback/Fuse/Strip) and merges built
 * as transformers' SentencePieceExtractor does: every split of a piece into two pieces, ranked by
 * the merged piece's score (sentencepiece BPE merges the best-scoring pair first).
 */
function llama2TokenizerJson(bin: Uint8Array): unknown {
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  const pieces: string[] = [];
  const scores: number[] = [];
  const utf8 = new TextDecoder('utf-8', { ignoreBOM: true }); // the piece U+FEFF is a piece, not a byte-order mark
  for (let at = 4; at < bin.length; ) {
    scores.push(view.getFloat32(at, true));
    const len = view.getInt32(at + 4, true);
    pieces.push(utf8.decode(bin.subarray(at + 8, at + 8 + len)).replaceAll(' ', '▁'));
    at += 8 + len;
  }
  pieces[0] = '<unk>';
  pieces[1] = '<s>';
  pieces[2] = '</s>';
  const vocab: Record<string, number> = {};
  pieces.forEach((p, id) => {
    if (!Object.hasOwn(vocab, p)) vocab[p] = id; // hasOwn: pieces such as "toString" are not the prototype's
  });
  const merges: [string, string, number, number][] = [];
  for (let id = 3; id < pieces.length; id++) {
    const chars = [...pieces[id]];
    for (let k = 1; k < chars.length; k++) {
      const l = chars.slice(0, k).join('');
      const r = chars.slice(k).join('');
      if (Object.hasOwn(vocab, l) && Object.hasOwn(vocab, r) && vocab[l] > 2 && vocab[r] > 2) merges.push([l, r, scores[id], id]);
    }
  }
  merges.sort((a, b) => b[2] - a[2] || a[3] - b[3]);
  return {
    version: '1.0',
    added_tokens: pieces.slice(0, 3).map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null,
    post_processor: null,
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges: merges.map(([l, r]) => [l, r]) },
  };
}

test('Llama-2 (sentencepiece BPE with byte fallback) as tokenizer.json encodes and decodes as the llama2.c tokenizer does', { skip: existsSync(TOK32000) ? false : NO_TOK32000 }, () => {
  const bin = readFileSync(TOK32000);
  const json = llama2TokenizerJson(bin);
  writeFileSync(join(dir, 'llama2.json'), JSON.stringify(json));
  const hf = HfTokenizer.fromFile(join(dir, 'llama2.json'), 32000);
  const ref = Llama2cTokenizer.fromFile(TOK32000, 32000);
  assert.equal(hf.bosId, 1);
  assert.equal(hf.eosId, 2);
  const lines = VAL_TEXT.split('\n').filter((l) => l.trim() !== '').slice(0, 200);
  for (const text of [...HARD_TEXTS, ...lines, ...randomTexts(200, 7)]) {
    const ids = ref.encode(text);
    assert.deepEqual(hf.encode(text), ids, JSON.stringify(text));
    assert.equal(hf.decode(ids), ref.decode(ids), JSON.stringify(text));
    const dec = new StreamingTokenDecoder(hf, ids[0]);
    assert.equal(ids.slice(1).map((id) => dec.push(id)).join('') + dec.flush(), ref.decode(ids.slice(1), ids[0]));
  }
  // Every token alone: our decoder rule (Replace ▁, ByteFallback, Strip) as the library applies the file's decoder.
  const lib = new LibTokenizer(json as object, {});
  for (let id = 3; id < hf.vocabSize; id++) {
    if (hf.decode([id]) !== lib.decode([id], { clean_up_tokenization_spaces: false })) assert.fail(`token ${id}: ${JSON.stringify(hf.decode([id]))} vs the library's ${JSON.stringify(lib.decode([id]))}`);
  }
});

/** A GPT-2-like byte-level tokenizer.json small enough to edit: "a", "b", "ab", the space "Ġ", and <|endoftext|>. */
function tinyJson(): Record<string, unknown> {
  return {
    added_tokens: [{ id: 4, content: '<|endoftext|>', special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true },
    model: { type: 'BPE', vocab: { a: 0, b: 1, ab: 2, Ġ: 3, '<|endoftext|>': 4 }, merges: ['a b'] },
  };
}

function writeTokenizer(name: string, json: unknown, config?: unknown, generation?: unknown): string {
  const folder = join(dir, name);
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder);
  writeFileSync(join(folder, 'tokenizer.json'), typeof json === 'string' ? json : JSON.stringify(json));
  if (config !== undefined) writeFileSync(join(folder, 'tokenizer_config.json'), JSON.stringify(config));
  if (generation !== undefined) writeFileSync(join(folder, 'generation_config.json'), JSON.stringify(generation));
  return folder;
}

test('loadTokenizer tells tokenizer.json (file or HF folder) from tokenizer.bin', () => {
  const folder = writeTokenizer('tiny', tinyJson());
  const fromFolder = loadTokenizer(folder);
  assert.ok(fromFolder instanceof HfTokenizer);
  assert.deepEqual(fromFolder.encode('ab a'), [4, 2, 3, 0]);
  assert.equal(fromFolder.decode([2, 3, 0]), 'ab a');
  assert.ok(loadTokenizer(join(folder, 'tokenizer.json')) instanceof HfTokenizer);
  assert.ok(loadTokenizer(join(ROOT, 'assets/models/tok512.bin'), 512) instanceof Llama2cTokenizer);
  assert.throws(() => loadTokenizer(dir), (e: unknown) => e instanceof TokenizerFileError && e.file === dir && /is a directory without a tokenizer\.json/.test(e.message));
});

test('the vocabulary is checked against the model: an embedding padded to a multiple of 64 or 128 is accepted, others refused', () => {
  const folder = writeTokenizer('tiny-vocab', tinyJson());
  for (const rows of [5, 64, 128]) assert.equal(loadTokenizer(folder, rows).vocabSize, rows);
  const padded = loadTokenizer(folder, 64);
  assert.equal(padded.decode([63]), '', 'an id past the file decodes to nothing');
  assert.equal(padded.piece(63), '<unused 63>');
  assert.throws(() => loadTokenizer(folder, 4), (e: unknown) => e instanceof TokenizerFileError && /has token id 4, outside the model's vocab_size 4/.test(e.message));
  for (const rows of [6, 256, 512]) {
    assert.throws(() => loadTokenizer(folder, rows), (e: unknown) => e instanceof TokenizerFileError && new RegExp(`has 5 tokens but the model's vocab_size is ${rows} .*not this model's tokenizer`).test(e.message));
  }
});

test('tokenizer_config.json names BOS/EOS; a name that is no token is refused', () => {
  const json = tinyJson();
  (json.model as { vocab: Record<string, number> }).vocab['<s>'] = 5;
  (json.added_tokens as unknown[]).push({ id: 5, content: '<s>', special: true });
  const folder = writeTokenizer('config', json, { bos_token: { content: '<s>', lstrip: false }, eos_token: '<|endoftext|>' });
  const tok = loadTokenizer(folder);
  assert.equal(tok.bosId, 5);
  assert.equal(tok.eosId, 4);
  assert.ok(tok.endsText(5) && tok.endsText(4) && !tok.endsText(2), 'BOS and EOS end a generation');
  // Gemma-2-it's generation_config.json: "eos_token_id": [1, 107] (<eos>, <end_of_turn>).
  const chat = loadTokenizer(writeTokenizer('generation', json, { bos_token: '<s>', eos_token: '<|endoftext|>' }, { eos_token_id: [4, 3] }));
  assert.deepEqual([0, 1, 2, 3, 4, 5].filter((id) => chat.endsText(id)), [3, 4, 5]);
  const far = writeTokenizer('generation-bad', json, undefined, { eos_token_id: [4, 99] });
  assert.throws(() => loadTokenizer(far), (e: unknown) => e instanceof TokenizerFileError && e.file === join(far, 'generation_config.json') && /eos_token_id 99 is outside the vocabulary 0\.\.5/.test(e.message));
  const bad = writeTokenizer('config-bad', tinyJson(), { bos_token: '<nope>' });
  assert.throws(() => loadTokenizer(bad), (e: unknown) => e instanceof TokenizerFileError && e.file === join(bad, 'tokenizer_config.json') && /bos_token "<nope>" is not a token/.test(e.message));
});

test("Gemma's Split on \" \" after its normalizer replaced every space is accepted (it never matches)", () => {
  const gemmaLike = {
    ...tinyJson(),
    normalizer: { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
    pre_tokenizer: { type: 'Split', pattern: { String: ' ' }, behavior: 'MergedWithPrevious', invert: false },
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }] },
    model: { type: 'BPE', vocab: { a: 0, '▁': 1, '▁a': 2, '<|endoftext|>': 4, x: 3 }, merges: [['▁', 'a']] },
  };
  const tok = loadTokenizer(writeTokenizer('gemma-like', gemmaLike));
  assert.deepEqual(tok.encode('a a', { bos: false }), [0, 2]);
  assert.equal(tok.decode([0, 2]), 'a a', 'no Strip step: no space is dropped');
});

test('malformed tokenizer.json files give one-line TokenizerFileErrors naming the file and the field', () => {
  const cases: [string, unknown, RegExp][] = [
    ['not-json', '{"model": ', /is not valid JSON/],
    ['no-model', { added_tokens: [] }, /model must be an object/],
    ['wordpiece', { ...tinyJson(), model: { type: 'WordPiece', vocab: { a: 0 } } }, /model\.type must be "BPE"/],
    ['bad-id', { ...tinyJson(), model: { type: 'BPE', vocab: { a: -1 }, merges: [] } }, /model\.vocab\.a must be a non-negative integer, got -1/],
    ['huge-id', { ...tinyJson(), model: { type: 'BPE', vocab: { a: 1e9 }, merges: [] } }, /model\.vocab\.a must be an id below 2097152/],
    ['bad-merge', { ...tinyJson(), model: { type: 'BPE', vocab: { a: 0 }, merges: ['a b', ['a']] } }, /model\.merges\[1\] must be a merge \("a b" or \[a, b\]\), got \["a"\]/],
    ['bad-added', { ...tinyJson(), added_tokens: [{ id: 1, content: '' }] }, /added_tokens\[0\]\.content must be a non-empty string/],
    ['bad-decoder', { ...tinyJson(), decoder: { type: 'WordPiece', prefix: '##' } }, /decoder type "WordPiece" is not supported/],
    ['bad-strip', { ...tinyJson(), decoder: { type: 'Sequence', decoders: [{ type: 'Strip', content: 'x', start: 2, stop: 0 }] } }, /decoder\.decoders\[0\] is a Strip other than/],
    ['merged-split', { ...tinyJson(), pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: '\\d' }, behavior: 'MergedWithPrevious', invert: false }] } }, /pre_tokenizer has a Split with behavior "MergedWithPrevious", which @huggingface\/tokenizers does not reproduce/],
    ['empty', { ...tinyJson(), added_tokens: [], model: { type: 'BPE', vocab: {}, merges: [] } }, /model\.vocab is empty/],
    ['no-bos', { ...tinyJson(), added_tokens: [], model: { type: 'BPE', vocab: { a: 0 }, merges: [] } }, /has no bos_token/],
  ];
  for (const [name, json, pattern] of cases) {
    const folder = writeTokenizer(name, json);
    assert.throws(
      () => loadTokenizer(folder),
      (e: unknown) => {
        assert.ok(e instanceof TokenizerFileError, `${name}: not a TokenizerFileError: ${String(e)}`);
        assert.equal(e.file, join(folder, 'tokenizer.json'), name);
        assert.match(e.message, pattern, name);
        assert.ok(!e.message.includes('\n'), `${name}: one line`);
        return true;
      },
    );
  }
});
