import { UsageError } from '../errors.js';
import type { Backend } from '../tensor/backend.js';
import type { AttentionArgs, ModelKernels } from '../tensor/model-kernels.js';
import { alignedFloat32Array } from '../tensor/aligned-array.js';
import { activeBackend } from '../tensor/backend-registry.js';
import { ForwardWorkspace } from './forward-workspace.js';
import type { HookName } from './hook-points.js';
import { hookCount, LAYER_HOOKS } from './hook-points.js';
import { HookRegistry } from './hook-registry.js';
import { KVCache } from './kv-cache.js';
import type { LlamaConfig } from './llama-config.js';
import { headSize, kvDim } from './llama-config.js';
import type { LlamaWeights } from './llama-weights.js';
import { ropeTable } from './rope-table.js';

export interface ForwardOptions {
  /** Logits for every processed token ([T, vocab]) instead of only each row's last token ([rows, vocab]). */
  allLogits?: boolean;
  /**
   * Run only blocks 0..stopAtLayer−1 and return no logits (TransformerLens' `stop_at_layer`): for
   * reading a hook without paying for the layers after it. The cache is left holding only those
   * layers' keys, so use a throwaway cache.
   */
  stopAtLayer?: number;
  /**
   * Cache rows that also want logits at every token this call feeds them (a prompt scored token by
   * token: OpenAI's echo with logprobs), beside the last-token logits of all rows. Only these
   * rows' tokens go through the extra classifier product; ForwardResult.everyPosition holds them.
   */
  everyPositionRows?: ReadonlySet<number>;
}

/** Logits at every token of the rows in ForwardOptions.everyPositionRows: [their tokens, vocab], segment after segment. Owned by the caller. */
export interface EveryPositionLogits {
  logits: Float32Array;
  /** Cache row of each segment. */
  rows: Int32Array;
  /** Token offsets of each segment in `logits` (length rows+1). */
  rowStart: Int32Array;
}

/** Logits of one forward step. The arrays are views into reused buffers, valid until the next forward call. */
export interface ForwardResult {
  logits: Float32Array;
  /** Batch row of each segment, in the order the logits (or their token blocks) appear. */
  rows: Int32Array;
  /** Token offsets of each segment (length rows+1). */
  rowStart: Int32Array;
  /** With ForwardOptions.everyPositionRows naming a row of this call. */
  everyPosition?: EveryPositionLogits;
}

/** A spare cache larger than this is let go: its generations are long enough that one GC does not matter, and it would hold the memory. */
const MAX_SPARE_CACHE_BYTES = 256 * 2 ** 20;

// Offsets of each hook inside a layer's block of the hook table (see hook-points.ts).
const H = Object.fromEntries(LAYER_HOOKS.map((h, i) => [h, i])) as Record<(typeof LAYER_HOOKS)[number], number>;

/**
 * A Llama-architecture transformer (RMSNorm, RoPE, grouped-query attention, SwiGLU; Touvron et al.
 * 2023) over a batch of sequences with a KV cache. One forward call processes any number of new
 * tokens per row — a whole prompt (prefill, batched as matrix-matrix products) or one token
 * (decode) — for all rows at once; rows may have different lengths and positions.
 */
export class LlamaModel {
  readonly hooks: HookRegistry;
  private readonly ws: ForwardWorkspace;
  /** RoPE (cos, sin) for positions 0..ropePositions−1 (see ropeFor). */
  private cosSin: Float32Array = new Float32Array(0);
  private ropePositions = 0;
  private readonly hookNames: HookName[];
  /** The memory of the last withCache cache, for the next one. */
  private spareCache: KVCache | undefined;
  /** attentionRows segments of the current forward, grown to the largest batch seen. */
  private segmentTable = new Int32Array(0);

  constructor(
    readonly config: LlamaConfig,
    readonly weights: LlamaWeights,
    /** The whole backend, not only ModelKernels: SAE work on this model's activations (steering, feature statistics) runs on the same one. */
    readonly backend: Backend = activeBackend(),
  ) {
    this.hooks = new HookRegistry(config.nLayers);
    this.ws = new ForwardWorkspace(config);
    this.hookNames = new Array(hookCount(config.nLayers));
    this.hookNames[0] = 'hook_embed';
    for (let l = 0; l < config.nLayers; l++) {
      LAYER_HOOKS.forEach((h, i) => (this.hookNames[1 + l * LAYER_HOOKS.length + i] = `blocks.${l}.${h}`));
    }
    this.hookNames[this.hookNames.length - 1] = 'ln_final.hook_normalized';
  }

