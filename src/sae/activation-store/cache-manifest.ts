/**
 * The manifest of an activation cache folder: what was cached (model, hook, context settings), the
 * complete shards in order, and where in the context stream each shard ends, so that a rerun
 * resumes right after the last complete shard. Written atomically after each shard: a shard on disk
 * that the manifest does not list (a crash between the two writes) is simply written again.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ActivationCacheError } from '../../errors.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { describeValue } from '../../util/describe-value.js';
import { READ_LIMITS, readTextBounded } from '../../util/bounded-read.js';
import { describeFsError } from '../../util/fs-error.js';
import { parseJson } from '../../util/parse-json.js';
import { formatFieldPath, mustBe, nonNegativeInt, validateJson } from '../../util/validate-json.js';

export const MANIFEST_FILE = 'manifest.json';
const FORMAT = 'tinymorph-activation-cache';
/** 2: shards hold `context_ends` (version 1 caches: cache again into a new folder). */
const VERSION = 2;

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
  const fail = (problem: string) => new ActivationCacheError(path, problem);
  const raw = parseJson(text, READ_LIMITS.manifest.maxBytes, fail);
  validateJson(MANIFEST_SCHEMA, raw, (field, problem) => fail(field.length === 0 ? problem : `"${formatFieldPath(field)}" ${problem}`));
  return raw as CacheManifest;
}

const is = <T extends string | number>(value: T, expected: string) => z.literal(value, { error: (issue) => `is ${describeValue(issue.input)}, ${expected}` });
const string = z.string(mustBe('a string'));
const bool = z.boolean(mustBe('true or false'));
const MANIFEST_SCHEMA = z
  .looseObject(
    {
      format: is(FORMAT, `expected "${FORMAT}"`),
      version: is(VERSION, `this build reads version ${VERSION} (run \`tinymorph activations cache\` into a new folder)`),
      dtype: is('F32', 'expected "F32"'),
      model: string,
      corpus: string,
      hook: string,
      prepend_bos: bool,
      exclude_special_tokens: bool,
      complete: bool,
      corpus_exhausted: bool,
      d_in: nonNegativeInt,
      context_size: nonNegativeInt,
      shard_tokens: nonNegativeInt,
      target_tokens: nonNegativeInt,
      total_tokens: nonNegativeInt,
      shards: z.array(
        z.looseObject(
          {
            file: z.string(mustBe('a file name inside the folder')).regex(/^[\w.-]+$/, mustBe('a file name inside the folder')),
            tokens: nonNegativeInt,
            bytes: nonNegativeInt,
            next_context: nonNegativeInt,
            next_offset: nonNegativeInt,
          },
          mustBe('an object'),
        ),
        mustBe('an array'),
      ),
    },
    mustBe('a JSON object'),
  )
  .superRefine((m, ctx) => {
    const sum = m.shards.reduce((total, s) => total + s.tokens, 0);
    if (sum !== m.total_tokens) ctx.addIssue({ code: 'custom', path: ['total_tokens'], message: `is ${m.total_tokens} but the shards hold ${sum}` });
  });

/** The first setting where `m` and `s` differ, as "key: cached X, asked Y", or undefined. */
export function settingsMismatch(m: CacheSettings, s: CacheSettings): string | undefined {
  for (const k of SETTING_KEYS) {
    if (m[k] !== s[k]) return `${k}: the cache has ${JSON.stringify(m[k])}, this run asks for ${JSON.stringify(s[k])}`;
  }
  return undefined;
}
