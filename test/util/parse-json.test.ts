import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJson } from '../../src/util/parse-json.js';

const fail = (problem: string) => new Error(problem);
const nested = (open: string, close: string, depth: number) => `${open.repeat(depth)}1${close.repeat(depth)}`;

test('64 levels of nesting parse; 65, 5,000 and 100,000 levels are refused in one short line', () => {
  for (const [open, close] of [['[', ']'], ['{"a":', '}']]) {
    let v = parseJson(nested(open, close, 64), 1 << 30, fail);
    for (let i = 0; i < 64; i++) v = Array.isArray(v) ? v[0] : (v as { a: unknown }).a;
    assert.equal(v, 1);
    for (const depth of [65, 5_000, 100_000]) assert.throws(() => parseJson(nested(open, close, depth), 1 << 30, fail), { message: 'nests deeper than 64 levels' });
  }
  // Wide is not deep.
  assert.equal((parseJson(JSON.stringify(Array.from({ length: 100_000 }, () => [[1]])), 1 << 30, fail) as unknown[]).length, 100_000);
});

test('text over the size limit is refused before parsing; syntax errors are reported short', () => {
  assert.throws(() => parseJson(`"${'x'.repeat(100)}"`, 50, fail), { message: 'is 102 characters long, over the 50-character limit' });
  assert.throws(() => parseJson(`{"a": ${'x'.repeat(1 << 20)}}`, 1 << 30, fail), (e: Error) => /^is not valid JSON: /.test(e.message) && e.message.length < 160);
  assert.deepEqual(parseJson('{"big": 1e400}', 100, fail), { big: Infinity });
});
