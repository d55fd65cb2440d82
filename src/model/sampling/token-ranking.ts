/**
 * Partial ordering of token ids by score, in place on an index array, without a full sort:
 * Hoare's quickselect (Lomuto partition, median-of-three pivot), expected O(n). Ranks are a total
 * order — higher score first, lower id on equal scores — so results are deterministic and ties
 * break the same way as greedy argmax (first maximum wins). No key is equal to another under this
 * order, which also keeps quickselect clear of its many-duplicates slow case.
 */

/** Whether token `a` ranks before token `b`. */
function ranksBefore(keys: Float32Array, a: number, b: number): boolean {
  const ka = keys[a];
  const kb = keys[b];
  return ka > kb || (ka === kb && a < b);
}

function swap(ids: Int32Array, i: number, j: number): void {
  const t = ids[i];
  ids[i] = ids[j];
  ids[j] = t;
}

/**
 * Partitions ids[lo..hi) (at least 2 entries) around a pivot and returns the pivot's final
 * position p: ids[lo..p) rank before it, ids(p..hi) after it.
 */
function partition(ids: Int32Array, lo: number, hi: number, keys: Float32Array): number {
  const last = hi - 1;
  const mid = (lo + hi) >>> 1;
  // Median of three into `last`: order ids[lo], ids[mid], ids[last], then swap the middle one to the end.
  if (ranksBefore(keys, ids[mid], ids[lo])) swap(ids, lo, mid);
  if (ranksBefore(keys, ids[last], ids[lo])) swap(ids, lo, last);
  if (ranksBefore(keys, ids[last], ids[mid])) swap(ids, mid, last);
  swap(ids, mid, last);
  const pivot = ids[last];
  let store = lo;
  for (let i = lo; i < last; i++) {
    const id = ids[i];
    if (ranksBefore(keys, id, pivot)) {
      ids[i] = ids[store];
      ids[store++] = id;
    }
  }
  ids[last] = ids[store];
  ids[store] = pivot;
  return store;
}

/** Reorders ids[0..n) so that ids[0..k) hold the k best-ranked ids (in no particular order). */
export function selectTopK(ids: Int32Array, n: number, k: number, keys: Float32Array): void {
  let lo = 0;
  let hi = n;
  while (hi - lo > 1) {
    const p = partition(ids, lo, hi, keys);
    if (p === k || p === k - 1) return;
    if (p > k) hi = p;
    else lo = p + 1;
  }
}

/**
 * Reorders ids[0..n) so that ids[0..r) is the smallest set of best-ranked ids whose weights
 * (`keys`, non-negative) sum to at least `need`, and returns r. Each round partitions the open
 * range and sums one side, so the cost is expected O(n) rather than a sort's O(n log n). When
 * rounding leaves the total just short of `need`, every id is kept.
 */
export function selectNucleus(ids: Int32Array, n: number, keys: Float32Array, need: number): number {
  let lo = 0; // ids[0..lo) are in the set and carry `mass`, which is still < need
  let hi = n; // the set ends within (lo, hi]
  let mass = 0;
  while (hi - lo > 1) {
    const p = partition(ids, lo, hi, keys);
    let before = 0;
    for (let i = lo; i < p; i++) before += keys[ids[i]];
    if (mass + before >= need) {
      hi = p;
    } else {
      mass += before + keys[ids[p]];
      if (mass >= need) return p + 1;
      lo = p + 1;
    }
  }
  return hi;
}
