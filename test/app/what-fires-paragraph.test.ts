import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EditorSelection, EditorState } from '@codemirror/state';
import { paragraphAt } from '../../src/app/editor/what-fires.js';

const doc = '# Title\n\nFirst line of it,\nsecond line.\n\n   \nAnother paragraph.';
const at = (pos: number) => paragraphAt(EditorState.create({ doc, selection: EditorSelection.cursor(pos) }));

test('the paragraph at the cursor is its run of non-blank lines, with its offset in the note', () => {
  const first = doc.indexOf('First');
  assert.deepEqual(at(doc.indexOf('second') + 3), { from: first, text: 'First line of it,\nsecond line.' });
  assert.deepEqual(at(first), at(doc.indexOf('line.') + 5), 'from its first character to its last');
  assert.deepEqual(at(doc.length), { from: doc.indexOf('Another'), text: 'Another paragraph.' });
  assert.deepEqual(at(0), { from: 0, text: '# Title' });
  assert.equal(at(doc.indexOf('   ') + 1), null, 'a line of spaces is blank');
  assert.equal(at(doc.indexOf('\n\n') + 1), null);
});
