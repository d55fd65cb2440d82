/**
 * A three-way merge of a conflicted note, line by line: the writer's text and the disk's text are
 * both compared with the version both started from (the text the page last loaded or saved), as
 * `git merge-file` and diff3 do (Khanna, Kunal and Pierce, "A Formal Investigation of Diff3", 2007;
 * node-diff3 implements it). Changes that touch different lines are combined with no markers;
 * where both sides changed the same lines differently, both versions stand between git-style
 * markers (the convention other tools and writers already know) for the writer to finish by hand.
 */
import { diff3Merge } from 'node-diff3';

export const MERGE_MARKERS = { yours: '<<<<<<< your version', divider: '=======', disk: '>>>>>>> version on disk' } as const;

export interface Merged {
  text: string;
  /** True when no lines were changed by both sides: the text holds no markers. */
  clean: boolean;
}

export function mergeVersions(yours: string, base: string, disk: string): Merged {
  if (yours === disk) return { text: yours, clean: true };
  const out: string[] = [];
  let clean = true;
  // Both sides making the same change is no conflict (git's behaviour too).
  for (const region of diff3Merge(yours.split('\n'), base.split('\n'), disk.split('\n'), { excludeFalseConflicts: true })) {
    if (region.ok) out.push(...region.ok);
    else if (region.conflict) {
      clean = false;
      out.push(MERGE_MARKERS.yours, ...region.conflict.a, MERGE_MARKERS.divider, ...region.conflict.b, MERGE_MARKERS.disk);
    }
  }
  return { text: out.join('\n'), clean };
}
