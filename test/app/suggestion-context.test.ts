import assert from 'node:assert/strict';
import { test } from 'node:test';
import { markdownLanguage } from '@codemirror/lang-markdown';
import { EditorState } from '@codemirror/state';
import { betweenSentences, suggestionBlocked } from '../../src/app/editor/suggestion-context.js';

/** The doc with "|" marking the cursor, as the markdown editor parses it. */
function at(marked: string): { state: EditorState; pos: number } {
  const pos = marked.indexOf('|');
  return { state: EditorState.create({ doc: marked.replace('|', ''), extensions: markdownLanguage }), pos };
}

const allowed = (marked: string): boolean => {
  const { state, pos } = at(marked);
  return suggestionBlocked(state, pos) === null;
};

test('offered at a line end and before closing punctuation only', () => {
  for (const s of ['Once upon a time|', 'Trailing space |  ', '(as we saw|)', '“I know|”', 'He said "go|".', '**bold|**', 'the end|.', 'A list, then|;', '[a bracket|]']) {
    assert.equal(allowed(s), true, s);
  }
});

test('offered between sentences, where the suggestion is one sentence', () => {
  for (const s of ['It rained. |Then it stopped.', 'It rained.  | Then it stopped.', 'Really?” |And then', 'Done! |Next.']) {
    assert.equal(allowed(s), true, s);
    const { state, pos } = at(s);
    assert.equal(betweenSentences(state, pos), true, s);
  }
  const { state, pos } = at('At the end. |');
  assert.equal(betweenSentences(state, pos), false, 'a line end is not between sentences');
});

test('never mid-sentence, inside a word, after a comma, or after a full stop with no space', () => {
  for (const s of ['Middle| of line', 'Mid|way', 'Call it (see| below) soon', 'First, |then more', 'It rained.|Then']) {
    assert.equal(allowed(s), false, s);
  }
});
