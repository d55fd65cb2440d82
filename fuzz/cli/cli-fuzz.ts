/**
 * The CLI as a user runs it: real `tinymorph` processes with generated arguments and environments
 * (cli-args.ts), each under a time limit and a resident-memory cap. Fine: exit 0, or exit 1 with
 * one `tinymorph: …` line, or exit 2 with commander's usage message — and never a stack frame on
 * stderr. Anything else is a crash, grouped by command and what went wrong.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { packageRoot } from '../../src/util/package-root.js';
import { FuzzRng } from '../fuzz-rng.js';
import type { Outcome } from '../outcome.js';
import { firstLine, messageProblem, topFrame } from '../outcome.js';
import type { FormatReport } from '../report.js';
import { newFormatReport, recordOutcome } from '../report.js';
import { residentBytes } from '../resident-memory.js';
import type { CliInput } from './cli-args.js';
import { cliInput } from './cli-args.js';
import { makePool } from './cli-pool.js';

export const CLI_FORMAT = 'cli';

export interface CliRun {
  seed: number;
  indices: number[];
  deadline: number;
  saveDir?: string;
  /** Per process (default 30 s: the largest generated job takes a few seconds). */
  timeoutMs?: number;
  /** Resident memory that kills a process (default 1.5 GiB). */
  rssBytes?: number;
}

const cli = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
/** A line of a printed stack trace ("    at fn (file:line:col)"). */
const STACK_FRAME = /^\s+at .+(:\d+:\d+\)?|\(native\)|<anonymous>\)?)$/m;

export async function runCliFuzz(run: CliRun): Promise<FormatReport> {
  const report = newFormatReport(CLI_FORMAT);
  const root = mkdtempSync(join(tmpdir(), 'tm-fuzz-cli-'));
  try {
    const pool = makePool(join(root, 'pool'), run.seed);
    for (const index of run.indices) {
      if (Date.now() >= run.deadline) break;
      const dir = join(root, 'inputs', String(index));
      mkdirSync(dir, { recursive: true });
      const input = cliInput(new FuzzRng(run.seed, CLI_FORMAT, index), pool, dir);
      const how = describe(input, root);
      const outcome = await runOne(input, dir, run);
      recordOutcome(report, index, how, outcome);
      if (outcome.kind === 'crash' && run.saveDir) {
        mkdirSync(join(run.saveDir, `cli-${index}`), { recursive: true });
        writeFileSync(join(run.saveDir, `cli-${index}`, 'command.json'), JSON.stringify({ ...input, seed: run.seed }, null, 2));
      }
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return report;
}

function describe(input: CliInput, root: string): string {
  const env = Object.entries(input.env).map(([k, v]) => `${k}=${JSON.stringify(v)} `).join('');
  const args = input.args.map((a) => (a.startsWith(root) ? `<${relative(root, a)}>` : a.length > 40 ? `${JSON.stringify(a.slice(0, 20))}…(${a.length})` : JSON.stringify(a)));
  return `${env}tinymorph ${args.join(' ')}`;
}

function runOne(input: CliInput, dir: string, run: CliRun): Promise<Outcome> {
  const timeoutMs = run.timeoutMs ?? 30_000;
  const rssBytes = run.rssBytes ?? 1.5 * 2 ** 30;
  const command = input.args.filter((a) => /^[a-z][a-z-]*$/.test(a)).slice(0, 2).join(' ') || '(no command)';
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...input.args], {
      cwd: dir,
      // HOME and XDG_CACHE_HOME in the input's folder: nothing the commands cache outlives the input.
      env: { ...process.env, CI: 'true', HOME: dir, XDG_CACHE_HOME: dir, ...input.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-65536)));
    let killedFor: string | undefined;
    const timer = setTimeout(() => {
      killedFor = `hang: ${command} ran over ${timeoutMs / 1000} s`;
      child.kill('SIGKILL');
    }, timeoutMs);
    const poll = setInterval(() => {
      if (child.pid !== undefined && residentBytes(child.pid) > rssBytes) {
        killedFor = `memory: ${command} went over ${Math.round(rssBytes / 2 ** 20)} MB resident`;
        child.kill('SIGKILL');
      }
    }, 100);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve(killedFor ? { kind: 'crash', crashClass: killedFor, message: firstLine(stderr.trim().split('\n').at(-1) ?? '') } : classifyExit(command, code, signal, stderr));
    });
  });
}

/** The outcome of a process that ended by itself. */
export function classifyExit(command: string, code: number | null, signal: NodeJS.Signals | null, stderr: string): Outcome {
  const lines = stderr.trimEnd().split('\n');
  const last = lines.at(-1) ?? '';
  if (STACK_FRAME.test(stderr)) {
    const thrown = /^(\w*Error|\w+Exception)\b[^\n]*/m.exec(stderr);
    // One bug reached from many commands (a bad TINYMORPH_THREADS fails them all) is one class.
    return { kind: 'crash', crashClass: `stack trace: ${thrown?.[1] ?? 'uncaught'} at ${topFrame(stderr)}`, message: firstLine(`${command}: ${thrown?.[0] ?? last}`) };
  }
  if (signal !== null || (code !== 0 && code !== 1 && code !== 2)) return { kind: 'crash', crashClass: `${command}: died (${signal ?? `exit code ${code}`})`, message: firstLine(last) };
  if (code === 0) return { kind: 'valid' };
  if (code === 1) {
    if (!last.startsWith('tinymorph: ')) return { kind: 'crash', crashClass: `${command}: exit 1 without a "tinymorph:" error line`, message: firstLine(last) };
    const problem = messageProblem(last);
    if (problem) return { kind: 'crash', crashClass: `${command}: ${problem}`, message: firstLine(last) };
    return { kind: 'rejected', code: 'exit 1' };
  }
  // Exit 2: commander's own usage error (one line, sometimes a "did you mean" after it), or its help for a command group.
  if (!/^(error: |Usage: )/m.test(stderr) || last.length > 1024) return { kind: 'crash', crashClass: `${command}: exit 2 without commander's error line`, message: firstLine(last) };
  return { kind: 'rejected', code: 'exit 2' };
}
