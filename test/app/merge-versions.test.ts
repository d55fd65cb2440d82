import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MERGE_MARKERS, mergeVersions } from '../../src/app/notes/merge-versions.js';

/** Resolve every marked region by keeping one side: the inverse the writer performs by hand. */
function keep(merged: string, side: 'yours' | 'disk'): string {
  const out: string[] = [];
  let region: 'none' | 'yours' | 'disk' = 'none';
  for (const line of merged.split('\n')) {
    if (line === MERGE_MARKERS.yours) region = 'yours';
    else if (line === MERGE_MARKERS.divider && region === 'yours') region = 'disk';
    else if (line === MERGE_MARKERS.disk && region === 'disk') region = 'none';
    else if (region === 'none' || region === side) out.push(line);
  }
  return out.join('\n');
}

test('identical versions merge to themselves, with no markers', () => {
  assert.equal(mergeVersions('a\nb', 'a\nb'), 'a\nb');
});

test('keeping either side of the merge gives back that version exactly', () => {
  const cases: [string, string][] = [
    ['title\nmine\nend', 'title\ntheirs\nend'],
    ['one', 'two'],
    ['same start\nadded by me\nsame end', 'same start\nsame end'],
    ['', 'all new'],
    ['a\nb\nc', 'a\nb\nc\nd'],
    ['x\ny', 'y'],
  ];
  for (const [yours, disk] of cases) {
    const merged = mergeVersions(yours, disk);
    assert.equal(keep(merged, 'yours'), yours, JSON.stringify({ yours, disk, merged }));
    assert.equal(keep(merged, 'disk'), disk, JSON.stringify({ yours, disk, merged }));
  }
});

test('shared lines at the start and end appear once, outside the markers', () => {
  assert.equal(mergeVersions('# T\nmine\nend', '# T\ntheirs\nend'), `# T\n${MERGE_MARKERS.yours}\nmine\n${MERGE_MARKERS.divider}\ntheirs\n${MERGE_MARKERS.disk}\nend`);
});