  /** A KV cache for `batchSize` rows of up to `capacity` positions. */
  newCache(batchSize = 1, capacity = this.config.seqLen): KVCache {
    return new KVCache(this.config, batchSize, capacity);
  }

  /**
   * Runs `fn` with a KV cache that lives only as long as the call (a generation, a scoring batch),
   * built over the memory of the last such cache when it is large enough. A fresh cache per call
   * put megabytes of ArrayBuffers on V8's external memory each time, and the full GC that this
   * pressure triggers (4–5 ms at 16 rows of stories15M) landed inside the next generation's decode.
   */
  withCache<T>(batchSize: number, capacity: number, fn: (cache: KVCache) => T): T {
    const spare = this.spareCache;
    this.spareCache = undefined; // a nested call gets its own cache
    const cache = new KVCache(this.config, batchSize, capacity, spare);
    try {
      return fn(cache);
    } finally {
      const keep = cache.floatsPerLayer() * 8 * this.config.nLayers <= MAX_SPARE_CACHE_BYTES ? cache : spare;
      const other = this.spareCache as KVCache | undefined; // a nested call's, handed back meanwhile
      if (keep && (!other || keep.floatsPerLayer() > other.floatsPerLayer())) this.spareCache = keep;
    }
  }

  /**
   * Appends `inputs[row]` to each row of `cache` (rows with no input are left alone) and returns the
   * next-token logits. Hooks registered on `this.hooks` run on this step's activations.
   */
  forward(cache: KVCache, inputs: readonly (ArrayLike<number> | undefined)[], opts: ForwardOptions = {}): ForwardResult {
    const c = this.config;
    const b: ModelKernels = this.backend;
    const ws = this.ws;
    const { rows, rowStart } = this.segments(cache, inputs);
    const T = rowStart[rowStart.length - 1];
    const nSeg = rows.length;
    ws.ensure(T, cache.capacity);
    const cosSin = this.ropeFor(cache.capacity);
    const dim = c.dim;
    const kv = kvDim(c);
    const hs = headSize(c);
    const w = this.weights;

    // Token embeddings and absolute positions.
    for (let s = 0; s < nSeg; s++) {
      const toks = inputs[rows[s]]!;
      const start = cache.lengths[rows[s]];
      for (let i = 0; i < toks.length; i++) {
        const t = rowStart[s] + i;
        ws.positions[t] = start + i;
        ws.x.set(w.tokenEmbedding.subarray(toks[i] * dim, (toks[i] + 1) * dim), t * dim);
      }
    }
    const positions = ws.positions.subarray(0, T);
    const hook = (idx: number, data: Float32Array, width: number): void => {
      if (!this.hooks.listening(idx)) return;
      this.hooks.run(idx, { name: this.hookNames[idx], data: data.subarray(0, T * width), width, rows, rowStart, positions });
    };
    hook(0, ws.x, dim);

    const args: AttentionArgs = { tokenOffset: 0, count: 0, startPos: 0, nHeads: c.nHeads, nKvHeads: c.nKvHeads, headSize: hs };
    const segments = this.attentionSegments(cache, rows, rowStart);
    for (let l = 0; l < c.nLayers; l++) {
      if (l === opts.stopAtLayer) return { logits: new Float32Array(0), rows, rowStart };
      const base = 1 + l * LAYER_HOOKS.length;
      hook(base + H.hook_resid_pre, ws.x, dim);

      // Attention: qkv projections of the normed residual, RoPE, append k/v to the cache, attend.
      b.rmsnorm(ws.xb, ws.x, w.rmsAtt[l], T, dim, c.normEps);
      b.matmul(ws.q, ws.xb, w.wq[l], T, dim, dim);
      b.matmul(ws.k, ws.xb, w.wk[l], T, dim, kv);
      b.matmul(ws.v, ws.xb, w.wv[l], T, dim, kv);
      hook(base + H['attn.hook_q'], ws.q, dim);
      hook(base + H['attn.hook_k'], ws.k, kv);
      hook(base + H['attn.hook_v'], ws.v, kv);
      b.rope(ws.q, positions, T, dim, hs, cosSin);
      b.rope(ws.k, positions, T, kv, hs, cosSin);
      for (let s = 0; s < nSeg; s++) {
        const row = rows[s];
        const at = (row * cache.capacity + cache.lengths[row]) * kv;
        cache.keys[l].set(ws.k.subarray(rowStart[s] * kv, rowStart[s + 1] * kv), at);
        cache.values[l].set(ws.v.subarray(rowStart[s] * kv, rowStart[s + 1] * kv), at);
      }
      if (this.hooks.listening(base + H['attn.hook_pattern'])) this.attendWithPatternHook(cache, l, rows, rowStart, args, base + H['attn.hook_pattern']);
      else b.attentionRows(ws.z, ws.q, cache.keys[l], cache.values[l], segments, nSeg, cache.capacity, args, ws.scores);
      hook(base + H['attn.hook_z'], ws.z, dim);
      b.matmul(ws.xb, ws.z, w.wo[l], T, dim, dim);
      hook(base + H.hook_attn_out, ws.xb, dim);
      b.addInPlace(ws.x, ws.xb, T * dim);
      hook(base + H.hook_resid_mid, ws.x, dim);

      // SwiGLU feed-forward: w2(silu(w1·x) ⊙ w3·x).
      b.rmsnorm(ws.xb, ws.x, w.rmsFfn[l], T, dim, c.normEps);
      b.matmul(ws.h1, ws.xb, w.w1[l], T, dim, c.hiddenDim);
      b.matmul(ws.h3, ws.xb, w.w3[l], T, dim, c.hiddenDim);
      hook(base + H['mlp.hook_pre'], ws.h1, c.hiddenDim);
      b.swiglu(ws.h1, ws.h3, T * c.hiddenDim);
      hook(base + H['mlp.hook_post'], ws.h1, c.hiddenDim);
      b.matmul(ws.xb, ws.h1, w.w2[l], T, c.hiddenDim, dim);
      hook(base + H.hook_mlp_out, ws.xb, dim);
      b.addInPlace(ws.x, ws.xb, T * dim);
      hook(base + H.hook_resid_post, ws.x, dim);
    }
    for (let s = 0; s < nSeg; s++) cache.lengths[rows[s]] += rowStart[s + 1] - rowStart[s];

    b.rmsnorm(ws.xb, ws.x, w.rmsFinal, T, dim, c.normEps);
    hook(this.hookNames.length - 1, ws.xb, dim);
    if (opts.allLogits) {
      b.matmul(ws.logits, ws.xb, w.classifier, T, dim, c.vocabSize);
      return { logits: ws.logits.subarray(0, T * c.vocabSize), rows, rowStart };
    }
    const everyPosition = opts.everyPositionRows && this.everyPositionLogits(rows, rowStart, opts.everyPositionRows);
    // Only each row's last token needs a distribution: gather those rows, one classifier matmul.
    for (let s = 0; s < nSeg; s++) ws.lastRows.set(ws.xb.subarray((rowStart[s + 1] - 1) * dim, rowStart[s + 1] * dim), s * dim);
    b.matmul(ws.logits, ws.lastRows, w.classifier, nSeg, dim, c.vocabSize);
    return { logits: ws.logits.subarray(0, nSeg * c.vocabSize), rows, rowStart, ...(everyPosition ? { everyPosition } : {}) };
  }

