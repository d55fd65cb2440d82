import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../../src/util/package-root.js';
import { WELCOME_NOTES } from '../../src/vault/welcome-notes.js';
import { assertOneLineError, runCli } from './run-cli.js';

const cli = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');

/** Start `tinymorph app` as a user would and resolve with the address it prints first. */
function startApp(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [cli, 'app', '--no-open', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve({ child, url: line });
    });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`tinymorph app exited with ${code}: ${err}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

test('tinymorph app prints its address, creates a vault of welcome notes on first run, and serves the page', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'tinymorph-cli-app-')), 'vault');
  const { child, url } = await startApp(['--vault', dir]);
  try {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    for (const n of WELCOME_NOTES) assert.equal(readFileSync(join(dir, n.path), 'utf8'), n.text);
    const page = await fetch(`${url}/?note=Welcome.md`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script type="module" src="\/app\.js"><\/script>/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const note = (await (await fetch(`${url}/api/vault/note?path=Welcome.md`)).json()) as { text: string };
    assert.equal(note.text, WELCOME_NOTES[0].text);
  } finally {
    await stop(child);
  }
});

test('tinymorph app refuses a non-loopback --host and a port in use, in one line each', async () => {
  assertOneLineError(runCli('app', '--no-open', '--host', '0.0.0.0'), 1, /--host 0\.0\.0\.0: the app only binds a loopback address/);
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  try {
    const r = runCli('app', '--no-open', '--port', String(port), '--vault', join(mkdtempSync(join(tmpdir(), 'tinymorph-cli-app-')), 'v'));
    assertOneLineError(r, 1, new RegExp(`--port ${port}: already in use`));
  } finally {
    blocker.close();
  }
});

test('kill -9 of the server during a loop of 1,000 saves leaves every note its old or a new version, never truncated', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'tinymorph-cli-kill-')), 'vault');
  const { child, url } = await startApp(['--vault', dir]);
  const notes = ['A.md', 'B.md', 'Folder/C.md', 'D.md'];
  // Every text each note was ever sent; its file must end up as exactly one of them.
  const sent = new Map<string, Set<string>>(notes.map((n) => [n, new Set<string>()]));
  const hashes = new Map<string, string | null>(notes.map((n) => [n, null]));
  const killAt = 150 + Math.floor(Math.random() * 700);
  let saves = 0;
  let killed = false;
  const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
  const worker = async (note: string): Promise<void> => {
    for (let i = 0; saves < 1000 && !killed; i++) {
      // Versions of very different lengths, so a torn write would show as a wrong length or a mix.
      const text = `${note} version ${i}\n${'abcdefghij'.repeat((i * 7919) % 3000)}end ${i}\n`;
      sent.get(note)?.add(text);
      try {
        const res = await fetch(`${url}/api/vault/note`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: note, text, baseHash: hashes.get(note) }) });
        if (res.ok) hashes.set(note, sha(text));
        else throw new Error(`save ${note} #${i}: ${res.status} ${await res.text()}`);
      } catch (e) {
        if (killed) return;
        throw e;
      }
      if (++saves === killAt && !killed) {
        killed = true;
        child.kill('SIGKILL');
      }
    }
  };
  await Promise.all(notes.map(worker));
  await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
  assert.equal(child.signalCode, 'SIGKILL', `the server was killed after save ${killAt}`);
  for (const note of notes) {
    const path = join(dir, note);
    if (!existsSync(path)) continue;
    const text = readFileSync(path, 'utf8');
    assert.ok(sent.get(note)?.has(text), `${note} holds ${text.length} bytes that are no version ever saved (starts ${JSON.stringify(text.slice(0, 30))})`);
  }
  // A temp file the kill left behind is hidden (dot-name): never a note, never listed.
  for (const name of readdirSync(dir)) assert.ok(name.startsWith('.') || name.endsWith('.md') || name === 'Folder', name);
});
