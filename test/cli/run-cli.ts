import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/package-root.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

// The real command, as a user runs it: a separate process on the built CLI.
const cli = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');

export function runCli(...args: string[]): CliRun {
  return runCliWithEnv({}, ...args);
}

/** runCli with extra environment variables (e.g. HOME pointed at a temp folder). */
export function runCliWithEnv(env: Record<string, string>, ...args: string[]): CliRun {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** runCli with `stdin` as the process's standard input. */
export function runCliWithStdin(stdin: string, ...args: string[]): CliRun {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', input: stdin, env: { ...process.env, CI: 'true' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** runCliWithEnv without blocking, so that independent runs can overlap. */
export function runCliAsync(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    // A hang (a FIFO opened for reading) ends as a failed run, not a stuck suite.
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, CI: 'true', ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A user mistake ends with exactly one line on stderr, no stack trace, and a non-zero exit. */
export function assertOneLineError(r: { code: number | null; stderr: string }, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}
