import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EditorSelection, EditorState } from '@codemirror/state';
import { countWords, wordCounts } from '../../src/app/editor/word-count.js';

test('words as a writer counts them: contractions, hyphenations, numbers and other scripts are one word each', () => {
  assert.equal(countWords("Don't stop — the well-known café opened at 9.30, didn’t it?"), 10);
  assert.equal(countWords('# Heading\n\n- item one\n> quoted *words*'), 5);
  assert.equal(countWords('Ελληνικά και русский текст'), 4);
  assert.equal(countWords('  \n\t '), 0);
});

test('frontmatter is not counted; the selection is counted on its own', () => {
  const doc = '---\ntitle: A long title here\nsuggestions: off\n---\nThree words here.';
  const state = EditorState.create({ doc, selection: EditorSelection.range(doc.length - 11, doc.length - 1) });
  assert.deepEqual(wordCounts(state), { words: 3, selected: 2 });
});
