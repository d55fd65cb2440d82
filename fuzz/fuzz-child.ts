/**
 * The process that runs library-level fuzz inputs (started by runner.ts with a heap cap). For
 * each input it says which one it starts — before reading it, so that if this process hangs or
 * dies the parent knows the input to blame — then reports the outcome. An input whose reading
 * left far more ArrayBuffer memory than the input's size is an allocation driven by an unchecked
 * size field, even when it succeeded: readers must check sizes against the file before allocating.
 */
import { cpSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FuzzTarget, PreparedTarget } from './fuzz-target.js';
import { FuzzRng } from './fuzz-rng.js';
import type { Outcome } from './outcome.js';
import { classifyError, firstLine } from './outcome.js';

export interface RunRequest {
  target: string;
  seed: number;
  indices: number[];
  /** Copy each crashing input's files to <saveDir>/<format>-<index>/ (here, before the next input replaces them). */
  saveDir?: string;
}

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'begin'; index: number; how: string; inputBytes: number }
  | { type: 'done'; index: number; outcome: Outcome }
  | { type: 'finished' };

/** Memory an input may leave allocated beyond 16× its own size before it counts as an unchecked size. */
const ALLOCATION_SLACK = 64 * 2 ** 20;
/** Garbage ArrayBuffers above this are collected before the next input, so the next measure starts low. */
const GC_ABOVE = 32 * 2 ** 20;

const work = process.argv[2];
/** The module that names the targets: ours, or (the harness's own tests) one of deliberately broken targets. */
const registry = (await import(process.argv[3] ?? './targets/index.js')) as { targetByName(name: string): FuzzTarget };
const inputDir = join(work, 'input');
const prepared = new Map<string, PreparedTarget>();

function send(m: ChildMessage): Promise<void> {
  return new Promise((resolve) => process.send!(m, () => resolve()));
}

function prepare(target: FuzzTarget): PreparedTarget {
  let p = prepared.get(target.name);
  if (!p) {
    const dir = join(work, 'seeds', target.name);
    mkdirSync(dir, { recursive: true });
    p = target.prepare(dir);
    prepared.set(target.name, p);
  }
  return p;
}

/** How often one of an input's files is a directory instead (cheap; hostile paths that block or never end are the CLI fuzz's). */
const DIRECTORY_CHANCE = 0.01;

/** Replaces one file of the input with an empty directory of the same name. */
function fileBecomesDirectory(rng: FuzzRng): string {
  const files = readdirSync(inputDir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(inputDir, f)).isFile());
  if (files.length === 0) return '';
  const victim = rng.pick(files);
  rmSync(join(inputDir, victim));
  mkdirSync(join(inputDir, victim));
  return `; ${victim} is a directory`;
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? dirBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size;
  return n;
}

function arrayBuffers(): number {
  const now = process.memoryUsage().arrayBuffers;
  if (now > GC_ABOVE && globalThis.gc) {
    globalThis.gc();
    return process.memoryUsage().arrayBuffers;
  }
  return now;
}

async function run(req: RunRequest): Promise<void> {
  const target = registry.targetByName(req.target);
  const p = prepare(target);
  await send({ type: 'ready' });
  for (const index of req.indices) {
    rmSync(inputDir, { recursive: true, force: true });
    mkdirSync(inputDir, { recursive: true });
    const rng = new FuzzRng(req.seed, target.name, index);
    const how = p.write(rng, inputDir) + (rng.chance(DIRECTORY_CHANCE) ? fileBecomesDirectory(rng) : '');
    const inputBytes = dirBytes(inputDir);
    await send({ type: 'begin', index, how, inputBytes });
    const before = arrayBuffers();
    let outcome: Outcome;
    try {
      p.read(inputDir);
      outcome = { kind: 'valid' };
    } catch (e) {
      outcome = classifyError(e);
    }
    const grown = process.memoryUsage().arrayBuffers - before;
    if (grown > ALLOCATION_SLACK + 16 * inputBytes) {
      outcome = {
        kind: 'crash',
        crashClass: `memory: ${target.name} allocated more than 16× its input`,
        message: firstLine(`${Math.round(grown / 2 ** 20)} MB of ArrayBuffers for a ${inputBytes}-byte input (${outcome.kind === 'crash' ? outcome.message : outcome.kind})`),
      };
    }
    if (outcome.kind === 'crash' && req.saveDir) cpSync(inputDir, join(req.saveDir, `${target.name}-${index}`), { recursive: true });
    await send({ type: 'done', index, outcome });
  }
  await send({ type: 'finished' });
}

process.on('message', (m: RunRequest) => {
  void run(m);
});
