/**
 * The manifest of an activation cache folder: what was cached (model, hook, context settings), the
 * complete shards in order, and where in the context stream each shard ends, so that a rerun
 * resumes right after the last complete shard. Written atomically after each shard: a shard on disk
 * that the manifest does not list (a crash between the two writes) is simply written again.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ActivationCacheError } from '../../errors.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { READ_LIMITS, readTextBounded } from '../../util/bounded-read.js';
import { describeFsError } from '../../util/fs-error.js';

export const MANIFEST_FILE = 'manifest.json';
const FORMAT = 'tinymorph-activation-cache';
const VERSION = 1;

export interface CacheShard {
  file: string;
  tokens: number;
  bytes: number;
  /** The context stream position right after this shard: context index and activations already taken from it. */
  next_context: number;
  next_offset: number;
}

/** The settings that define the activation stream; a resumed run must match them exactly. */
export interface CacheSettings {
  model: string;
  corpus: string;
  hook: string;
  d_in: number;
  context_size: number;
  prepend_bos: boolean;
  exclude_special_tokens: boolean;
  shard_tokens: number;
}

export interface CacheManifest extends CacheSettings {
  format: typeof FORMAT;
  version: typeof VERSION;
  dtype: 'F32';
  target_tokens: number;
  total_tokens: number;
  /** The target was reached, or the corpus ran out (`corpus_exhausted`). */
  complete: boolean;
  corpus_exhausted: boolean;
  shards: CacheShard[];
}

export const SETTING_KEYS = ['model', 'corpus', 'hook', 'd_in', 'context_size', 'prepend_bos', 'exclude_special_tokens', 'shard_tokens'] as const;

export function newManifest(settings: CacheSettings, targetTokens: number): CacheManifest {
  return { format: FORMAT, version: VERSION, ...settings, dtype: 'F32', target_tokens: targetTokens, total_tokens: 0, complete: false, corpus_exhausted: false, shards: [] };
}

export function writeManifest(dir: string, m: CacheManifest): void {
  writeFileAtomic(join(dir, MANIFEST_FILE), JSON.stringify(m, null, 2) + '\n');
}

/** The manifest of `dir`, checked field by field; errors name the file and the bad field. */
export function readManifest(dir: string): CacheManifest {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) throw new ActivationCacheError(path, `${describeFsError({ code: 'ENOENT' })} (not an activation cache folder, or caching never finished a shard)`);
  const text = readTextBounded(path, READ_LIMITS.manifest, (problem) => new ActivationCacheError(path, problem));
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ActivationCacheError(path, `is not valid JSON: ${(e as Error).message}`);
  }
  const fail = (problem: string) => new ActivationCacheError(path, problem);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw fail('must be a JSON object');
  const m = raw as Record<string, unknown>;
  if (m.format !== FORMAT) throw fail(`"format" is ${JSON.stringify(m.format)}, expected "${FORMAT}"`);
  if (m.version !== VERSION) throw fail(`"version" is ${JSON.stringify(m.version)}, this build reads version ${VERSION}`);
  if (m.dtype !== 'F32') throw fail(`"dtype" is ${JSON.stringify(m.dtype)}, expected "F32"`);
  for (const k of ['model', 'corpus', 'hook'] as const) if (typeof m[k] !== 'string') throw fail(`"${k}" must be a string`);
  for (const k of ['prepend_bos', 'exclude_special_tokens', 'complete', 'corpus_exhausted'] as const) if (typeof m[k] !== 'boolean') throw fail(`"${k}" must be true or false`);
  for (const k of ['d_in', 'context_size', 'shard_tokens', 'target_tokens', 'total_tokens'] as const) {
    if (!Number.isSafeInteger(m[k]) || (m[k] as number) < 0) throw fail(`"${k}" must be a non-negative integer, got ${JSON.stringify(m[k])}`);
  }
  if (!Array.isArray(m.shards)) throw fail('"shards" must be an array');
  let sum = 0;
  m.shards.forEach((s: unknown, i: number) => {
    const e = s as Record<string, unknown>;
    if (typeof e !== 'object' || e === null || typeof e.file !== 'string' || !/^[\w.-]+$/.test(e.file)) throw fail(`shards[${i}] must name a file inside the folder`);
    for (const k of ['tokens', 'bytes', 'next_context', 'next_offset'] as const) {
      if (!Number.isSafeInteger(e[k]) || (e[k] as number) < 0) throw fail(`shards[${i}].${k} must be a non-negative integer, got ${JSON.stringify(e[k])}`);
    }
    sum += e.tokens as number;
  });
  if (sum !== m.total_tokens) throw fail(`"total_tokens" is ${m.total_tokens} but the shards hold ${sum}`);
  return m as unknown as CacheManifest;
}

/** The first setting where `m` and `s` differ, as "key: cached X, asked Y", or undefined. */
export function settingsMismatch(m: CacheSettings, s: CacheSettings): string | undefined {
  for (const k of SETTING_KEYS) {
    if (m[k] !== s[k]) return `${k}: the cache has ${JSON.stringify(m[k])}, this run asks for ${JSON.stringify(s[k])}`;
  }
  return undefined;
}
