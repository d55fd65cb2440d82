/**
 * A Prometheus histogram (https://prometheus.io/docs/concepts/metric_types/#histogram): how many
 * observations fell at or below each upper bound, with their sum and count. Counts are kept per
 * bucket and made cumulative when read, so observe() is one search and one increment.
 */
import { UsageError } from '../../errors.js';

export class Histogram {
  /** counts[i]: observations in (bounds[i−1], bounds[i]]; the last entry is above every bound (+Inf). */
  private readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    if (bounds.length === 0 || bounds.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= bounds[i - 1]))) {
      throw new UsageError(`histogram bounds must be finite and strictly increasing, got [${bounds.join(', ')}]`);
    }
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }

  /** Observations ≤ each bound, then the total (the +Inf bucket). */
  cumulative(): number[] {
    let running = 0;
    return Array.from(this.counts, (c) => (running += c));
  }
}
