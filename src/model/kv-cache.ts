import { UsageError } from '../errors.js';
import { alignedFloat32Array } from '../tensor/aligned-array.js';
import type { LlamaConfig } from './llama-config.js';
import { kvDim } from './llama-config.js';

/**
 * Keys and values of every processed position, per layer, for a batch of independent sequences
 * ("rows"). Layout per layer: [batchSize, capacity, kvDim], row-major, keys after RoPE.
 */
export class KVCache {
  readonly keys: Float32Array[];
  readonly values: Float32Array[];
  /** Positions already stored, per row. */
  readonly lengths: Int32Array;
  readonly kvDim: number;

  constructor(
    config: LlamaConfig,
    readonly batchSize: number,
    readonly capacity: number,
  ) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError(`batch size must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > config.seqLen) {
      throw new UsageError(`KV cache capacity must be 1..${config.seqLen} (the model's context length), got ${capacity}`);
    }
    this.kvDim = kvDim(config);
    const perLayer = batchSize * capacity * this.kvDim;
    this.keys = Array.from({ length: config.nLayers }, () => alignedFloat32Array(perLayer));
    this.values = Array.from({ length: config.nLayers }, () => alignedFloat32Array(perLayer));
    this.lengths = new Int32Array(batchSize);
  }

  /** Forgets a row's positions so the slot can hold a new sequence (the old values are simply overwritten). */
  resetRow(row: number): void {
    this.lengths[row] = 0;
  }

  /** View of one row's [capacity, kvDim] keys or values in one layer. */
  rowView(store: Float32Array, row: number): Float32Array {
    const n = this.capacity * this.kvDim;
    return store.subarray(row * n, (row + 1) * n);
  }
}
