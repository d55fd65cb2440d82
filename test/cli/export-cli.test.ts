import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { embeddedTokenizerPath } from '../../src/model/embedded.js';
import { runCli } from './run-cli.js';

/**
 * The real CLI: `tinymorph export` writes the embedded model as an HF folder and a GGUF file, and
 * `generate --model` on each gives the embedded model's greedy text; `inspect` names each format.
 */
const tmp = mkdtempSync(join(tmpdir(), 'tinymorph-export-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const GENERATE = ['generate', 'Lily and Ben', '-n', '30', '-t', '0'];

test('export --format hf / gguf, then generate --model: the same greedy text as the llama2.c file', () => {
  const reference = runCli(...GENERATE);
  assert.equal(reference.code, 0, reference.stderr);
  const hf = join(tmp, 'hf');
  const gguf = join(tmp, 'model.gguf');
  for (const args of [['export', hf, '--format', 'hf'], ['export', gguf, '--format', 'gguf']]) {
    const r = runCli(...args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^wrote /);
  }
  const fromHf = runCli(...GENERATE, '--model', hf, '--tokenizer', embeddedTokenizerPath());
  assert.equal(fromHf.code, 0, fromHf.stderr);
  assert.equal(fromHf.stdout, reference.stdout);
  const fromGguf = runCli(...GENERATE, '--model', gguf);
  assert.equal(fromGguf.code, 0, fromGguf.stderr);
  assert.equal(fromGguf.stdout, reference.stdout);

  const info = JSON.parse(runCli('inspect', gguf, '--json').stdout) as { format: string; architecture: string; tensors: { count: number; dtypes: Record<string, number> }; tokenizer: { file: string } };
  assert.deepEqual([info.format, info.architecture, info.tensors.count, info.tensors.dtypes], ['gguf', 'llama', 47, { F32: 47 }]);
  assert.equal(info.tokenizer.file, gguf);
  const hfInfo = runCli('inspect', hf);
  assert.equal(hfInfo.code, 0, hfInfo.stderr);
  assert.match(hfInfo.stdout, /^format +hf-llama/m);
  assert.match(hfInfo.stdout, /^tokenizer +none: .*without a tokenizer\.json: give the tokenizer with --tokenizer/m);
});

test('export errors: a dtype the format has not, and an HF folder generated without --tokenizer', () => {
  const bad = runCli('export', join(tmp, 'x'), '--format', 'hf', '--dtype', 'q8_0');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--dtype q8_0 is not available for --format hf/);
  const hf = join(tmp, 'hf2');
  assert.equal(runCli('export', hf, '--format', 'hf', '--dtype', 'bf16').code, 0);
  const r = runCli(...GENERATE, '--model', hf);
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes(hf) && r.stderr.includes('--tokenizer'), r.stderr);
});
