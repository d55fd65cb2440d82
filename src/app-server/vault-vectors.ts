/**
 * Style vectors the writer built, kept in the vault: `.tinymorph/vectors/<name>.safetensors`, in
 * the steering-vector file format (steer/steering-vector-set.ts) that `tinymorph vector style`
 * writes and `--vector FILE` reads. The app saves each vector the model server builds and defines
 * them all again with the engine when it starts, so a preset made from notes survives a restart.
 * Only this process names these files: a request names a vector, never a path (the name is a word,
 * api-schemas.ts VECTOR_NAME).
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SteeringError } from '../errors.js';
import { VECTOR_NAME } from '../serve/api-schemas.js';
import { checkVectorWidths, type SteeringContext } from '../steer/steering-context.js';
import type { SteeringVectorSet } from '../steer/steering-vector-set.js';
import { readSteeringVectors, writeSteeringVectors } from '../steer/steering-vector-set.js';
import { APP_FOLDER } from '../vault/vault.js';

const EXTENSION = '.safetensors';

export const vaultVectorsDir = (vaultRoot: string): string => join(vaultRoot, APP_FOLDER, 'vectors');

/** Writes (atomically) the vector built under `name`. */
export function saveVaultVector(vaultRoot: string, name: string, set: SteeringVectorSet): void {
  if (!VECTOR_NAME.test(name)) throw new SteeringError(`vector name ${JSON.stringify(name)} is not a plain word`);
  const dir = vaultVectorsDir(vaultRoot);
  mkdirSync(dir, { recursive: true });
  writeSteeringVectors(join(dir, `${name}${EXTENSION}`), set);
}

/**
 * Defines every vector kept in the vault with `steering`; returns the names loaded. A file that
 * does not load (truncated, another model's width) is reported through `warn` and skipped: one bad
 * file must not keep the app from starting.
 */
export function loadVaultVectors(vaultRoot: string, steering: SteeringContext, warn: (message: string) => void): string[] {
  const dir = vaultVectorsDir(vaultRoot);
  if (!existsSync(dir)) return [];
  const loaded: string[] = [];
  for (const file of readdirSync(dir).sort()) {
    const name = file.slice(0, -EXTENSION.length);
    if (!file.endsWith(EXTENSION) || !VECTOR_NAME.test(name)) continue;
    try {
      const path = join(dir, file);
      const set = readSteeringVectors(path, steering.model.config.nLayers);
      checkVectorWidths(path, set, steering.model.config);
      steering.defineVectorSet(name, set);
      loaded.push(name);
    } catch (e) {
      warn(`${join(dir, file)}: ${(e as Error).message}; skipped`);
    }
  }
  return loaded;
}
