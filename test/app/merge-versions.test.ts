import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MERGE_MARKERS, mergeVersions } from '../../src/app/notes/merge-versions.js';

const { yours: Y, divider: D, disk: K } = MERGE_MARKERS;

/** Resolve every marked region by keeping one side: the inverse the writer performs by hand. */
function keep(merged: string, side: 'yours' | 'disk'): string {
  const out: string[] = [];
  let region: 'none' | 'yours' | 'disk' = 'none';
  for (const line of merged.split('\n')) {
    if (line === Y) region = 'yours';
    else if (line === D && region === 'yours') region = 'disk';
    else if (line === K && region === 'disk') region = 'none';
    else if (region === 'none' || region === side) out.push(line);
  }
  return out.join('\n');
}

test('identical versions merge to themselves, with no markers', () => {
  assert.deepEqual(mergeVersions('a\nb', 'a', 'a\nb'), { text: 'a\nb', clean: true });
});

test('when only one side changed the base, the merge is that side exactly (diff3 laws)', () => {
  const cases: [string, string][] = [
    ['title\nmine\nend', 'title\nbase\nend'],
    ['one', 'two'],
    ['', 'all new'],
    ['a\nb\nc', 'a\nb\nc\nd'],
    ['x\ny', 'y'],
  ];
  for (const [changed, base] of cases) {
    assert.deepEqual(mergeVersions(changed, base, base), { text: changed, clean: true }, JSON.stringify({ changed, base }));
    assert.deepEqual(mergeVersions(base, base, changed), { text: changed, clean: true }, JSON.stringify({ changed, base }));
  }
});

test('changes to different lines combine with no markers', () => {
  const base = '# Title\n\nFirst paragraph.\n\nSecond paragraph.\n\nThird paragraph.';
  const yours = '# Title\n\nFirst paragraph, revised by me.\n\nSecond paragraph.\n\nThird paragraph.';
  const disk = '# Title\n\nFirst paragraph.\n\nSecond paragraph.\n\nThird paragraph, edited elsewhere.\n\nA new ending.';
  assert.deepEqual(mergeVersions(yours, base, disk), {
    text: '# Title\n\nFirst paragraph, revised by me.\n\nSecond paragraph.\n\nThird paragraph, edited elsewhere.\n\nA new ending.',
    clean: true,
  });
});

test('the same change made on both sides is no conflict', () => {
  assert.deepEqual(mergeVersions('a\nfixed\nc\nmine', 'a\nbroken\nc', 'a\nfixed\nc'), { text: 'a\nfixed\nc\nmine', clean: true });
});

test('overlapping changes stand between markers, the rest merges around them', () => {
  const base = '# T\nline\nend';
  const merged = mergeVersions('# T mine\nline\nend', base, '# T theirs\nline\nend\nmore');
  assert.deepEqual(merged, { text: `${Y}\n# T mine\n${D}\n# T theirs\n${K}\nline\nend\nmore`, clean: false });
});

test('keeping either side of a conflicted merge gives back that side where the other added nothing elsewhere', () => {
  const cases: [string, string, string][] = [
    ['title\nmine\nend', 'title\nbase\nend', 'title\ntheirs\nend'],
    ['one', 'zero', 'two'],
    ['same start\nadded by me\nsame end', 'same start\nsame end', 'same start\nadded there\nsame end'],
  ];
  for (const [yours, base, disk] of cases) {
    const merged = mergeVersions(yours, base, disk);
    assert.equal(merged.clean, false);
    assert.equal(keep(merged.text, 'yours'), yours, JSON.stringify({ yours, disk, merged }));
    assert.equal(keep(merged.text, 'disk'), disk, JSON.stringify({ yours, disk, merged }));
  }
});
