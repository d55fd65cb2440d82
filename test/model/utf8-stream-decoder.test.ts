import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Llama2cTokenizer } from '../../src/model/llama2c-tokenizer.js';
import type { Tokenizer } from '../../src/model/tokenizer.js';
import { StreamingTokenDecoder } from '../../src/model/utf8-stream-decoder.js';
import { packageRoot } from '../../src/util/package-root.js';

/** The repo root: the nearest directory above this file with a package.json (works from test/ and dist/test/). */
const ROOT = packageRoot();
const tok512 = Llama2cTokenizer.fromFile(join(ROOT, 'assets/models/tok512.bin'), 512);
const VAL_STORIES = readFileSync(join(ROOT, 'assets/data/tinystories_val.txt'), 'utf8').split('\n\n').slice(0, 100);

/** Feeds ids one at a time; returns every push() result and the flush() result. */
function stream(tok: Tokenizer, ids: readonly number[], prevId?: number): { chunks: string[]; tail: string } {
  const d = new StreamingTokenDecoder(tok, prevId);
  const chunks = ids.map((id) => d.push(id));
  return { chunks, tail: d.flush() };
}

test('one token at a time: no U+FFFD for valid text, and the same text as decode()', () => {
  const texts = ['Café au lait, naïve, Ça va?', '日本語の文章 🙂🚀 👩‍👩‍👧 end', '\ufeffBOM first', 'x\u0000y', ...VAL_STORIES];
  for (const s of texts) {
    const ids = tok512.encode(s, { eos: true });
    const { chunks, tail } = stream(tok512, ids);
    for (const c of chunks) assert.ok(!c.includes('\ufffd'), `U+FFFD in ${JSON.stringify(c)} for ${JSON.stringify(s)}`);
    assert.equal(tail, '');
    assert.equal(chunks.join(''), tok512.decode(ids));
    assert.equal(chunks.join(''), s);
  }
});

test('a character split over byte-fallback tokens comes out with its last byte', () => {
  const ids = tok512.encode('🙂!', { bos: false }); // " " <0xF0> <0x9F> <0x99> <0x82> "!"
  assert.deepEqual(ids.slice(1, 5), [0xf0 + 3, 0x9f + 3, 0x99 + 3, 0x82 + 3]);
  assert.deepEqual(stream(tok512, ids).chunks, [' ', '', '', '', '🙂', '!']);
});

test('prevId: BOS before the first pushed token drops its leading space', () => {
  const ids = tok512.encode('Once upon a time', { bos: false });
  assert.equal(stream(tok512, ids, tok512.bosId).chunks.join(''), 'Once upon a time');
  assert.equal(stream(tok512, ids).chunks.join(''), ' Once upon a time');
});

test('invalid byte sequences match decode(), and flush() ends a cut character', () => {
  const cases = [
    [0xf0 + 3, 0x9f + 3], // a 4-byte character cut after 2 bytes
    [0x41 + 3, 0xff + 3, 0x42 + 3], // a byte that is never UTF-8
    [0xe6 + 3, 0x41 + 3, 0x97 + 3], // a lead byte followed by ASCII
    [0xe6 + 3, 0x97 + 3, 1, 0xa5 + 3], // BOS inside a character adds no bytes
  ];
  for (const ids of cases) {
    const { chunks, tail } = stream(tok512, ids);
    assert.equal(chunks.join('') + tail, tok512.decode(ids), JSON.stringify(ids));
  }
  assert.equal(stream(tok512, cases[0]).tail, '\ufffd');
  assert.equal(stream(tok512, cases[3]).chunks.join(''), '日');
});

test('the decoder can go on after flush()', () => {
  const d = new StreamingTokenDecoder(tok512);
  assert.equal(d.push(0xe6 + 3), '');
  assert.equal(d.flush(), '\ufffd');
  assert.equal(d.push(0x41 + 3), 'A');
  assert.equal(d.flush(), '');
});

test('an id outside the vocabulary throws', () => {
  assert.throws(() => new StreamingTokenDecoder(tok512).push(512), /token id 512 is outside 0\.\.511/);
});
