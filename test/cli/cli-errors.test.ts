import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadModel } from '../../src/model/load-model.js';
import { writeSteeringVectors } from '../../src/steer/steering-vector-set.js';
import { availableBackends } from '../../src/tensor/backend-registry.js';
import { assetPath } from '../../src/util/package-root.js';
import { assertOneLineError, runCliAsync, runCliWithEnv } from './run-cli.js';

/**
 * Every user mistake the CLI can meet, one invocation each: out-of-range and malformed flag values,
 * missing and unreadable inputs, outputs that cannot be written, files that do not fit the model.
 * Each must end as exactly one line on stderr with exit code 1 (typed error) or 2 (commander's flag
 * parsing), never a stack trace, and before any long work starts.
 */

const dir = mkdtempSync(join(tmpdir(), 'tinymorph-cli-errors-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, content: string | Uint8Array): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const aFile = file('a-file.txt', 'Once upon a time\n');
const empty = file('empty.txt', '');
const badJson = file('bad.json', 'not json\n');
const sae = assetPath('saes', 'blocks.2.hook_resid_post');
const model = assetPath('models', 'stories260K.bin');
mkdirSync(join(dir, 'a-folder'));
const folder = join(dir, 'a-folder');

// A model whose every token embedding is NaN (the classifier shares it, so every logit is NaN).
const nanModel = (() => {
  const bytes = new Uint8Array(readFileSync(model));
  const { dim, vocabSize } = loadModel().model.config;
  new Float32Array(bytes.buffer, 28, dim * vocabSize).fill(NaN);
  return file('nan.bin', bytes);
})();

// Vector files that are too narrow and too wide for blocks.2.hook_resid_post (64 wide).
const narrow = join(dir, 'narrow.safetensors');
const wide = join(dir, 'wide.safetensors');
writeSteeringVectors(narrow, { vectors: new Map([['blocks.2.hook_resid_post', new Float32Array(10).fill(1)]]), metadata: {} });
writeSteeringVectors(wide, { vectors: new Map([['blocks.2.hook_resid_post', new Float32Array(100).fill(1)]]), metadata: {} });

const native = availableBackends().includes('native');

// A named pipe nobody writes to: opening it would block forever.
const fifo = join(dir, 'fifo');
const haveFifo = process.platform !== 'win32' && spawnSync('mkfifo', [fifo]).status === 0;

type Row = [args: string[], code: 1 | 2, message: RegExp, env?: Record<string, string>];

const rows: Row[] = [
  [['inspect'], 1, /^tinymorph: TINYMORPH_BACKEND: unknown backend "fast"/, { TINYMORPH_BACKEND: 'fast' }],
  // generate / steer / tokenize
  [['generate', 'hi', '-n', '0'], 2, /--max-tokens <n>' argument '0' is invalid/],
  [['generate', 'hi', '--top-p', '2'], 1, /topP must be a number in \(0, 1\], got 2$/],
  [['generate', 'hi', '--stop', ''], 1, /^tinymorph: a stop sequence must not be empty/],
  [['generate', 'hi', '--prompt-file', aFile], 1, /^tinymorph: give the prompt as an argument or with --prompt-file, not both$/],
  [['generate', '--prompt-file', join(dir, 'missing.txt')], 1, /^tinymorph: --prompt-file .*missing\.txt: no such file$/],
  [['generate', '--prompt-file', folder], 1, /^tinymorph: --prompt-file .*a-folder: is a directory, expected a file$/],
  [['generate', '--prompt-file', '/dev/zero'], 1, /^tinymorph: --prompt-file \/dev\/zero: is a device; a prompt must be a regular file or a pipe$/],
  [['steer'], 1, /^tinymorph: give the prompt as an argument or with --prompt-file FILE$/],
  [['tokenize'], 1, /^tinymorph: give the text as an argument or with --text-file FILE$/],
  [['generate', 'Once', '-t', '0', '--model', nanModel], 1, /^tinymorph: request 0, generated token 1: the logits hold NaN or infinite values .*`tinymorph inspect`/],
  [['generate', 'Once', '-t', '1', '--seed', '1', '--model', nanModel], 1, /^tinymorph: request 0, generated token 1: the logits hold NaN or infinite values/],
  [['generate', 'Once', '-t', '1', '--top-k', '5', '--model', nanModel], 1, /^tinymorph: request 0, generated token 1: the logits hold NaN or infinite values/],
  [['perplexity', aFile, '--model', nanModel], 1, /^tinymorph: document 1, token 2: the cross-entropy is NaN .*`tinymorph inspect`/],
  [['steer', 'Once', '-t', '0', '--vector', narrow], 1, /narrow\.safetensors: the vector for blocks\.2\.hook_resid_post is 10 wide, the hook is 64 wide$/],
  [['steer', 'Once', '-t', '1', '--vector', wide], 1, /wide\.safetensors: the vector for blocks\.2\.hook_resid_post is 100 wide, the hook is 64 wide$/],
  [['steer', 'hi', '--spec', badJson], 1, /^tinymorph: --spec .*bad\.json: not a steering request \(.*"not json " is not valid JSON\)$/],
  [['steer', 'hi', '--spec', '/dev/zero'], 1, /^tinymorph: --spec \/dev\/zero: is a device; a steering request must be a regular file or a pipe$/],
  [['steer', 'hi', '--feature', '2:abc:1'], 1, /--feature "2:abc:1": index must be an integer/],
  // Inputs that never end, or are not files
  [['tokenize', 'hi', '--tokenizer', '/dev/zero'], 1, /^tinymorph: \/dev\/zero: is a device; a tokenizer must be a regular file$/],
  [['tokenize', 'hi', '--tokenizer', folder], 1, /a-folder: is a directory without a tokenizer\.json: give the tokenizer with --tokenizer \(tokenizer\.bin, tokenizer\.json or a GGUF file\)$/],
  [['perplexity', '/dev/zero'], 1, /^tinymorph: \/dev\/zero: is a device; text must be a regular file or a pipe$/],
  [['perplexity', empty], 1, /empty\.txt has no text$/],
  [['vector', 'show', '/dev/zero'], 1, /^tinymorph: \/dev\/zero: is a device; a safetensors file must be a regular file$/],
  [['vector', 'import-gguf', '/dev/zero', join(dir, 'v.safetensors')], 1, /^tinymorph: \/dev\/zero: is a device; a GGUF file must be a regular file$/],
  [['sae', 'eval', sae, '--corpus', '/dev/zero'], 1, /^tinymorph: corpus \/dev\/zero: is a device; text must be a regular file or a pipe$/],
  [['features', 'contrast', '--a', '/dev/zero', '--b', aFile], 1, /^tinymorph: --a \/dev\/zero: is a device/],
  // Outputs that cannot be written: refused before the work
  [['sae', 'eval', sae, '--out', folder], 1, /^tinymorph: --out .*a-folder: is a folder; give the file to write$/],
  [['sae', 'eval', sae, '--out', join(dir, 'no', 'such', 'eval.json')], 1, /^tinymorph: --out .*eval\.json: its folder .*such does not exist$/],
  [['sae', 'train', '--out', aFile], 1, /^tinymorph: --out .*a-file\.txt: is a file; give a folder to write into$/],
  [['sae', 'convert', sae, '--from', 'saelens', '--out', aFile], 1, /^tinymorph: --out .*a-file\.txt: is a file/],
  [['sae', 'finetune-scale', sae, '--out', aFile], 1, /^tinymorph: --out .*a-file\.txt: is a file/],
  [['activations', 'cache', '--hook', 'blocks.2.hook_resid_post', '--out', join(aFile, 'sub')], 1, /^tinymorph: --out .*sub: a folder on the path is a file$/],
  [['vector', 'train', '--pos', aFile, '--neg', aFile, '--out', folder], 1, /^tinymorph: --out .*a-folder: is a folder/],
  [['vector', 'style', aFile, '--out', folder], 1, /^tinymorph: --out .*a-folder: is a folder/],
  [['vector', 'export-gguf', assetPath('steering', 'presets', 'dialogue.safetensors'), folder], 1, /^tinymorph: output .*a-folder: is a folder/],
  [['quantize', model, folder], 1, /^tinymorph: output .*a-folder: is a folder/],
  [['features', 'build', '--db', folder], 1, /^tinymorph: --db .*a-folder: is a folder/],
  // sae train: every size is checked before the model runs
  [['sae', 'train', '--k', '600', '--d-sae', '512', '--out', join(dir, 's')], 1, /^tinymorph: --k 600 is larger than --d-sae 512$/],
  [['sae', 'train', '--d-sae', '0', '--out', join(dir, 's')], 1, /^tinymorph: --d-sae must be a positive integer, got "0"$/],
  [['sae', 'train', '--k', 'NaN', '--out', join(dir, 's')], 1, /^tinymorph: --k must be a positive integer, got "NaN"$/],
  [['sae', 'train', '--tokens', '0', '--out', join(dir, 's')], 1, /^tinymorph: --tokens must be a positive integer, got "0"$/],
  [['sae', 'train', '--tokens', '100', '--out', join(dir, 's')], 1, /^tinymorph: --tokens 100 is less than one batch \(--batch 1024\)$/],
  [['sae', 'train', '--batch', '-4', '--out', join(dir, 's')], 1, /^tinymorph: --batch must be a positive integer, got "-4"$/],
  [['sae', 'train', '--lr', '0', '--out', join(dir, 's')], 1, /^tinymorph: --lr must be a positive number, got "0"$/],
  [['sae', 'train', '--lr', '', '--out', join(dir, 's')], 1, /^tinymorph: --lr must be a positive number, got ""$/],
  [['sae', 'train', '--log-every', '0', '--out', join(dir, 's')], 1, /^tinymorph: --log-every must be a positive integer, got "0"$/],
  [['sae', 'train', '--l1', '-1', '--out', join(dir, 's')], 1, /^tinymorph: --l1 must be a non-negative number, got "-1"$/],
  [['sae', 'train', '--context-size', '1', '--out', join(dir, 's')], 1, /context size must be an integer in \[2, 512\]/],
  [['sae', 'train', '--hook', 'blocks.9.hook_resid_post', '--out', join(dir, 's')], 1, /unknown hook point "blocks\.9\.hook_resid_post"/],
  [['sae', 'train', '--hook', 'blocks.2.attn.hook_pattern', '--out', join(dir, 's')], 1, /has no fixed per-token width/],
  [['sae', 'train', '--architecture', 'matryoshka', '--matryoshka-prefixes', '100,50', '--out', join(dir, 's')], 1, /prefix sizes must be strictly increasing/],
  [['sae', 'train', '--d-sae', '100000000', '--out', join(dir, 's')], 1, /^tinymorph: training an SAE of d_sae 100000000 on d_in 64 in batches of 1024 needs at least [\d.]+ GiB, more than this machine's/],
  [['sae', 'train', '--corpus', empty, '--out', join(dir, 's')], 1, /the corpus has no documents$/],
  [['sae', 'train', '--architecture', 'sparse', '--out', join(dir, 's')], 2, /--architecture <name>' argument 'sparse' is invalid/],
  // sae eval / finetune-scale / convert
  [['sae', 'eval', sae, '--contexts', '0'], 1, /^tinymorph: --contexts must be a positive integer, got "0"$/],
  [['sae', 'eval', sae, '--batch', '1.5'], 1, /^tinymorph: --batch must be a positive integer, got "1\.5"$/],
  [['sae', 'eval', sae, '--contexts', '100000'], 1, /^tinymorph: --contexts 100000: .*tinystories_val\.txt holds only \d+ contexts of 128 tokens$/],
  [['sae', 'eval', join(dir, 'no-sae')], 1, /no-sae\/cfg\.json: no such file$/],
  [['sae', 'finetune-scale', sae, '--out', join(dir, 'f'), '--lr', '0'], 1, /^tinymorph: --lr must be a positive number, got "0"$/],
  [['sae', 'finetune-scale', sae, '--out', join(dir, 'f'), '--batch', '100000000'], 1, /needs at least [\d.]+ GiB, more than this machine's/],
  [['sae', 'convert', join(dir, 'none'), '--from', 'gemma-scope', '--out', join(dir, 'c')], 1, /none: no such file$/],
  // activations
  [['activations', 'cache', '--hook', 'blocks.2.hook_resid_post', '--out', join(dir, 'a'), '--shard-tokens', '0'], 1, /^tinymorph: --shard-tokens must be a positive integer, got "0"$/],
  [['activations', 'cache', '--hook', 'blocks.2.hook_resid_post', '--out', join(dir, 'a'), '--corpus', empty], 1, /^tinymorph: corpus .*empty\.txt holds no text$/],
  [['activations', 'cache', '--hook', 'blocks.2.hook_resid_post', '--out', join(dir, 'a'), '--tokens', '1e15', '--shard-tokens', '1e15'], 1, /^tinymorph: a shard of 1000000000000000 activations × 64 needs \d+ bytes of memory/],
  // features
  [['features', 'search', 'Lily', '--limit', '0'], 1, /^tinymorph: --limit must be a positive integer, got "0"$/],
  [['features', 'explain-text', 'hi', '--per-token', '0'], 1, /^tinymorph: --per-token must be a positive integer, got "0"$/],
  [['features', 'build', '--tokens', '-1', '--db', join(dir, 'f.sqlite')], 1, /^tinymorph: --tokens must be a positive integer, got "-1"$/],
  [['features', 'show', '2:-1'], 1, /feature "2:-1" is not <hook>:<index>/],
  // vector
  [['vector', 'train', '--pos', aFile, '--out', join(dir, 'v.safetensors')], 1, /give --pos and --neg example files/],
  [['vector', 'style', empty, '--out', join(dir, 'v.safetensors')], 1, /hold no text$/],
  [['vector', 'export-gguf', narrow, join(dir, 'v.gguf'), '--model-hint', ''], 1, /--model-hint must not be empty$/],
  // quantize / inspect
  [['quantize', model, join(dir, 'q.bin'), '--group-size', '3'], 1, /Q8_0 group size 3 does not divide/],
  [['inspect', join(dir, 'missing.bin')], 1, /missing\.bin: no such file$/],
];
if (native) {
  // The native kernels read TINYMORPH_THREADS: a bad value is an error, never a silent fall-back to the reference kernels.
  rows.push(
    [['tokenize', 'hi'], 1, /^tinymorph: TINYMORPH_THREADS must be an integer from 1 to 256, got "2000"$/, { TINYMORPH_THREADS: '2000' }],
    [['generate', 'hi', '-n', '2'], 1, /^tinymorph: TINYMORPH_THREADS must be an integer from 1 to 256, got "abc"$/, { TINYMORPH_THREADS: 'abc' }],
    [['inspect'], 1, /^tinymorph: TINYMORPH_THREADS must be an integer from 1 to 256, got "0"$/, { TINYMORPH_THREADS: '0' }],
    [['inspect', '--backend', 'native'], 1, /^tinymorph: TINYMORPH_THREADS must be an integer from 1 to 256, got "1.5"$/, { TINYMORPH_THREADS: '1.5' }],
  );
}
if (haveFifo) {
  rows.push(
    [['tokenize', 'hi', '--model', fifo], 1, /^tinymorph: .*fifo: is a pipe; a model must be a regular file$/],
    [['tokenize', 'hi', '--tokenizer', fifo], 1, /^tinymorph: .*fifo: is a pipe; a tokenizer must be a regular file$/],
    [['vector', 'show', fifo], 1, /^tinymorph: .*fifo: is a pipe; a safetensors file must be a regular file$/],
    [['features', 'search', 'Lily', '--db', fifo], 1, /^tinymorph: .*fifo: is a pipe; a feature index must be a regular file$/],
  );
}

test(`${rows.length} bad invocations each end as one typed line, with no stack trace`, { concurrency: 4 }, async (t) => {
  await Promise.all(
    rows.map(([args, code, message, env = {}]) => {
      const label = [...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'tinymorph', ...args].join(' ');
      return t.test(label, async () => assertOneLineError(await runCliAsync(env, ...args), code, message));
    }),
  );
});

test('TINYMORPH_THREADS sets the native thread count, and does not concern an explicitly chosen reference backend', { skip: !native && 'native addon not built' }, () => {
  const info = JSON.parse(runCliWithEnv({ TINYMORPH_THREADS: '3' }, 'inspect', '--json').stdout) as { backend: string; native: { threads: number } };
  assert.equal(info.backend, 'native');
  assert.equal(info.native.threads, 3);
  const r = runCliWithEnv({ TINYMORPH_THREADS: '2000' }, 'tokenize', 'hi', '--backend', 'reference', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as { ids: number[] }).ids, [1, 270, 417]);
});
