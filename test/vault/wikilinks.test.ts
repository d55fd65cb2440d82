import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LinkResolver, rewriteWikilinks } from '../../src/vault/wikilinks.js';

const notes = ['Welcome.md', 'Ideas/Draft.md', 'Ideas/Plan.md', 'Archive/Plan.md'];

function rename(text: string, from: string, to: string, all = notes): string {
  const moves = new Map([[from, to]]);
  return rewriteWikilinks(text, moves, new LinkResolver(all), new LinkResolver(all.map((p) => moves.get(p) ?? p)));
}

test('resolves unique names, paths and case as Obsidian does; ambiguous bare names resolve to nothing', () => {
  const r = new LinkResolver(notes);
  assert.equal(r.resolve('draft'), 'Ideas/Draft.md');
  assert.equal(r.resolve('Ideas/Draft.md'), 'Ideas/Draft.md');
  assert.equal(r.resolve('Plan'), undefined);
  assert.equal(r.resolve('Archive/Plan'), 'Archive/Plan.md');
  assert.equal(r.resolve('Nowhere'), undefined);
});

test('a rename rewrites every form of link to the note and keeps heading, block and alias parts', () => {
  const text = 'See [[Draft]], [[Ideas/Draft|the draft]], [[draft#Scene 2]], [[Draft#^b1]], ![[Draft]] and [[Draft.md]].';
  assert.equal(
    rename(text, 'Ideas/Draft.md', 'Ideas/Chapter one.md'),
    'See [[Chapter one]], [[Ideas/Chapter one|the draft]], [[Chapter one#Scene 2]], [[Chapter one#^b1]], ![[Chapter one]] and [[Chapter one.md]].',
  );
});

test('links to other notes, ambiguous names and links inside code fences stay as they are', () => {
  const text = 'Keep [[Welcome]] and [[Plan]].\n```\n[[Draft]]\n```\nBut [[Draft]].';
  assert.equal(rename(text, 'Ideas/Draft.md', 'Draft 2.md'), 'Keep [[Welcome]] and [[Plan]].\n```\n[[Draft]]\n```\nBut [[Draft 2]].');
  assert.equal(rename('[[Plan]]', 'Ideas/Plan.md', 'Ideas/Plans.md'), '[[Plan]]');
  assert.equal(rename('[[Archive/Plan]]', 'Archive/Plan.md', 'Old/Plan.md'), '[[Old/Plan]]');
});

test('wikilinks in code spans and indented code are code too (CommonMark), and stay as they are', () => {
  const text = 'Write `[[Draft]]` or ``a [[Draft]] b`` for a link.\n\n    [[Draft]] in an indented block\n\n~~~\n[[Draft]]\n~~~\n\nBut [[Draft]].';
  assert.equal(rename(text, 'Ideas/Draft.md', 'Ideas/Sketch.md'), text.replace('But [[Draft]]', 'But [[Sketch]]'));
});

test('a move that makes the name ambiguous writes the path; a move that makes it unique may use the bare name', () => {
  assert.equal(rename('[[Draft]]', 'Ideas/Draft.md', 'Archive/Plan 2.md'), '[[Plan 2]]');
  assert.equal(rename('[[Draft]]', 'Ideas/Draft.md', 'Other/Plan.md'), '[[Other/Plan]]');
  assert.equal(rename('[[Archive/Plan]]', 'Archive/Plan.md', 'Archive/Unique.md'), '[[Archive/Unique]]');
});

test('text without a link to the moved note comes back as the same string', () => {
  const text = 'Nothing [[Welcome]] here.';
  assert.equal(rename(text, 'Ideas/Draft.md', 'X.md'), text);
});
