import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TokenizerFileError } from '../../src/errors.js';
import { Llama2cTokenizer } from '../../src/model/llama2c-tokenizer.js';
import { packageRoot } from '../../src/util/package-root.js';

/** The repo root: the nearest directory above this file with a package.json (works from test/ and dist/test/). */
const ROOT = packageRoot();
const TOK512 = join(ROOT, 'assets/models/tok512.bin');
const TOK32000 = join(ROOT, '../shared/models/tokenizer32000.bin');
const NO_TOK32000 = `${TOK32000} is absent (it lives in the shared data folder, not in the repo)`;
const VAL_TEXT = readFileSync(join(ROOT, 'assets/data/tinystories_val.txt'), 'utf8');

const tok512 = Llama2cTokenizer.fromFile(TOK512, 512);
const tok32000 = existsSync(TOK32000) ? Llama2cTokenizer.fromFile(TOK32000, 32000) : undefined;

// ---------------------------------------------------------------------------------------------
// A naive port of run.c encode() (O(n²) rescans), reading the file on its own, as a reference.

interface NaiveVocab {
  ids: Map<string, number>; // latin1 byte key → id
  keys: string[];
  scores: number[];
}

function naiveVocab(bytes: Uint8Array): NaiveVocab {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const v: NaiveVocab = { ids: new Map(), keys: [], scores: [] };
  for (let at = 4; at < bytes.length; ) {
    const len = view.getInt32(at + 4, true);
    const key = Buffer.from(bytes.subarray(at + 8, at + 8 + len)).toString('latin1');
    if (!v.ids.has(key)) v.ids.set(key, v.keys.length);
    v.keys.push(key);
    v.scores.push(view.getFloat32(at, true));
    at += 8 + len;
  }
  return v;
}

function naiveEncode(v: NaiveVocab, text: string): number[] {
  const tokens = [1];
  if (text !== '') tokens.push(v.ids.get(' ')!);
  for (const ch of text) {
    const utf8 = Buffer.from(ch, 'utf8');
    const id = v.ids.get(utf8.toString('latin1'));
    if (id !== undefined) tokens.push(id);
    else for (const b of utf8) tokens.push(b + 3);
  }
  for (;;) {
    let bestScore = Math.fround(-1e10);
    let bestId = -1;
    let bestIdx = -1;
    for (let i = 0; i < tokens.length - 1; i++) {
      const id = v.ids.get(v.keys[tokens[i]] + v.keys[tokens[i + 1]]);
      if (id !== undefined && v.scores[id] > bestScore) {
        bestScore = v.scores[id];
        bestId = id;
        bestIdx = i;
      }
    }
    if (bestIdx === -1) return tokens;
    tokens.splice(bestIdx, 2, bestId);
  }
}

