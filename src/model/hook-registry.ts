import { ShapeError } from '../errors.js';
import type { HookName } from './hook-points.js';
import { hookCount, hookIndex } from './hook-points.js';

/**
 * What a hook sees: the activation of every token processed in this forward step, rows of the batch
 * packed one after another (rows may have different lengths; a decode step has one token per row).
 * Segment i holds batch row `rows[i]`, tokens rowStart[i]..rowStart[i+1]-1, at absolute positions
 * `positions[t]`. A hook reads `data`, or replaces the activation by writing into `data` in place or
 * by returning an array of the same length.
 */
export interface HookActivation {
  readonly name: HookName;
  readonly data: Float32Array; // [tokens, width]
  readonly width: number;
  readonly rows: Int32Array; // [segments]
  readonly rowStart: Int32Array; // [segments + 1]
  readonly positions: Int32Array; // [tokens]
}

export type HookFn = (act: HookActivation) => Float32Array | void;

export interface HookOptions {
  /** Only run for this batch row; the hook then sees that row's segment alone. */
  row?: number;
}

/** A hook to register: where, what, and optionally for which batch row. */
export interface HookSpec extends HookOptions {
  name: HookName;
  fn: HookFn;
}

export interface HookHandle {
  remove(): void;
}

interface Entry {
  fn: HookFn;
  row: number | undefined;
}

export class HookRegistry {
  /** Flat table indexed by hookIndex(); undefined where nobody listens, so unused hooks cost one lookup. */
  private readonly table: (Entry[] | undefined)[];

  constructor(private readonly nLayers: number) {
    this.table = new Array(hookCount(nLayers)).fill(undefined);
  }

  add(name: HookName, fn: HookFn, opts: HookOptions = {}): HookHandle {
    const idx = hookIndex(this.nLayers, name);
    const entry: Entry = { fn, row: opts.row };
    (this.table[idx] ??= []).push(entry);
    return {
      remove: () => {
        const list = this.table[idx];
        const at = list ? list.indexOf(entry) : -1;
        if (!list || at < 0) return;
        list.splice(at, 1);
        if (list.length === 0) this.table[idx] = undefined;
      },
    };
  }

  /** Runs `body` with the hooks registered, removing them afterwards even if it throws. */
  with<T>(hooks: readonly HookSpec[], body: () => T): T {
    const handles: HookHandle[] = [];
    try {
      // Registered inside the try: if a later name is unknown, the ones already added are removed.
      for (const h of hooks) handles.push(this.add(h.name, h.fn, { row: h.row }));
      return body();
    } finally {
      for (const h of handles) h.remove();
    }
  }

  /** Async variant of `with` for generation with streaming callbacks. */
  async withAsync<T>(hooks: readonly HookSpec[], body: () => Promise<T>): Promise<T> {
    const handles: HookHandle[] = [];
    try {
      for (const h of hooks) handles.push(this.add(h.name, h.fn, { row: h.row }));
      return await body();
    } finally {
      for (const h of handles) h.remove();
    }
  }

  clear(): void {
    this.table.fill(undefined);
  }

  /** True when some hook listens at table index `idx` (the forward pass checks this before building a view). */
  listening(idx: number): boolean {
    return this.table[idx] !== undefined;
  }

  /** Calls the hooks at `idx` in registration order; each sees the previous one's replacement. */
  run(idx: number, act: HookActivation): void {
    const list = this.table[idx];
    if (!list) return;
    for (const e of [...list]) {
      if (e.row === undefined) apply(e.fn, act);
      else {
        const seg = segmentOf(act, e.row);
        if (seg) apply(e.fn, seg);
      }
    }
  }
}

function apply(fn: HookFn, act: HookActivation): void {
  const replaced = fn(act);
  if (!replaced || replaced === act.data) return;
  if (replaced.length !== act.data.length) {
    throw new ShapeError(`hook on ${act.name} returned ${replaced.length} values, expected ${act.data.length} ([${act.data.length / act.width}, ${act.width}])`);
  }
  act.data.set(replaced);
}

/** The activation restricted to one batch row (views, no copy), or undefined if that row is not in this step. */
function segmentOf(act: HookActivation, row: number): HookActivation | undefined {
  const i = act.rows.indexOf(row);
  if (i < 0) return undefined;
  const a = act.rowStart[i];
  const b = act.rowStart[i + 1];
  return {
    name: act.name,
    data: act.data.subarray(a * act.width, b * act.width),
    width: act.width,
    rows: act.rows.subarray(i, i + 1),
    rowStart: Int32Array.of(0, b - a),
    positions: act.positions.subarray(a, b),
  };
}
