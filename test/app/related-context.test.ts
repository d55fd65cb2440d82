import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXCERPT_CHARS, excerpt } from '../../src/app/suggest/related-context.js';

test('related excerpt: frontmatter dropped, whitespace collapsed, a short note whole', () => {
  assert.equal(excerpt('---\ntags: sea\n---\nThe  boat\n\nsailed.\n'), 'The boat sailed.');
  assert.equal(excerpt('No frontmatter here.'), 'No frontmatter here.');
});

test('related excerpt: a long note is cut at the last word boundary within the limit', () => {
  const words = Array.from({ length: 100 }, (_, i) => `word${i}`);
  const out = excerpt(words.join(' '));
  assert.ok(out.length <= EXCERPT_CHARS);
  assert.ok(words.join(' ').startsWith(out));
  // Whole words only: the next word would not fit.
  const n = out.split(' ').length;
  assert.equal(out, words.slice(0, n).join(' '));
  assert.ok(words.slice(0, n + 1).join(' ').length > EXCERPT_CHARS);
  assert.equal(excerpt('x'.repeat(500)), 'x'.repeat(EXCERPT_CHARS), 'one long word is cut where the limit falls');
});