/** mulberry32: a small seeded PRNG so the random cases are the same on every run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PARTS = [
  'the', 'cat', 'Once', 'upon', 'a', 'time', 'Lily', 'Ben', 'played', 'happy', 'xyzzy', 'Zoo', 'qu', 'tt',
  ' ', '  ', '   ', '\n', '\n\n', '\t', ' \n ', '.', ',', '!', '?', '"', "'", '...', '-', '(', ')', '<0x41>', '<s>',
  'é', 'Ça', 'naïve', '日本', '語', '你好', '🙂', '👩‍👩‍👧', '🚀🚀', 'ß', 'Ω', '\u00a0', '\ufeff', '\u0000',
];

function randomText(next: () => number): string {
  if (next() < 0.3) {
    const start = Math.floor(next() * (VAL_TEXT.length - 400));
    return VAL_TEXT.slice(start, start + Math.floor(next() * 400));
  }
  let s = '';
  const n = Math.floor(next() * 40);
  for (let i = 0; i < n; i++) s += PARTS[Math.floor(next() * PARTS.length)] + (next() < 0.4 ? ' ' : '');
  return s;
}

// ---------------------------------------------------------------------------------------------

test('tok512 reference encodings (run.c algorithm)', () => {
  assert.equal(tok512.vocabSize, 512);
  assert.deepEqual(tok512.encode('Once upon a time'), [1, 403, 407, 261, 378]);
  assert.deepEqual(tok512.encode('Zoo'), [1, 410, 469, 347]);
  assert.deepEqual(tok512.encode('Lily and Ben are friends.'), [1, 317, 269, 368, 302, 261, 276, 374, 419, 426]);
  assert.deepEqual(
    tok512.encode('Once upon a time, there was a little girl named Lily. She loved to play outside in the park.'),
    [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426],
  );
});

test('encode options: empty text, no BOS, EOS', () => {
  assert.deepEqual(tok512.encode(''), [1]);
  assert.deepEqual(tok512.encode('', { bos: false }), []);
  assert.deepEqual(tok512.encode('Zoo', { bos: false, eos: true }), [410, 469, 347, 2]);
  assert.deepEqual(tok512.encode('', { eos: true }), [1, 2]);
});

test('vocabulary size is read to the end of the file when not given', () => {
  assert.equal(Llama2cTokenizer.fromFile(TOK512).vocabSize, 512);
});

test('tokenizer32000 reference encodings (Llama 2 vocabulary)', (t) => {
  if (!tok32000) {
    t.skip(NO_TOK32000);
    return;
  }
  assert.equal(tok32000.vocabSize, 32000);
  assert.deepEqual(tok32000.encode('Once upon a time'), [1, 9038, 2501, 263, 931]);
  assert.deepEqual(tok32000.encode('The universe'), [1, 450, 19859]);
  assert.deepEqual(
    tok32000.encode('Hello, world! Ça va? 日本'),
    [1, 15043, 29892, 3186, 29991, 29871, 30219, 29874, 2947, 29973, 29871, 30325, 30346],
  );
});

test('piece, pieceBytes, tokenId', () => {
  assert.equal(tok512.piece(403), ' Once');
  assert.equal(tok512.piece(1), '\n<s>\n');
  assert.equal(tok512.tokenId(' Once'), 403);
  assert.equal(tok512.tokenId('not a piece'), undefined);
  const text = (b: Uint8Array): string => new TextDecoder().decode(b);
  assert.equal(text(tok512.pieceBytes(1, 403)), 'Once', 'after BOS the leading space goes');
  assert.equal(text(tok512.pieceBytes(403, 407)), ' upon');
  assert.deepEqual([...tok512.pieceBytes(5, 0x41 + 3)], [0x41], '<0x41> is the byte 0x41');
  assert.deepEqual([...tok512.pieceBytes(1, 0xe6 + 3)], [0xe6]);
  assert.equal(text(tok512.pieceBytes(0, 1)), '\n<s>\n', 'pieceBytes is run.c decode(): BOS prints its piece');
  assert.throws(() => tok512.piece(512), /token id 512 is outside 0\.\.511/);
  assert.throws(() => tok512.pieceBytes(1, -1), /token id -1/);
});

test('decode skips <unk>, BOS, EOS and strips the space after BOS', () => {
  assert.equal(tok512.decode([1, 403, 407, 261, 378, 2]), 'Once upon a time');
  assert.equal(tok512.decode([403, 407]), ' Once upon', 'no BOS before: the space stays');
  assert.equal(tok512.decode([407], 1), 'upon', 'prevId stands before ids[0]');
  assert.equal(tok512.decode([0, 1, 2]), '');
  assert.equal(tok512.decode([]), '');
});

test('decode(encode(s)) == s, with byte fallback', (t) => {
  const texts = [
    'Once upon a time, there was a little girl named Lily.',
    'Café au lait, naïve, Ça va? 日本語 🙂🚀 👩‍👩‍👧',
    ' leading space and\ttabs\n\nnewlines  ',
    '\ufeffa byte-order mark and a NUL \u0000 stay',
    ...VAL_TEXT.split('\n\n').slice(0, 50),
  ];
  for (const tok of tok32000 ? [tok512, tok32000] : [tok512]) {
    for (const s of texts) assert.equal(tok.decode(tok.encode(s)), s, JSON.stringify(s));
  }
  assert.deepEqual(tok512.encode('日').slice(2), [0xe6 + 3, 0x97 + 3, 0xa5 + 3], '日 is not in tok512: byte fallback id = byte + 3');
  if (!tok32000) t.diagnostic(NO_TOK32000);
});

test('a long text encodes in one call and round-trips', () => {
  const text = VAL_TEXT.slice(0, 200_000);
  const ids = tok512.encode(text);
  assert.ok(ids.length > 50_000 && ids.length < 150_000, `${ids.length} tokens`);
  assert.equal(tok512.decode(ids), text);
});

test('heap encoder == naive run.c encoder on 400 random strings', (t) => {
  const cases: [Llama2cTokenizer, NaiveVocab][] = [[tok512, naiveVocab(readFileSync(TOK512))]];
  if (tok32000) cases.push([tok32000, naiveVocab(readFileSync(TOK32000))]);
  else t.diagnostic(`only tok512: ${NO_TOK32000}`);
  const next = rng(12345);
  for (let i = 0; i < 400; i++) {
    const s = randomText(next);
    for (const [tok, naive] of cases) assert.deepEqual(tok.encode(s), naiveEncode(naive, s), JSON.stringify(s));
  }
});

test('ties go to the leftmost pair, and pairs scored at or below -1e10 never merge', () => {
  // Vocabulary: <unk> <s> </s> " " a b ab(score 1) ba(score 1) aa(score -1e10)
  const v = vocabFile(7, [
    [0, '<unk>'], [0, '\n<s>\n'], [0, '\n</s>\n'], [0, ' '], [0, 'a'], [0, 'b'], [1, 'ab'], [1, 'ba'], [-1e10, 'aa'],
  ]);
  const tok = Llama2cTokenizer.fromBytes(v, 'tie.bin');
  // "aba": " " a b a → ab (leftmost of the tied ab/ba) then nothing (" ab"+"a" no piece)
  assert.deepEqual(tok.encode('aba'), [1, 3, 6, 4]);
  assert.deepEqual(tok.encode('bab'), [1, 3, 7, 5]);
  assert.deepEqual(tok.encode('aa'), [1, 3, 4, 4], 'score -1e10 does not beat run.c best_score = -1e10');
  assert.deepEqual(tok.encode('aba'), naiveEncode(naiveVocab(v), 'aba'));
});

test('pieces that are not UTF-8 keep their raw bytes', () => {
  const tok = Llama2cTokenizer.fromBytes(vocabFile(7, [[0, '<unk>'], [0, '<s>'], [0, '</s>'], [0, new Uint8Array([0xff, 0x41])], [0, ' ']]), 'raw.bin');
  assert.deepEqual([...tok.pieceBytes(0, 3)], [0xff, 0x41]);
  assert.equal(tok.piece(3), '\ufffdA');
  assert.throws(() => tok.encode('é'), (e: unknown) => e instanceof TokenizerFileError && /raw\.bin: has no byte-fallback piece <0xC3> \(id 198\)/.test(e.message));
});

// ---------------------------------------------------------------------------------------------
// Malformed files.

type Entry = [score: number, piece: string | Uint8Array];

/** A tokenizer.bin: int32 max_token_length, then {float32 score, int32 len, bytes} per entry. */
function vocabFile(maxTokenLength: number, entries: Entry[], lenOverride?: { index: number; len: number }): Uint8Array {
  const chunks: Uint8Array[] = [int32(maxTokenLength)];
  entries.forEach(([score, piece], i) => {
    const bytes = typeof piece === 'string' ? new TextEncoder().encode(piece) : piece;
    const head = new DataView(new ArrayBuffer(8));
    head.setFloat32(0, score, true);
    head.setInt32(4, lenOverride?.index === i ? lenOverride.len : bytes.length, true);
    chunks.push(new Uint8Array(head.buffer), bytes);
  });
  return Buffer.concat(chunks);
}

