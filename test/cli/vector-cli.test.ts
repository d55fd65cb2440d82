import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { assertOneLineError, runCli as run } from './run-cli.js';
import type { HookName } from '../../src/model/hook-points.js';
import { loadModel } from '../../src/model/load-model.js';
import { readSteeringVectors } from '../../src/steer/steering-vector-set.js';
import { contrastVectors } from '../../src/steer/vectors/contrast-vectors.js';
import { assertAllClose } from '../helpers/assert-all-close.js';

const dir = mkdtempSync(join(tmpdir(), 'tinymorph-vector-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const pos = file('pos.txt', 'Lily was happy and she laughed.\nTom smiled at the sun.\nThey had so much fun!\n');
const neg = file('neg.txt', 'Lily was sad and she cried.\nTom frowned at the rain.\nThey had no fun at all.\n');

test('vector train writes the library\'s vectors for the same examples; export-gguf → import-gguf gives back every value', () => {
  const out = join(dir, 'v.safetensors');
  const hooks: HookName[] = ['blocks.2.hook_resid_post', 'blocks.3.hook_resid_post'];
  const r = run('vector', 'train', '--pos', pos, '--neg', neg, '--method', 'pca_center', '--hooks', hooks.join(','), '--out', out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /blocks\.2\.hook_resid_post\s+width 64\s+norm \d/);
  assert.match(r.stderr, /"progress":"vector train"/);
  const trained = readSteeringVectors(out);
  assert.deepEqual([...trained.vectors.keys()], hooks);
  assert.equal(trained.metadata.method, 'pca_center');
  // The same contrast set written out here, one example per line, paired line by line.
  const examples = (text: string, file: string) => text.trim().split('\n').map((t, i) => ({ text: t, where: `${file}:${i + 1}` }));
  const { model, tokenizer } = loadModel();
  const library = contrastVectors(model, tokenizer, { positive: examples(readFileSync(pos, 'utf8'), pos), negative: examples(readFileSync(neg, 'utf8'), neg), paired: true }, { method: 'pca_center', hooks });
  for (const hook of hooks) assertAllClose(trained.vectors.get(hook)!, library.vectors.get(hook)!, { atol: 1e-6 }, hook);

  const gguf = join(dir, 'v.gguf');
  assert.equal(run('vector', 'export-gguf', out, gguf).code, 0);
  const back = join(dir, 'back.safetensors');
  const imported = run('vector', 'import-gguf', gguf, back);
  assert.equal(imported.code, 0, imported.stderr);
  const again = readSteeringVectors(back);
  assert.deepEqual([...again.vectors.keys()].sort(), [...hooks].sort());
  for (const hook of hooks) assert.deepEqual(again.vectors.get(hook), trained.vectors.get(hook), `${hook}: F32 values survive the GGUF round trip exactly`);
  assert.deepEqual(again.metadata, { ...trained.metadata, model_hint: 'llama' });
});

test('vector style reads a folder of notes and writes one vector per block', () => {
  const notes = join(dir, 'notes');
  mkdirSync(join(notes, 'sub'), { recursive: true });
  writeFileSync(join(notes, 'a.md'), '# Monday\n\nThe harbour was grey. Gulls argued over the nets.\n');
  writeFileSync(join(notes, 'sub', 'b.txt'), 'I walked to the lighthouse and back before the tide turned.\n');
  writeFileSync(join(notes, 'ignored.json'), '{}');
  const out = join(dir, 'style.safetensors');
  const r = run('vector', 'style', notes, '--out', out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /method=style .*sample_files=2/);
  assert.equal(JSON.parse(run('vector', 'show', out, '--json').stdout).vectors.length, 5);
});

test('vector: user mistakes end as one clear line and a non-zero exit', () => {
  const out = join(dir, 'x.safetensors');
  assertOneLineError(run('vector', 'train', '--pos', pos, '--neg', neg), 2, /required option '--out <file>'/);
  assertOneLineError(run('vector', 'train', '--pos', join(dir, 'nope.txt'), '--neg', neg, '--out', out), 1, /nope\.txt: no such file/);
  assertOneLineError(run('vector', 'train', '--pos', pos, '--out', out), 1, /give --pos and --neg/);
  assertOneLineError(run('vector', 'train', '--pos', pos, '--neg', neg, '--method', 'svd', '--out', out), 2, /--method.*svd.*invalid/);
  assertOneLineError(run('vector', 'train', '--pos', pos, '--neg', neg, '--position', 'first', '--out', out), 1, /position must be last, mean or an integer/);
  assertOneLineError(run('vector', 'train', '--pos', pos, '--neg', neg, '--hooks', 'blocks.9.hook_resid_post', '--out', out), 1, /unknown hook point "blocks\.9\.hook_resid_post"/);
  const two = file('two.txt', 'a dog\na cat\n');
  assertOneLineError(run('vector', 'train', '--pos', pos, '--neg', two, '--method', 'pca_diff', '--out', out), 1, /pca_diff needs paired examples/);
  assertOneLineError(run('vector', 'train', '--pairs', file('p.jsonl', '{"positive": 1}\n'), '--out', out), 1, /p\.jsonl:1: expected/);
  assert.equal(existsSync(out), false);

  const all = join(dir, 'all.safetensors');
  assert.equal(run('vector', 'train', '--pos', pos, '--neg', neg, '--out', all).code, 0);
  assertOneLineError(run('vector', 'export-gguf', all, join(dir, 'all.gguf')), 1, /blocks\.0\.hook_resid_post: llama\.cpp control vectors cannot steer block 0/);
  assertOneLineError(run('vector', 'import-gguf', pos, out), 1, /pos\.txt: not a GGUF file/);
  const cut = file('cut.gguf', '');
  writeFileSync(cut, readFileSync(join(dir, 'v.gguf')).subarray(0, 100));
  assertOneLineError(run('vector', 'import-gguf', cut, out), 1, /cut\.gguf: (truncated|metadata_kv_count 9 cannot fit)/);
  assertOneLineError(run('vector', 'show', join(dir, 'none.safetensors')), 1, /none\.safetensors: no such file/);
  mkdirSync(join(dir, 'empty'));
  assertOneLineError(run('vector', 'style', join(dir, 'empty'), '--out', out), 1, /empty: folder holds no \.md or \.txt files/);
  assertOneLineError(run('vector', 'style', pos, '--reference', join(dir, 'ref.txt'), '--out', out), 1, /ref\.txt: no such file/);
});

test('vector --help works on every subcommand', () => {
  for (const sub of ['train', 'style', 'show', 'export-gguf', 'import-gguf']) {
    const r = run('vector', sub, '--help');
    assert.equal(r.code, 0, `${sub}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`Usage: tinymorph vector ${sub}`));
  }
});
