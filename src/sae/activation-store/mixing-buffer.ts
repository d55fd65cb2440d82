/**
 * A shuffling mixing buffer, as SAELens' ActivationsStore (`n_batches_in_buffer`): activations from
 * one context are highly correlated, so training batches are drawn from a large buffer of many
 * contexts. The buffer is filled to `bufferSize` activations, its rows shuffled (Fisher–Yates with
 * the seeded xoshiro128** Prng), the first half (whole batches) served in batches of `batchSize`, and the second half
 * kept and mixed with the next refill. When the source runs dry the rest is shuffled and served.
 * The output is a permutation of the input rows, and the same seed gives the same permutation.
 */
import { UsageError } from '../../errors.js';
import { Prng } from '../../model/sampling/prng.js';

export interface MixingBufferOptions {
  width: number;
  /** Activations held in the buffer (SAELens: n_batches_in_buffer × store_batch_size_prompts × context_size). */
  bufferSize: number;
  /** Activations per served batch (the last batch may be smaller). */
  batchSize: number;
  seed: number;
}

/** Batches of [≤batchSize, width] rows from `source` batches ([n, width] each), shuffled through the buffer. */
export function* mixingBuffer(source: Iterable<Float32Array>, o: MixingBufferOptions): Generator<Float32Array> {
  const { width, bufferSize, batchSize } = o;
  if (!Number.isSafeInteger(bufferSize) || bufferSize < 2) throw new UsageError(`mixing buffer size must be an integer ≥ 2, got ${bufferSize}`);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new UsageError(`batch size must be a positive integer, got ${batchSize}`);
  if (bufferSize < 2 * batchSize) throw new UsageError(`mixing buffer size ${bufferSize} must be at least twice the batch size ${batchSize}`);
  const prng = new Prng(o.seed);
  const buf = new Float32Array(bufferSize * width); // [bufferSize, width]
  const tmp = new Float32Array(width);
  let count = 0; // rows held
  // Rows of the source batch not yet taken into the buffer.
  let carry: Float32Array | undefined;
  let carryAt = 0;
  const it = source[Symbol.iterator]();
  let done = false;

  const fill = (): void => {
    while (count < bufferSize) {
      if (!carry || carryAt * width >= carry.length) {
        const next = it.next();
        if (next.done) {
          done = true;
          return;
        }
        if (next.value.length % width !== 0) throw new UsageError(`source batch of ${next.value.length} values is not a multiple of width ${width}`);
        carry = next.value;
        carryAt = 0;
        continue;
      }
      const take = Math.min(bufferSize - count, carry.length / width - carryAt);
      buf.set(carry.subarray(carryAt * width, (carryAt + take) * width), count * width);
      carryAt += take;
      count += take;
    }
  };
  const shuffle = (): void => {
    for (let i = count - 1; i > 0; i--) {
      // Lemire's multiply-shift: an index in [0, i] from 32 random bits (bias < 2^-8 for any buffer below 2^24 rows).
      const j = Math.floor((prng.nextU32() * (i + 1)) / 0x1_0000_0000);
      if (j === i) continue;
      tmp.set(buf.subarray(i * width, (i + 1) * width));
      buf.copyWithin(i * width, j * width, (j + 1) * width);
      buf.set(tmp, j * width);
    }
  };
  function* serve(rows: number): Generator<Float32Array> {
    for (let at = 0; at < rows; at += batchSize) {
      const n = Math.min(batchSize, rows - at);
      yield buf.slice(at * width, (at + n) * width);
    }
    // Keep the unserved rows at the front of the buffer.
    buf.copyWithin(0, rows * width, count * width);
    count -= rows;
  }

  while (!done) {
    fill();
    if (count === 0) return;
    shuffle();
    // Half the buffer, rounded down to whole batches, so that every batch but the very last is full.
    yield* serve(done ? count : Math.floor(count / 2 / batchSize) * batchSize);
  }
}
