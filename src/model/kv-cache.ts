import { totalmem } from 'node:os';
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

  /** Whole per-layer arrays (keys then values); `keys`/`values` are their first batchSize·capacity·kvDim floats. */
  private readonly stores: Float32Array[];

  /**
   * `reuse`: a cache nobody uses any more; its memory is taken over when each layer's array is
   * large enough (what it held is never read: attention reads only the positions written since).
   */
  constructor(
    config: LlamaConfig,
    readonly batchSize: number,
    readonly capacity: number,
    reuse?: KVCache,
  ) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError(`batch size must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > config.seqLen) {
      throw new UsageError(`KV cache capacity must be 1..${config.seqLen} (the model's context length), got ${capacity}`);
    }
    this.kvDim = kvDim(config);
    const perLayer = batchSize * capacity * this.kvDim;
    const fits = reuse !== undefined && reuse.stores.length === 2 * config.nLayers && reuse.floatsPerLayer() >= perLayer;
    // Typed arrays are allocated lazily: one far beyond memory fails (or meets the OOM killer) only once written.
    const bytes = 4 * 2 * config.nLayers * perLayer;
    if (!fits && bytes > totalmem()) {
      throw new UsageError(`a KV cache of ${batchSize} rows × ${capacity} positions needs ${(bytes / 2 ** 30).toFixed(1)} GiB, more than this machine's ${(totalmem() / 2 ** 30).toFixed(1)} GiB`);
    }
    this.stores = fits ? reuse.stores : Array.from({ length: 2 * config.nLayers }, () => alignedFloat32Array(perLayer));
    this.keys = this.stores.slice(0, config.nLayers).map((a) => a.subarray(0, perLayer));
    this.values = this.stores.slice(config.nLayers).map((a) => a.subarray(0, perLayer));
    this.lengths = new Int32Array(batchSize);
  }

  /** Floats each layer's key (and value) array can hold: the largest batchSize·capacity·kvDim a cache reusing this one may have. */
  floatsPerLayer(): number {
    return this.stores[0].length;
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