  /** The classifier over every final-normed token (ws.xb) of the segments whose row is in `wanted`; undefined when none is. */
  private everyPositionLogits(rows: Int32Array, rowStart: Int32Array, wanted: ReadonlySet<number>): EveryPositionLogits | undefined {
    const { dim, vocabSize } = this.config;
    const segs: number[] = [];
    const starts = [0];
    for (let s = 0; s < rows.length; s++) {
      if (!wanted.has(rows[s])) continue;
      segs.push(rows[s]);
      starts.push(starts[starts.length - 1] + rowStart[s + 1] - rowStart[s]);
    }
    if (segs.length === 0) return undefined;
    const n = starts[starts.length - 1];
    const x = alignedFloat32Array(n * dim);
    for (let s = 0, at = 0; s < rows.length; s++) {
      if (!wanted.has(rows[s])) continue;
      x.set(this.ws.xb.subarray(rowStart[s] * dim, rowStart[s + 1] * dim), at * dim);
      at += rowStart[s + 1] - rowStart[s];
    }
    const logits = alignedFloat32Array(n * vocabSize);
    this.backend.matmul(logits, x, this.weights.classifier, n, dim, vocabSize);
    return { logits, rows: Int32Array.from(segs), rowStart: Int32Array.from(starts) };
  }

