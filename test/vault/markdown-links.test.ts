import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { rewriteMarkdownLinks } from '../../src/vault/markdown-links.js';
import { Vault } from '../../src/vault/vault.js';
import { LinkResolver } from '../../src/vault/wikilinks.js';
import { tempVault } from './vault-test-helpers.js';

const notes = ['Welcome.md', 'Ideas/Draft.md', 'Ideas/Note name.md', 'Ideas/b)c.md', 'Ideas/(foo).md', 'Ideas/foo(and(bar)).md', 'Archive/Plan.md'];

/** `text`, written in the note at `linking`, after the renames `moves` (old → new path). */
function rename(text: string, linking: string, moves: Record<string, string>): string {
  const m = new Map(Object.entries(moves));
  const before = new LinkResolver(notes);
  const after = new LinkResolver(notes.map((p) => m.get(p) ?? p));
  return rewriteMarkdownLinks(text, { oldPath: linking, newPath: m.get(linking) ?? linking, moves: m, before, after });
}

test('inline links, images and reference definitions follow a rename, keeping fragment, title and spelling', () => {
  const text = [
    '[a](Ideas/Note%20name.md) [b](<Ideas/Note name.md#Part 2>) [c](Ideas/Note%20name.md#part-2 "Title")',
    '![d](Ideas/Note%20name.md) [e](Note%20name.md) [f](Ideas/Note%20name)',
    '',
    "[r]: <Ideas/Note name.md> 'T'",
  ].join('\n');
  assert.equal(
    rename(text, 'Welcome.md', { 'Ideas/Note name.md': 'Ideas/Final (v2) name.md' }),
    [
      '[a](Ideas/Final%20%28v2%29%20name.md) [b](<Ideas/Final (v2) name.md#Part 2>) [c](Ideas/Final%20%28v2%29%20name.md#part-2 "Title")',
      '![d](Ideas/Final%20%28v2%29%20name.md) [e](Final%20%28v2%29%20name.md) [f](Ideas/Final%20%28v2%29%20name)',
      '',
      "[r]: <Ideas/Final (v2) name.md> 'T'",
    ].join('\n'),
  );
});

test('relative destinations resolve from the linking note\'s folder and are recomputed from its new folder', () => {
  assert.equal(rename('[x](../Ideas/Draft.md#Scene)', 'Archive/Plan.md', { 'Ideas/Draft.md': 'Drafts/Old/Draft.md' }), '[x](../Drafts/Old/Draft.md#Scene)');
  assert.equal(rename('[x](./Draft.md)', 'Ideas/Note name.md', { 'Ideas/Draft.md': 'Ideas/Chapter.md' }), '[x](./Chapter.md)');
  // The linking note itself moves: its relative links to notes that stayed put change.
  assert.equal(rename('[x](../Ideas/Draft.md) [w](../Welcome.md) [u](https://example.com/x.md)', 'Archive/Plan.md', { 'Archive/Plan.md': 'Plan.md' }), '[x](Ideas/Draft.md) [w](Welcome.md) [u](https://example.com/x.md)');
  // Both ends move together (a folder rename): a sibling link stays, a link out of the folder gets longer.
  const folder = { 'Ideas/Draft.md': 'Book/Ideas/Draft.md', 'Ideas/Note name.md': 'Book/Ideas/Note name.md' };
  assert.equal(rename('[n](Note%20name.md) [w](../Welcome.md) [p](../Archive/Plan.md)', 'Ideas/Draft.md', folder), '[n](Note%20name.md) [w](../../Welcome.md) [p](../../Archive/Plan.md)');
});

test('CommonMark destinations: pointy brackets, backslash escapes and balanced parentheses (spec 0.31.2 §6.6)', () => {
  const m = { 'Ideas/b)c.md': 'Ideas/b)d.md', 'Ideas/(foo).md': 'Ideas/(bar).md', 'Ideas/foo(and(bar)).md': 'Ideas/baz.md' };
  assert.equal(rename('[a](<b)c.md>) [b](\\(foo\\).md) [c](foo(and(bar)).md)', 'Ideas/Draft.md', m), '[a](<b)d.md>) [b](%28bar%29.md) [c](baz.md)');
});

