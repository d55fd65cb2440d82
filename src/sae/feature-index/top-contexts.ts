/**
 * The top-activating contexts of every feature: for each feature a bounded min-heap of the N
 * contexts where it fired hardest (one entry per context, at its maximum), as the "top activations"
 * of a feature dashboard (Bricken et al. 2023; Neuronpedia). The heap's root is the weakest kept
 * context, so a new context is admitted in O(1) when it does not beat it and in O(log N) when it does.
 */

/** A window of tokens around a feature's maximum in one corpus context. */
export interface TopContext {
  /** The feature's activation at its maximum in this context. */
  maxAct: number;
  /** Which corpus context (0-based, in corpus order) and where the window starts in it. */
  contextIndex: number;
  start: number;
  /** Position of the maximum inside the window. */
  maxPos: number;
  tokenIds: Int32Array;
  /** The token before the window (-1 at the context's start): decoding depends on it after BOS. */
  prevId: number;
  /** The feature's activation at each window token. */
  acts: Float32Array;
}

export class TopContexts {
  private readonly heaps: TopContext[][];

  constructor(
    features: number,
    private readonly keep: number,
  ) {
    this.heaps = Array.from({ length: features }, () => []);
  }

  /** Whether a context where feature j peaks at `act` would be kept (ask before building its window). */
  admits(j: number, act: number): boolean {
    const h = this.heaps[j];
    return this.keep > 0 && (h.length < this.keep || act > h[0].maxAct);
  }

  add(j: number, c: TopContext): void {
    const h = this.heaps[j];
    if (h.length < this.keep) {
      h.push(c);
      siftUp(h, h.length - 1);
    } else if (c.maxAct > h[0].maxAct) {
      h[0] = c;
      siftDown(h, 0);
    }
  }

  /** Feature j's contexts, strongest first (ties: earlier corpus context first). */
  sorted(j: number): TopContext[] {
    return [...this.heaps[j]].sort((a, b) => b.maxAct - a.maxAct || a.contextIndex - b.contextIndex);
  }
}

function siftUp(h: TopContext[], i: number): void {
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p].maxAct <= h[i].maxAct) return;
    [h[p], h[i]] = [h[i], h[p]];
    i = p;
  }
}

function siftDown(h: TopContext[], i: number): void {
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < h.length && h[l].maxAct < h[m].maxAct) m = l;
    if (r < h.length && h[r].maxAct < h[m].maxAct) m = r;
    if (m === i) return;
    [h[m], h[i]] = [h[i], h[m]];
    i = m;
  }
}
