import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadModel } from '../../src/model/load-model.js';
import { assertOneLineError, runCli, runCliWithStdin } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tinymorph-text-input-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const textOf = (stdout: string): string => (JSON.parse(stdout) as { text: string }).text;

test('generate --prompt-file FILE and --prompt-file - (stdin) continue the same prompt as the argument; one trailing newline is dropped', () => {
  const prompt = 'Lily and Ben\nwent to the park';
  const file = join(dir, 'prompt.txt');
  writeFileSync(file, `${prompt}\n`);
  const args = ['-n', '20', '-t', '0', '--json'];
  const direct = runCli('generate', prompt, ...args);
  assert.equal(direct.code, 0, direct.stderr);
  const fromFile = runCli('generate', '--prompt-file', file, ...args);
  assert.equal(fromFile.code, 0, fromFile.stderr);
  assert.equal(textOf(fromFile.stdout), textOf(direct.stdout));
  assert.equal((JSON.parse(fromFile.stdout) as { prompt: string }).prompt, prompt);
  const fromStdin = runCliWithStdin(`${prompt}\n`, 'generate', '--prompt-file', '-', ...args);
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
  assert.equal(textOf(fromStdin.stdout), textOf(direct.stdout));
});

test('steer --prompt-file gives both columns as with the prompt as an argument', () => {
  const file = join(dir, 'steer.txt');
  writeFileSync(file, 'Once upon a time\n');
  const args = ['--preset', 'dialogue', '-n', '15', '--seed', '4', '--json'];
  const direct = runCli('steer', 'Once upon a time', ...args);
  const fromFile = runCli('steer', '--prompt-file', file, ...args);
  assert.equal(fromFile.code, 0, fromFile.stderr);
  assert.deepEqual(JSON.parse(fromFile.stdout), JSON.parse(direct.stdout));
});

test('a text over the OS limit for one argument reaches the tokenizer through --text-file', () => {
  const text = 'Lily saw a big dog. '.repeat(10_000); // 200 kB: Linux caps one argument at 128 KiB
  if (process.platform === 'linux') {
    const asArgument = spawnSync(process.execPath, ['-e', '0', text]);
    assert.equal((asArgument.error as NodeJS.ErrnoException | undefined)?.code, 'E2BIG');
  }
  const file = join(dir, 'long.txt');
  writeFileSync(file, text);
  const r = runCli('tokenize', '--text-file', file, '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as { ids: number[] }).ids, loadModel().tokenizer.encode(text));
  // generate reads it too, and says that it does not fit the model's context.
  assertOneLineError(runCli('generate', '--prompt-file', file), 1, /^tinymorph: request 0: the prompt has \d+ tokens; the model's context is 512$/);
});