function int32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

const SPECIALS: Entry[] = [[0, '<unk>'], [0, '<s>'], [0, '</s>']];

function rejects(bytes: Uint8Array, problem: RegExp, vocabSize?: number): void {
  assert.throws(
    () => Llama2cTokenizer.fromBytes(bytes, 'bad.bin', vocabSize),
    (e: unknown) => {
      assert.ok(e instanceof TokenizerFileError, `not a TokenizerFileError: ${String(e)}`);
      assert.equal(e.file, 'bad.bin');
      assert.match(e.message, /^bad\.bin: /);
      assert.match(e.message, problem);
      return true;
    },
  );
}

test('malformed files give a TokenizerFileError naming the file and the problem', () => {
  const good = vocabFile(7, [...SPECIALS, [-1, 'ab']]);
  assert.equal(Llama2cTokenizer.fromBytes(good, 'good.bin').vocabSize, 4);
  rejects(new Uint8Array(3), /3 bytes is shorter than the 4-byte max_token_length header/);
  rejects(vocabFile(0, SPECIALS), /max_token_length 0 is outside 1\.\.65536/);
  rejects(vocabFile(-5, SPECIALS), /max_token_length -5/);
  rejects(vocabFile(70000, SPECIALS), /max_token_length 70000 is outside/);
  rejects(good.subarray(0, good.length - 7), /entry 3 is truncated at byte \d+: its 8-byte score\+length header has 3 bytes \(5 missing\)/);
  rejects(good.subarray(0, good.length - 1), /entry 3 is truncated at byte \d+: length 2 but 1 bytes remain \(1 missing\)/);
  rejects(vocabFile(7, [...SPECIALS, [0, 'ab']], { index: 1, len: -1 }), /entry 1 has length -1, outside 0\.\.max_token_length 7/);
  rejects(vocabFile(7, [...SPECIALS, [0, 'abcdefgh']]), /entry 3 has length 8, outside 0\.\.max_token_length 7/);
  rejects(vocabFile(7, [...SPECIALS, [0, 'ab']], { index: 3, len: 6 }), /entry 3 is truncated .*length 6 but 2 bytes remain \(4 missing\)/);
  rejects(vocabFile(7, [...SPECIALS, [NaN, 'ab']]), /entry 3 has a non-finite score NaN/);
  rejects(vocabFile(7, [[Infinity, '<unk>'], ...SPECIALS]), /entry 0 has a non-finite score Infinity/);
  rejects(good, /holds 4 entries, fewer than the model's vocab_size 5/, 5);
  rejects(good, /vocab_size 2 is too small/, 2);
  rejects(vocabFile(7, SPECIALS.slice(0, 2)), /holds 2 entries; at least 3/);
  assert.equal(Llama2cTokenizer.fromBytes(good, 'good.bin', 3).vocabSize, 3, 'entries past vocab_size are ignored, as in run.c');
});

test('fromFile names a file it cannot read', () => {
  assert.throws(
    () => Llama2cTokenizer.fromFile('/nonexistent/tok.bin'),
    (e: unknown) => e instanceof TokenizerFileError && e.file === '/nonexistent/tok.bin' && /no such file/.test(e.message),
  );
});
