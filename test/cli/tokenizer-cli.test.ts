import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { packageRoot } from '../../src/util/package-root.js';
import { assertOneLineError, runCli } from './run-cli.js';

const GPT2 = join(packageRoot(), '../shared/fixtures/gpt2-tokenizer/tokenizer.json');
const dir = mkdtempSync(join(tmpdir(), 'tinymorph-cli-tok-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('--tokenizer takes an HF folder: its tokenizer.json encodes, and the 512-row embedded model pads its 400 ids', () => {
  const folder = join(dir, 'hf');
  mkdirSync(folder);
  const vocab: Record<string, number> = { a: 0, b: 1, ab: 2, Ġ: 3, '<|endoftext|>': 4 };
  while (Object.keys(vocab).length < 400) vocab[`x${Object.keys(vocab).length}`] = Object.keys(vocab).length; // 512 is 400 rounded up to a multiple of 128
  const json = {
    added_tokens: [{ id: 4, content: '<|endoftext|>', special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false },
    post_processor: null,
    decoder: { type: 'ByteLevel' },
    model: { type: 'BPE', vocab, merges: ['a b'] },
  };
  writeFileSync(join(folder, 'tokenizer.json'), JSON.stringify(json));
  const r = runCli('tokenize', 'ab a', '--tokenizer', folder, '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { ids: [4, 2, 3, 0], pieces: ['<|endoftext|>', 'ab', ' ', 'a'] });
});

test('--tokenizer with a tokenizer.json bigger than the model is one line naming both sizes', { skip: existsSync(GPT2) ? false : `${GPT2} is absent` }, () => {
  assertOneLineError(runCli('tokenize', 'hi', '--tokenizer', GPT2), 1, /^tinymorph: .*gpt2-tokenizer\/tokenizer\.json: has token id 50256, outside the model's vocab_size 512$/);
});
