import { UsageError } from '../errors.js';

/**
 * Streams text while watching for stop sequences (OpenAI `stop`): text that might be the start of a
 * stop sequence is held back until it is known not to be, so a streamed client never receives part
 * of a stop sequence, and the final text ends just before the first one.
 */
export class StopSequenceFilter {
  private pending = '';

  constructor(private readonly stops: readonly string[]) {
    if (stops.includes('')) throw new UsageError('a stop sequence must not be empty (it would end every text before its first token)');
  }

  /** Adds decoded text; returns the text now safe to emit and whether a stop sequence was hit. */
  push(delta: string): { emit: string; stopped: boolean } {
    this.pending += delta;
    if (this.stops.length === 0) return this.release(this.pending.length, false);
    let first = -1;
    for (const s of this.stops) {
      const at = this.pending.indexOf(s);
      if (at >= 0 && (first < 0 || at < first)) first = at;
    }
    if (first >= 0) {
      const emit = this.pending.slice(0, first);
      this.pending = '';
      return { emit, stopped: true };
    }
    return this.release(this.pending.length - this.heldBack(), false);
  }

  /** Text still held back at the end of generation (it never completed a stop sequence). */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest;
  }

  /** Length of the longest suffix of the pending text that is a proper prefix of some stop sequence. */
  private heldBack(): number {
    let hold = 0;
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, this.pending.length); n > hold; n--) {
        if (this.pending.endsWith(s.slice(0, n))) {
          hold = n;
          break;
        }
      }
    }
    return hold;
  }

  private release(n: number, stopped: boolean): { emit: string; stopped: boolean } {
    const emit = this.pending.slice(0, n);
    this.pending = this.pending.slice(n);
    return { emit, stopped };
  }
}
