import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeList, describeValue } from '../../src/util/describe-value.js';
import { Prng } from '../../src/model/sampling/prng.js';

test('finite JSON values read as JSON.stringify writes them, cut to 80 characters with …', () => {
  // Random ASCII JSON values (JSON.stringify is the reference): short ones equal it, long ones are its prefix.
  const rng = new Prng(7);
  const word = () => 'abc"\\ xyz'.slice(0, 1 + Math.floor(rng.nextFloat() * 9));
  const value = (depth: number): unknown => {
    const r = rng.nextFloat();
    if (depth > 3 || r < 0.3) return [1.5, -2, 0, true, false, null, word()][Math.floor(rng.nextFloat() * 7)];
    if (r < 0.65) return Array.from({ length: Math.floor(rng.nextFloat() * 5) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(rng.nextFloat() * 4) }, (_, i) => [`${word()}${i}`, value(depth + 1)]));
  };
  for (let i = 0; i < 500; i++) {
    const v = value(0);
    const json = JSON.stringify(v);
    assert.equal(describeValue(v), json.length <= 80 ? json : `${json.slice(0, 79)}…`, json);
  }
});

test('Infinity, NaN, -0 and undefined show as themselves (JSON.stringify says null or nothing)', () => {
  assert.equal(describeValue(Infinity), 'Infinity');
  assert.equal(describeValue([-Infinity, NaN, -0, 0]), '[-Infinity,NaN,-0,0]');
  assert.equal(describeValue({ a: undefined }), '{"a":undefined}');
  assert.equal(describeValue(undefined), 'undefined');
  assert.equal(describeValue(10n), '10n');
});

test('a megabyte string, a million-element array and 100,000 levels of nesting come out short and fast', () => {
  const mb = 'x'.repeat(1 << 20);
  assert.equal(describeValue(mb), `"${'x'.repeat(78)}…`);
  assert.equal(describeValue({ [mb]: 1 }).length, 80);
  assert.equal(describeValue(new Array(1_000_000).fill(7)), `[${'7,'.repeat(39)}…`);
  for (const [open, close] of [['[', ']'], ['{"a":', '}']]) {
    const deep = JSON.parse(`${open.repeat(100_000)}1${close.repeat(100_000)}`) as unknown;
    const text = describeValue(deep);
    assert.equal(text.length, 80);
    assert.ok(text.startsWith(open.repeat(10)) && text.endsWith('…'), text);
  }
  assert.equal(describeValue('ab', 2), '"…');
});

test('a cut never splits a surrogate pair', () => {
  const text = describeValue(`${'a'.repeat(77)}😀`);
  assert.equal(text, `"${'a'.repeat(77)}…`);
});

test('describeList quotes the first names and says how many there are in all', () => {
  assert.equal(describeList(['W_enc', 'b_dec']), '"W_enc", "b_dec"');
  assert.equal(describeList(Array.from({ length: 20 }, (_, i) => `t${i}`), 3), '"t0", "t1", "t2", … (20 in all)');
});
