/**
 * Streaming an activation cache back: the shards the manifest lists, in order, one in memory at a
 * time, each checked against the manifest (dtypes, [tokens, d_in], context ends within the shard)
 * before its data is used.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ActivationCacheError } from '../../errors.js';
import { SafetensorsFile } from '../../model/safetensors.js';
import type { CacheManifest } from './cache-manifest.js';
import { MANIFEST_FILE, readManifest } from './cache-manifest.js';

/** One shard's contents, checked against the manifest. */
export interface CacheShard {
  activations: Float32Array; // [tokens, d_in]
  /** The shard row right after each context that ends in this shard (non-decreasing, ≤ tokens). */
  contextEnds: Int32Array;
}

export interface ActivationCache {
  dir: string;
  manifest: CacheManifest;
  /** Shard `i` of the manifest's list. */
  shard(i: number): CacheShard;
  /** Each shard's activations, [tokens, d_in], in the order they were cached. */
  shards(): Generator<Float32Array>;
}

export function openActivationCache(dir: string): ActivationCache {
  const manifest = readManifest(dir);
  const shard = (i: number): CacheShard => {
    const s = manifest.shards[i];
    const path = join(dir, s.file);
    let file: SafetensorsFile;
    try {
      file = SafetensorsFile.open(path);
    } catch (e) {
      throw new ActivationCacheError(path, `listed in ${MANIFEST_FILE} but unreadable: ${(e as Error).message}`);
    }
    for (const [name, dtype] of [['activations', 'F32'], ['context_ends', 'I32']] as const) {
      if (!file.has(name)) throw new ActivationCacheError(path, `has no "${name}" tensor`);
      const info = file.info(name);
      if (info.dtype !== dtype) throw new ActivationCacheError(path, `"${name}" is ${info.dtype}, expected ${dtype}`);
    }
    const ends = file.info('context_ends');
    if (ends.shape.length !== 1) throw new ActivationCacheError(path, `"context_ends" has shape [${ends.shape.join(', ')}], expected one dimension`);
    const contextEnds = Int32Array.from(file.readNumbers('context_ends'));
    contextEnds.forEach((e, j) => {
      if (e < (j > 0 ? contextEnds[j - 1] : 0) || e > s.tokens) throw new ActivationCacheError(path, `context_ends[${j}] = ${e} is out of order or past the shard's ${s.tokens} activations`);
    });
    try {
      return { activations: file.readF32Checked('activations', [s.tokens, manifest.d_in]), contextEnds };
    } catch (e) {
      throw new ActivationCacheError(path, (e as Error).message);
    }
  };
  return {
    dir,
    manifest,
    shard,
    *shards() {
      for (let i = 0; i < manifest.shards.length; i++) yield shard(i).activations;
    },
  };
}

/** Bytes on disk of the manifest and the shards it lists. */
export function cacheDiskBytes(dir: string, manifest: CacheManifest): number {
  let bytes = 0;
  try {
    bytes += statSync(join(dir, MANIFEST_FILE)).size;
  } catch {
    // no manifest yet: nothing written
  }
  for (const s of manifest.shards) bytes += s.bytes;
  return bytes;
}