test('code spans, fenced and indented code, autolinks, URLs, absolute paths and escaped brackets stay as they are', () => {
  const text = [
    '`[a](Ideas/Draft.md)` and ``[b](Ideas/Draft.md)``',
    '',
    '```',
    '[c](Ideas/Draft.md)',
    '```',
    '',
    '    [d](Ideas/Draft.md)',
    '',
    '<https://example.com/Ideas/Draft.md> [e](https://example.com/Ideas/Draft.md) [f](/Ideas/Draft.md) [g](#Draft)',
    '\\[h](Ideas/Draft.md) [i](Ideas/Elsewhere.md) [j](Archive/Plan.md) [k](mailto:draft@example.com)',
  ].join('\n');
  assert.equal(rename(text, 'Welcome.md', { 'Ideas/Draft.md': 'Ideas/Chapter.md' }), text);
});

test('links to other files follow a folder move, and a moved note\'s relative links to files that stayed are recomputed', () => {
  const m = new Map([['Ideas/Draft.md', 'Book/Ideas/Draft.md']]);
  const r = {
    moves: m,
    before: new LinkResolver(notes),
    after: new LinkResolver(notes.map((p) => m.get(p) ?? p)),
    movedFiles: new Map([['Ideas/sketch one.png', 'Book/Ideas/sketch one.png']]),
    fileExists: (p: string) => p === 'cover.jpg',
  };
  assert.equal(rewriteMarkdownLinks('![s](Ideas/sketch%20one.png) ![c](cover.jpg)', { ...r, oldPath: 'Welcome.md', newPath: 'Welcome.md' }), '![s](Book/Ideas/sketch%20one.png) ![c](cover.jpg)');
  assert.equal(rewriteMarkdownLinks('![s](<sketch one.png>) ![c](../cover.jpg) ![x](../missing.png)', { ...r, oldPath: 'Ideas/Draft.md', newPath: 'Book/Ideas/Draft.md' }), '![s](<sketch one.png>) ![c](../../cover.jpg) ![x](../missing.png)');
});

test('Vault.rename rewrites markdown links in other notes and in the moved note, for a note and a folder', () => {
  const { dir } = tempVault({
    'Index.md': 'Start at [the draft](Ideas/First%20draft.md#Opening) or [plan](<Ideas/Plan.md>).\n\n`[code](Ideas/Plan.md)`',
    'Ideas/First draft.md': 'Back to [index](../Index.md); see [plan](Plan.md).',
    'Ideas/Plan.md': 'Plan. ![map](map.png)',
    'Ideas/map.png': 'not really a png',
    'Map index.md': '![the map](Ideas/map.png)',
  });
  const vault = new Vault(dir);
  const r = vault.rename('Ideas/First draft.md', 'Ideas/Opening.md');
  assert.deepEqual(r.updated, ['Index.md']);
  assert.equal(readFileSync(join(dir, 'Index.md'), 'utf8'), 'Start at [the draft](Ideas/Opening.md#Opening) or [plan](<Ideas/Plan.md>).\n\n`[code](Ideas/Plan.md)`');
  vault.rename('Ideas', 'Book/Ideas');
  assert.equal(readFileSync(join(dir, 'Index.md'), 'utf8'), 'Start at [the draft](Book/Ideas/Opening.md#Opening) or [plan](<Book/Ideas/Plan.md>).\n\n`[code](Ideas/Plan.md)`');
  assert.equal(readFileSync(join(dir, 'Book/Ideas/Opening.md'), 'utf8'), 'Back to [index](../../Index.md); see [plan](Plan.md).');
  assert.equal(readFileSync(join(dir, 'Map index.md'), 'utf8'), '![the map](Book/Ideas/map.png)');
  assert.equal(readFileSync(join(dir, 'Book/Ideas/Plan.md'), 'utf8'), 'Plan. ![map](map.png)');
  vault.close();
});
