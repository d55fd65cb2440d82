/**
 * Both versions of a conflicted note in one text, for the writer to finish by hand: the lines the
 * two share at the start and at the end appear once, and the differing middle appears twice between
 * git-style markers (the convention other tools and writers already know).
 */
export const MERGE_MARKERS = { yours: '<<<<<<< your version', divider: '=======', disk: '>>>>>>> version on disk' } as const;

export function mergeVersions(yours: string, disk: string): string {
  if (yours === disk) return yours;
  const a = yours.split('\n');
  const b = disk.split('\n');
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let end = 0;
  while (end < a.length - start && end < b.length - start && a[a.length - 1 - end] === b[b.length - 1 - end]) end++;
  return [
    ...a.slice(0, start),
    MERGE_MARKERS.yours,
    ...a.slice(start, a.length - end),
    MERGE_MARKERS.divider,
    ...b.slice(start, b.length - end),
    MERGE_MARKERS.disk,
    ...a.slice(a.length - end),
  ].join('\n');
}
