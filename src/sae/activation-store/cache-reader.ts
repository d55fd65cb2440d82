/**
 * Streaming an activation cache back: the shards the manifest lists, in order, one in memory at a
 * time, each checked against the manifest (dtype, [tokens, d_in]) before its data is used.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ActivationCacheError } from '../../errors.js';
import { SafetensorsFile } from '../../model/safetensors.js';
import type { CacheManifest } from './cache-manifest.js';
import { MANIFEST_FILE, readManifest } from './cache-manifest.js';

export interface ActivationCache {
  dir: string;
  manifest: CacheManifest;
  /** Each shard's activations, [tokens, d_in], in the order they were cached. */
  shards(): Generator<Float32Array>;
}

export function openActivationCache(dir: string): ActivationCache {
  const manifest = readManifest(dir);
  return {
    dir,
    manifest,
    *shards() {
      for (const s of manifest.shards) {
        const path = join(dir, s.file);
        let file: SafetensorsFile;
        try {
          file = SafetensorsFile.open(path);
        } catch (e) {
          throw new ActivationCacheError(path, `listed in ${MANIFEST_FILE} but unreadable: ${(e as Error).message}`);
        }
        if (!file.has('activations')) throw new ActivationCacheError(path, 'has no "activations" tensor');
        const info = file.info('activations');
        if (info.dtype !== 'F32') throw new ActivationCacheError(path, `"activations" is ${info.dtype}, expected F32`);
        try {
          yield file.readF32Checked('activations', [s.tokens, manifest.d_in]);
        } catch (e) {
          throw new ActivationCacheError(path, (e as Error).message);
        }
      }
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
