import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../../src/util/package-root.js';
import { assertOneLineError, runCli } from '../cli/run-cli.js';

/** `tinymorph serve` as a user runs it: the listening line, a request, and a clean stop on a signal. */
const cli = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');

test('serve --port 0 prints the port it got, answers, and on SIGTERM finishes the running stream and exits 0', async () => {
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--max-batch', '4'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d;
        const m = /^listening on (http:\/\/127\.0\.0\.1:(\d+))\n/.exec(stdout);
        if (m && Number(m[2]) > 0) resolve(m[1]);
      });
      child.on('exit', () => reject(new Error(`serve exited early: ${stderr}`)));
    });
    assert.equal((await fetch(`${url}/health`)).status, 200);
    // A stream is running when the signal comes: it is finished (or cut with an error event), then the process exits.
    const res = await fetch(`${url}/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: 'Once upon a time', max_tokens: 400, ignore_eos: true, temperature: 0, stream: true }) });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let body = new TextDecoder().decode((await reader.read()).value);
    const start = Date.now();
    child.kill('SIGTERM');
    for (let r = await reader.read(); !r.done; r = await reader.read()) body += new TextDecoder().decode(r.value);
    assert.match(body, /data: \[DONE\]\n\n$|data: \{"error":/);
    assert.equal(await exited, 0, stderr);
    assert.ok(Date.now() - start < 8000, `took ${Date.now() - start} ms to stop`);
    assert.match(stderr, /SIGTERM: finishing running requests/);
  } finally {
    child.kill('SIGKILL');
  }
});

test('serve refuses a non-loopback address without an API key, in one line', () => {
  const r = runCli('serve', '--host', '0.0.0.0', '--port', '0');
  assertOneLineError(r, 1, /^tinymorph: refusing to listen on 0\.0\.0\.0 without an API key/);
});
