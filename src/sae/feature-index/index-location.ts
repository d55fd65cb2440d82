/**
 * Where a feature index lives. An SAE's index is `features.sqlite` in the SAE's folder; where that
 * folder cannot be written (a shipped assets/ folder in a read-only install), it goes to the user's
 * cache instead, `$XDG_CACHE_HOME/tinymorph/features/` (XDG Base Directory spec; default
 * `~/.cache`), named by the SAE folder and a hash of its absolute path so two SAEs never share one.
 */
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';

export const INDEX_FILENAME = 'features.sqlite';

/** The cache directory for indexes of SAEs whose own folder is read-only. */
export function indexCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'tinymorph', 'features');
}

/** The index path beside the SAE, and the fallback one in the cache. */
export function indexCandidates(saeDir: string): [string, string] {
  const abs = resolve(saeDir);
  const tag = createHash('sha256').update(abs).digest('hex').slice(0, 12);
  return [join(abs, INDEX_FILENAME), join(indexCacheDir(), `${basename(abs)}-${tag}.sqlite`)];
}

/** The existing index of the SAE in `saeDir`, beside it or in the cache; undefined when none is built. */
export function findIndex(saeDir: string): string | undefined {
  return indexCandidates(saeDir).find((p) => existsSync(p));
}

/** Where a new index of the SAE in `saeDir` is written: beside it when that folder is writable, else the cache. */
export function newIndexPath(saeDir: string): string {
  const [beside, cached] = indexCandidates(saeDir);
  try {
    accessSync(resolve(saeDir), constants.W_OK);
    return beside;
  } catch {
    mkdirSync(indexCacheDir(), { recursive: true });
    return cached;
  }
}