  /**
   * The RoPE table covering `positions` positions, grown (geometrically, up to seq_len) as caches
   * grow. Not built for all of seq_len up front: a model file's seq_len is a limit nothing in the
   * file's size bounds, and a header saying 2^24 would cost seconds and hundreds of MB at load.
   */
  private ropeFor(positions: number): Float32Array {
    if (positions > this.ropePositions) {
      this.ropePositions = Math.min(this.config.seqLen, Math.max(positions, 2 * this.ropePositions));
      this.cosSin = ropeTable(this.config, this.ropePositions);
    }
    return this.cosSin;
  }

  /** Validates inputs against the cache and lays out the packed segments. */
  private segments(cache: KVCache, inputs: readonly (ArrayLike<number> | undefined)[]): { rows: Int32Array; rowStart: Int32Array } {
    if (inputs.length > cache.batchSize) throw new UsageError(`${inputs.length} input rows for a KV cache of batch size ${cache.batchSize}`);
    const rows: number[] = [];
    const starts = [0];
    const vocab = this.config.vocabSize;
    for (let r = 0; r < inputs.length; r++) {
      const toks = inputs[r];
      if (!toks || toks.length === 0) continue;
      if (cache.lengths[r] + toks.length > cache.capacity) {
        throw new UsageError(`row ${r}: ${cache.lengths[r]} cached + ${toks.length} new tokens exceed the context of ${cache.capacity} positions`);
      }
      for (let i = 0; i < toks.length; i++) {
        const t = toks[i];
        if (!Number.isInteger(t) || t < 0 || t >= vocab) throw new UsageError(`row ${r}: token id ${t} at index ${i} is outside the vocabulary 0..${vocab - 1}`);
      }
      rows.push(r);
      starts.push(starts[starts.length - 1] + toks.length);
    }
    if (rows.length === 0) throw new UsageError('forward called with no tokens');
    return { rows: Int32Array.from(rows), rowStart: Int32Array.from(starts) };
  }

  /** (tokenOffset, count, startPos, cacheRow) of every row in this forward, for attentionRows. */
  private attentionSegments(cache: KVCache, rows: Int32Array, rowStart: Int32Array): Int32Array {
    if (this.segmentTable.length < 4 * rows.length) this.segmentTable = new Int32Array(4 * rows.length);
    const t = this.segmentTable;
    for (let s = 0; s < rows.length; s++) {
      t[4 * s] = rowStart[s];
      t[4 * s + 1] = rowStart[s + 1] - rowStart[s];
      t[4 * s + 2] = cache.lengths[rows[s]];
      t[4 * s + 3] = rows[s];
    }
    return t;
  }

  private segmentArgs(args: AttentionArgs, cache: KVCache, row: number, rowStart: Int32Array, s: number): void {
    args.tokenOffset = rowStart[s];
    args.count = rowStart[s + 1] - rowStart[s];
    args.startPos = cache.lengths[row];
  }

  /** Attention in two steps so a hook can read or replace the softmaxed pattern ([T, nHeads, keyLen]). */
  private attendWithPatternHook(cache: KVCache, l: number, rows: Int32Array, rowStart: Int32Array, args: AttentionArgs, idx: number): void {
    const ws = this.ws;
    const nSeg = rows.length;
    const T = rowStart[nSeg];
    let keyLen = 0;
    for (let s = 0; s < nSeg; s++) keyLen = Math.max(keyLen, cache.lengths[rows[s]] + rowStart[s + 1] - rowStart[s]);
    const width = this.config.nHeads * keyLen;
    const pattern = ws.ensurePattern(T * width).subarray(0, T * width);
    for (let s = 0; s < nSeg; s++) {
      this.segmentArgs(args, cache, rows[s], rowStart, s);
      this.backend.attentionPattern(pattern, ws.q, cache.rowView(cache.keys[l], rows[s]), args, keyLen);
    }
    this.hooks.run(idx, { name: this.hookNames[idx], data: pattern, width, rows, rowStart, positions: ws.positions.subarray(0, T) });
    for (let s = 0; s < nSeg; s++) {
      this.segmentArgs(args, cache, rows[s], rowStart, s);
      this.backend.attentionApply(ws.z, pattern, cache.rowView(cache.values[l], rows[s]), args, keyLen);
    }
  }
}
