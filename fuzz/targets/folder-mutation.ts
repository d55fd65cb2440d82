/**
 * Inputs that are folders of files (an SAE folder, an activation cache): every file of a valid
 * seed folder is copied, and one of them is mutated by its kind — JSON, safetensors, or raw bytes
 * — or left out.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mutateBytes } from '../byte-mutators.js';
import type { FuzzRng } from '../fuzz-rng.js';
import type { JsonHints } from '../json-mutators.js';
import { mutateJson } from '../json-mutators.js';
import { mutateSafetensors } from './safetensors-mutation.js';
import { writeFile } from './seed-files.js';

export type SeedFolder = Map<string, Uint8Array>;

/** The files of a seed folder written by our own writers, in memory. */
export function readSeedFolder(dir: string): SeedFolder {
  return new Map(readdirSync(dir).sort().map((name) => [name, new Uint8Array(readFileSync(join(dir, name)))]));
}

export function writeSeedFolder(seed: SeedFolder, dir: string): void {
  for (const [name, bytes] of seed) writeFile(dir, name, bytes);
}

/** Writes `seed` into `dir` with one file mutated (or, rarely, missing); returns what was done. */
export function writeMutatedFolder(seed: SeedFolder, rng: FuzzRng, dir: string, hints: JsonHints = {}): string {
  const names = [...seed.keys()];
  const victim = rng.pick(names);
  let how = '';
  for (const name of names) {
    let bytes = seed.get(name)!;
    if (name === victim) {
      if (rng.chance(0.04)) {
        how = `${name} left out`;
        continue;
      }
      if (name.endsWith('.json')) {
        const m = mutateJson(new TextDecoder().decode(bytes), rng, hints);
        bytes = new TextEncoder().encode(m.text);
        how = `${name}: ${m.how}`;
      } else {
        const m = name.endsWith('.safetensors') ? mutateSafetensors(bytes, rng, hints.strings) : mutateBytes(bytes, rng);
        bytes = m.bytes;
        how = `${name}: ${m.how}`;
      }
    }
    writeFile(dir, name, bytes);
  }
  return how;
}
