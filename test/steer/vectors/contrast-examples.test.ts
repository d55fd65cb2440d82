import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SteeringError, UsageError } from '../../../src/errors.js';
import { readContrastFiles, readContrastPairs } from '../../../src/steer/vectors/contrast-examples.js';

const dir = mkdtempSync(join(tmpdir(), 'tinymorph-contrast-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

test('.txt files: one example per line, blank lines skipped, paired when the counts match', () => {
  const pos = file('pos.txt', 'She smiled.\r\n\n  He laughed.  \n');
  const neg = file('neg.txt', 'She cried.\nHe sighed.\n');
  const set = readContrastFiles(pos, neg);
  assert.deepEqual(set.positive, [{ text: 'She smiled.', where: `${pos}:1` }, { text: 'He laughed.', where: `${pos}:3` }]);
  assert.equal(set.paired, true);
  assert.equal(readContrastFiles(pos, file('neg3.txt', 'a\nb\nc\n')).paired, false);
});

test('.jsonl pairs: {"positive", "negative"} per line', () => {
  const p = file('pairs.jsonl', '{"positive": "Yes!", "negative": "No."}\n\n{"positive": "Up", "negative": "Down"}\n');
  const set = readContrastPairs(p);
  assert.deepEqual(set.positive.map((e) => e.text), ['Yes!', 'Up']);
  assert.deepEqual(set.negative.map((e) => e.where), [`${p}:1`, `${p}:3`]);
  assert.equal(set.paired, true);
});

test('bad example files name the file (and line)', () => {
  const ok = file('ok.txt', 'x\n');
  assert.throws(() => readContrastFiles(file('empty.txt', '\n \n'), ok), (e) => e instanceof SteeringError && /empty\.txt: holds no examples/.test(e.message));
  assert.throws(() => readContrastFiles(join(dir, 'missing.txt'), ok), (e) => e instanceof UsageError && /missing\.txt: no such file/.test(e.message));
  assert.throws(() => readContrastFiles(file('x.md', 'a\n'), ok), (e) => e instanceof UsageError && /x\.md: examples are read from \.txt/.test(e.message));
  assert.throws(() => readContrastPairs(file('bad.jsonl', '{"positive": "a"}\n')), (e) => e instanceof SteeringError && /bad\.jsonl:1: expected/.test(e.message));
  assert.throws(() => readContrastPairs(file('bad2.jsonl', '{"positive": "a", "negative": "b"}\nnot json\n')), (e) => e instanceof SteeringError && /bad2\.jsonl:2: not valid JSON/.test(e.message));
  assert.throws(() => readContrastPairs(file('null.jsonl', 'null\n')), (e) => e instanceof SteeringError && /null\.jsonl:1/.test(e.message));
  assert.throws(() => readContrastPairs(ok), UsageError);
});
