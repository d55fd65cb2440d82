/**
 * Runs the inputs of one library-level target in a child process (fuzz-child.ts) under watch:
 * a heap cap (--max-old-space-size), a resident-memory cap polled from /proc, and a watchdog that
 * kills the child when an input gives no answer in time. A child that dies or is killed is
 * restarted after the input it was on; that input is a crash of its own class (hang, memory,
 * fatal exit), and its files are kept for reproduction when a save folder is given.
 */
import { fork } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, RunRequest } from './fuzz-child.js';
import type { Outcome } from './outcome.js';
import { firstLine } from './outcome.js';
import { residentBytes } from './resident-memory.js';
import type { FormatReport } from './report.js';
import { newFormatReport, recordOutcome } from './report.js';

export interface Limits {
  /** An input that gives no answer in this long is a hang. */
  hangMs: number;
  /** Heap cap of the child (MB). */
  heapMb: number;
  /** Resident memory above this kills the child: an allocation nothing bounded. */
  rssBytes: number;
}

export const DEFAULT_LIMITS: Limits = { hangMs: 10_000, heapMb: 512, rssBytes: 1.5 * 2 ** 30 };

export interface TargetRun {
  target: string;
  seed: number;
  /** Inputs to try, in order (the run stops early at the deadline). */
  indices: number[];
  /** Date.now() after which no new batch starts. */
  deadline: number;
  limits?: Limits;
  /** Copy each crashing input's files to <saveDir>/<format>-<index>/. */
  saveDir?: string;
  /** A module exporting `targetByName` to use instead of targets/index.js (the harness's own tests). */
  registry?: string;
}

/** Inputs handed to the child at a time; the deadline is checked between batches. */
const BATCH = 25;
/** Making the seeds may load a model and build a feature index. */
const PREPARE_MS = 180_000;

const childScript = join(dirname(fileURLToPath(import.meta.url)), 'fuzz-child.js');

export async function runTarget(run: TargetRun): Promise<FormatReport> {
  const report = newFormatReport(run.target);
  const limits = run.limits ?? DEFAULT_LIMITS;
  const work = mkdtempSync(join(tmpdir(), 'tm-fuzz-'));
  try {
    let next = 0;
    while (next < run.indices.length && Date.now() < run.deadline) {
      next = await oneChild(run, limits, work, report, next);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return report;
}

/** Runs inputs from position `from` in one child until they are done, the deadline passes, or the child dies; returns the next position. */
function oneChild(run: TargetRun, limits: Limits, work: string, report: FormatReport, from: number): Promise<number> {
  return new Promise((resolve) => {
    const child = fork(childScript, [work, ...(run.registry ? [run.registry] : [])], {
      execArgv: [`--max-old-space-size=${limits.heapMb}`, '--expose-gc', '--enable-source-maps'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8192)));
    let pos = from;
    let current: { index: number; how: string } | undefined;
    let killedFor: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    const watch = (ms: number, why: string) => {
      clearTimeout(timer);
      timer = setTimeout(() => kill(why), ms);
    };
    const kill = (why: string) => {
      killedFor ??= why;
      child.kill('SIGKILL');
    };
    const rssPoll = setInterval(() => {
      if (child.pid !== undefined && residentBytes(child.pid) > limits.rssBytes) kill(`memory: resident memory over ${Math.round(limits.rssBytes / 2 ** 20)} MB`);
    }, 100);
    const sendBatch = () => {
      if (pos >= run.indices.length || Date.now() >= run.deadline) {
        child.kill('SIGKILL');
        return;
      }
      const req: RunRequest = { target: run.target, seed: run.seed, indices: run.indices.slice(pos, pos + BATCH), saveDir: run.saveDir };
      watch(PREPARE_MS, `prepare of ${run.target} took over ${PREPARE_MS / 1000} s`);
      child.send(req);
    };
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'ready') watch(limits.hangMs, `hang: no result in ${limits.hangMs / 1000} s`);
      else if (m.type === 'begin') {
        current = { index: m.index, how: m.how };
        watch(limits.hangMs, `hang: no result in ${limits.hangMs / 1000} s`);
      } else if (m.type === 'done') {
        recordOutcome(report, m.index, current?.how ?? '', m.outcome);
        current = undefined;
        pos++;
      } else sendBatch();
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      clearInterval(rssPoll);
      if (current !== undefined) {
        const outcome: Outcome = { kind: 'crash', crashClass: killedFor ?? deathClass(stderr, code, signal), message: firstLine(killedFor ?? lastLines(stderr)) };
        recordOutcome(report, current.index, current.how, outcome);
        save(run, work, current.index);
        pos++;
      } else if (killedFor !== undefined || (code !== 0 && signal !== 'SIGKILL')) {
        // Died outside an input (while making seeds): the harness itself is broken; stop this format.
        report.harnessError = `${killedFor ?? `child exited (${signal ?? code})`}: ${lastLines(stderr)}`;
        pos = run.indices.length;
      }
      resolve(pos);
    });
    child.on('spawn', sendBatch);
  });
}

/** Keeps the files of the input a dead child was on (the child saves the crashes it reports itself). */
function save(run: TargetRun, work: string, index: number): void {
  if (run.saveDir) cpSync(join(work, 'input'), join(run.saveDir, `${run.target}-${index}`), { recursive: true });
}

function deathClass(stderr: string, code: number | null, signal: NodeJS.Signals | null): string {
  if (/heap out of memory|Allocation failed/.test(stderr)) return 'memory: JavaScript heap out of memory';
  const thrown = /^(\w*Error): /m.exec(stderr);
  if (thrown) return `process died: uncaught ${thrown[1]}`;
  return `process died (${signal ?? `exit code ${code}`})`;
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ');
}
