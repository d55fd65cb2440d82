/**
 * The files CLI inputs name: for every format, its valid seed and a few mutated inputs made by
 * that format's target, plus paths that are hostile whatever the format — missing, a directory,
 * empty, binary, /dev/zero (endless), a FIFO nobody writes to (an open that never returns).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validationTextPath } from '../../src/model/embedded.js';
import { corpusDocuments } from '../../src/sae/activation-store/activation-store.js';
import { writeSaeLensFolder } from '../../src/sae/saelens-format.js';
import { FuzzRng } from '../fuzz-rng.js';
import { TARGETS } from '../targets/index.js';
import { featureIndexSae } from '../targets/feature-index.js';

/** Per format: the valid seed first, then mutated inputs. */
export type Pool = Map<string, string[]>;

export interface PoolPaths {
  pool: Pool;
  /** The SAE folder the pooled feature indexes were built from. */
  indexSae: string;
  /** Small UTF-8 texts: a few stories, examples one per line, JSONL pairs. */
  stories: string;
  lines: string;
  pairs: string;
  /** Paths no reader should accept as any format. */
  hostile: string[];
}

const MUTATED_PER_FORMAT = 4;

/** The path to hand a command for an input folder: the folder, or its only file or folder. */
function entryPath(dir: string): string {
  const names = readdirSync(dir);
  if (names.length !== 1) return dir;
  const only = join(dir, names[0]);
  return statSync(only).isDirectory() ? entryPath(only) : only;
}

export function makePool(root: string, seed: number): PoolPaths {
  const pool: Pool = new Map();
  for (const target of TARGETS) {
    const seeds = join(root, 'seeds', target.name);
    mkdirSync(seeds, { recursive: true });
    const p = target.prepare(seeds);
    const paths: string[] = [];
    for (let i = -1; i < MUTATED_PER_FORMAT; i++) {
      const dir = join(root, target.name, String(i + 1));
      mkdirSync(dir, { recursive: true });
      if (i < 0) p.writeSeed(dir);
      else p.write(new FuzzRng(seed, `cli-pool-${target.name}`, i), dir);
      paths.push(entryPath(dir));
    }
    pool.set(target.name, paths);
  }
  const indexSae = join(root, 'index-sae');
  writeSaeLensFolder(indexSae, featureIndexSae());
  const text = (name: string, content: string | Uint8Array) => {
    const path = join(root, name);
    writeFileSync(path, content);
    return path;
  };
  const docs = corpusDocuments(validationTextPath()).slice(0, 6);
  const hostile = [
    join(root, 'no-such-file'),
    root,
    text('empty.txt', ''),
    text('binary.bin', new FuzzRng(seed, 'binary', 0).bytes(4096)),
    text('latin1.txt', Buffer.from('caf\xe9 na\xefve \xff\xfe', 'latin1')),
    '/dev/zero',
    '/dev/null',
  ];
  try {
    execFileSync('mkfifo', [join(root, 'fifo')]);
    hostile.push(join(root, 'fifo'));
  } catch {
    // no mkfifo here: the FIFO case is skipped
  }
  return {
    pool,
    indexSae,
    stories: text('stories.txt', docs.join('\n\n')),
    lines: text('lines.txt', docs.map((d) => d.split('\n')[0]).join('\n')),
    pairs: text('pairs.jsonl', docs.map((d, i) => JSON.stringify({ positive: d.slice(0, 80), negative: docs[(i + 1) % docs.length].slice(0, 80) })).join('\n')),
    hostile,
  };
}
