import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Llama2cTokenizer } from '../../../src/model/llama2c-tokenizer.js';
import { tokenOffsets } from '../../../src/sae/feature-index/token-offsets.js';
import { assetPath } from '../../../src/util/package-root.js';

const tokenizer = Llama2cTokenizer.fromFile(assetPath('models', 'tok512.bin'), 512);

/**
 * Checked against decoding: where the tokens up to t decode to a prefix of the text, token t ends
 * exactly there; a token that is part of a character's bytes spans that whole character.
 */
function check(text: string): void {
  const ids = tokenizer.encode(text, { bos: false });
  const spans = tokenOffsets(tokenizer, text, ids);
  assert.equal(spans.length, ids.length);
  assert.equal(spans[0].start, 0);
  assert.equal(spans.at(-1)?.end, text.length);
  let decodedWhole = 0;
  spans.forEach((s, t) => {
    assert.ok(s.start <= s.end && (t === 0 || s.start >= spans[t - 1].start), `span ${t} ${JSON.stringify(s)}`);
    const prefix = tokenizer.decode(ids.slice(0, t + 1), tokenizer.bosId);
    if (!prefix.includes('\uFFFD') && text.startsWith(prefix)) {
      assert.equal(s.end, prefix.length, `token ${t} ends where the decoded prefix does`);
      decodedWhole++;
    }
    const alone = tokenizer.decode([ids[t]], t === 0 ? tokenizer.bosId : ids[t - 1]);
    if (!alone.includes('\uFFFD')) assert.equal(text.slice(s.start, s.end), alone, `token ${t}`);
    else {
      const piece = text.slice(s.start, s.end);
      assert.equal([...piece].length, 1, `token ${t} (a byte of a character) spans one character: ${JSON.stringify(piece)}`);
      assert.ok(new TextEncoder().encode(piece).length > 1);
    }
  });
  assert.ok(decodedWhole > 0);
}

test('token offsets of ASCII text are exactly the decoded tokens, end to end', () => {
  const text = 'Lily saw a big dog in the park. She said, "Hello, dog!"\n\nThe dog wagged its tail.';
  const ids = tokenizer.encode(text, { bos: false });
  const spans = tokenOffsets(tokenizer, text, ids);
  assert.equal(spans.map((s) => text.slice(s.start, s.end)).join(''), text);
  check(text);
});

test('multi-byte characters split into byte tokens map to the whole character (UTF-16 offsets, astral ones too)', () => {
  check('Café — “naïve” 😀 résumé, 日本.');
  check('😀😀 x');
  check(' leading space and trailing ');
  const text = 'a—b';
  const spans = tokenOffsets(tokenizer, text, tokenizer.encode(text, { bos: false }));
  assert.ok(spans.some((s) => text.slice(s.start, s.end) === '—'));
});
