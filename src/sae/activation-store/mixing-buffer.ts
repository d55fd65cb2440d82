/**
 * A shuffling mixing buffer, as SAELens' ActivationsStore (`n_batches_in_buffer`): activations from
 * one context are highly correlated, so training batches are drawn from a large buffer of many
 * contexts. The buffer is filled to `bufferSize` activations, its rows shuffled (Fisher–Yates with
 * the seeded xoshiro128** Prng), the first half (whole batches) served in batches of `batchSize`, and the second half
 * kept and mixed with the next refill. When the source runs dry the rest is shuffled and served.
 * The output is a permutation of the input rows, and the same seed gives the same permutation.
 *
 * Its state between two batches (state()) is the rows it holds, how many of them are still to be
 * served before the next refill, the Prng and how many source rows it has taken: a buffer restored
 * from it, on the source from that row on, serves exactly the batches the original would have.
 */
import { UsageError } from '../../errors.js';
import { Prng } from '../../model/sampling/prng.js';

/** Training batches a buffer holds by default (SAELens n_batches_in_buffer). */
export const DEFAULT_BUFFER_BATCHES = 64;

export interface MixingBufferOptions {
  width: number;
  /** Activations held in the buffer (SAELens: n_batches_in_buffer × store_batch_size_prompts × context_size). */
  bufferSize: number;
  /** Activations per served batch (the last batch may be smaller). */
  batchSize: number;
  seed: number;
}

/** A MixingBuffer between two batches. */
export interface MixingBufferState {
  /** The rows held, in buffer order, [n, width]. */
  rows: Float32Array;
  /** How many of `rows` (from the front) are served before the next refill. */
  serving: number;
  /** Source rows taken into the buffer so far: a restored buffer reads its source from this row on. */
  consumed: number;
  /** The source has run dry (what is held is all that is left). */
  sourceDone: boolean;
  prng: [number, number, number, number];
}

export class MixingBuffer {
  private readonly buf: Float32Array; // [bufferSize, width]
  private readonly tmp: Float32Array;
  private readonly prng: Prng;
  private readonly it: Iterator<Float32Array>;
  private count = 0; // rows held
  private at = 0; // next row to serve
  private end = 0; // rows [at, end) are being served
  private consumed = 0;
  private done = false;
  // Rows of the source batch not yet taken into the buffer.
  private carry: Float32Array | undefined;
  private carryAt = 0;

  /** Batches of [≤batchSize, width] rows from `source` batches ([n, width] each); from `state` on when given (`source` then starts at state.consumed). */
  constructor(source: Iterable<Float32Array>, private readonly o: MixingBufferOptions, state?: MixingBufferState) {
    const { width, bufferSize, batchSize } = o;
    if (!Number.isSafeInteger(bufferSize) || bufferSize < 2) throw new UsageError(`mixing buffer size must be an integer ≥ 2, got ${bufferSize}`);
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new UsageError(`batch size must be a positive integer, got ${batchSize}`);
    if (bufferSize < 2 * batchSize) throw new UsageError(`mixing buffer size ${bufferSize} must be at least twice the batch size ${batchSize}`);
    this.buf = new Float32Array(bufferSize * width);
    this.tmp = new Float32Array(width);
    this.prng = new Prng(o.seed);
    this.it = source[Symbol.iterator]();
    if (state) {
      const rows = state.rows.length / width;
      if (!Number.isInteger(rows) || rows > bufferSize || !(state.serving >= 0 && state.serving <= rows)) {
        throw new UsageError(`mixing buffer state of ${state.rows.length} values (${state.serving} serving) does not fit a buffer of ${bufferSize} × ${width}`);
      }
      this.buf.set(state.rows);
      this.count = rows;
      this.end = state.serving;
      this.consumed = state.consumed;
      this.done = state.sourceDone;
      Object.assign(this.prng, Prng.fromState(...state.prng));
    }
  }

  /** The next batch, or undefined once the source has run dry and everything was served. */
  next(): Float32Array | undefined {
    const { width, batchSize } = this.o;
    for (;;) {
      if (this.at < this.end) {
        const n = Math.min(batchSize, this.end - this.at);
        const out = this.buf.slice(this.at * width, (this.at + n) * width);
        this.at += n;
        return out;
      }
      if (this.end > 0) {
        // Keep the unserved rows at the front of the buffer.
        this.buf.copyWithin(0, this.end * width, this.count * width);
        this.count -= this.end;
        this.at = this.end = 0;
      }
      if (this.done) return undefined;
      this.fill();
      if (this.count === 0) return undefined;
      this.shuffle();
      // Half the buffer, rounded down to whole batches, so that every batch but the very last is full.
      this.end = this.done ? this.count : Math.floor(this.count / 2 / batchSize) * batchSize;
    }
  }

  state(): MixingBufferState {
    const { width } = this.o;
    return {
      rows: this.buf.slice(this.at * width, this.count * width),
      serving: this.end - this.at,
      consumed: this.consumed,
      sourceDone: this.done,
      prng: this.prng.state(),
    };
  }

  private fill(): void {
    const { width, bufferSize } = this.o;
    while (this.count < bufferSize) {
      if (!this.carry || this.carryAt * width >= this.carry.length) {
        const next = this.it.next();
        if (next.done) {
          this.done = true;
          return;
        }
        if (next.value.length % width !== 0) throw new UsageError(`source batch of ${next.value.length} values is not a multiple of width ${width}`);
        this.carry = next.value;
        this.carryAt = 0;
        continue;
      }
      const take = Math.min(bufferSize - this.count, this.carry.length / width - this.carryAt);
      this.buf.set(this.carry.subarray(this.carryAt * width, (this.carryAt + take) * width), this.count * width);
      this.carryAt += take;
      this.count += take;
      this.consumed += take;
    }
  }

  private shuffle(): void {
    const { width } = this.o;
    const { buf, tmp } = this;
    for (let i = this.count - 1; i > 0; i--) {
      // Lemire's multiply-shift: an index in [0, i] from 32 random bits (bias < 2^-8 for any buffer below 2^24 rows).
      const j = Math.floor((this.prng.nextU32() * (i + 1)) / 0x1_0000_0000);
      if (j === i) continue;
      tmp.set(buf.subarray(i * width, (i + 1) * width));
      buf.copyWithin(i * width, j * width, (j + 1) * width);
      buf.set(tmp, j * width);
    }
  }
}

/** MixingBuffer's batches as a generator. */
export function* mixingBuffer(source: Iterable<Float32Array>, o: MixingBufferOptions): Generator<Float32Array> {
  const m = new MixingBuffer(source, o);
  for (let b = m.next(); b !== undefined; b = m.next()) yield b;
}
