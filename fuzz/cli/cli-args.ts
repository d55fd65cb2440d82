/**
 * Generated `tinymorph` command lines: every command with a random choice of its flags, each value
 * valid or hostile (negative, non-finite, overflowing, not a number, empty), files from the pool
 * (valid, mutated, or hostile paths), output paths that are fresh, a directory, an existing file or
 * unwritable, and environment values for TINYMORPH_THREADS and TINYMORPH_BACKEND. Work is kept
 * small (a few tokens, contexts or training steps) so that a run that takes long is a hang, not a
 * big job a user asked for.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FuzzRng } from '../fuzz-rng.js';
import type { PoolPaths } from './cli-pool.js';

export interface CliInput {
  args: string[];
  env: Record<string, string>;
}

/** What a generator needs: randomness, the pool, and the input's own folder for outputs. */
interface Ctx {
  rng: FuzzRng;
  pool: PoolPaths;
  dir: string;
}

const HOSTILE_NUMBERS = ['-1', '0', '1e400', 'NaN', '', 'abc', '0x10', '1.5', '99999999999999999999', '-0', ' 3'];
const HOOKS = ['blocks.2.hook_resid_post', 'blocks.0.hook_resid_pre', 'blocks.1.mlp.hook_post', 'blocks.4.attn.hook_z', 'blocks.2.attn.hook_pattern', 'hook_embed', 'blocks.9.hook_resid_post', 'nope', ''];
const PROMPTS = ['Once upon a time', '', 'Lily and Ben', 'é🐱 naïve', '\u0007\t', '--json', 'x '.repeat(1500)]; // (no NUL: no process can be given one in an argument)

/** An integer flag value: mostly in [lo, hi], sometimes hostile. */
function num(c: Ctx, lo: number, hi: number): string {
  return c.rng.chance(0.8) ? String(c.rng.range(lo, hi)) : c.rng.pick(HOSTILE_NUMBERS);
}

/** A float flag value. */
function float(c: Ctx, lo: number, hi: number): string {
  return c.rng.chance(0.8) ? String(Math.round((lo + c.rng.float() * (hi - lo)) * 1000) / 1000) : c.rng.pick(HOSTILE_NUMBERS);
}

/** A file of a pooled format (its seed or a mutated one), or a hostile path. */
function file(c: Ctx, ...formats: string[]): string {
  if (formats.length === 0 || c.rng.chance(0.2)) return c.rng.pick(c.pool.hostile);
  const paths = c.pool.pool.get(c.rng.pick(formats))!;
  return c.rng.chance(0.4) ? paths[0] : c.rng.pick(paths);
}

function text(c: Ctx): string {
  return c.rng.chance(0.8) ? c.rng.pick([c.pool.stories, c.pool.lines]) : c.rng.pick(c.pool.hostile);
}

/** Where a command writes: fresh, an existing folder, an existing file, a missing parent, or unwritable. */
function out(c: Ctx, ext = ''): string {
  const roll = c.rng.int(20);
  if (roll < 12) return join(c.dir, `out${ext}`);
  if (roll < 15) {
    mkdirSync(join(c.dir, 'existing-dir'), { recursive: true });
    return join(c.dir, 'existing-dir');
  }
  if (roll < 17) {
    writeFileSync(join(c.dir, `existing${ext}`), 'old');
    return join(c.dir, `existing${ext}`);
  }
  return c.rng.pick([join(c.dir, 'no', 'such', `dir${ext}`), '/proc/version', '/dev/full']);
}

const opt = (c: Ctx, p: number, ...items: string[]): string[] => (c.rng.chance(p) ? items : []);

function modelOptions(c: Ctx): string[] {
  return [
    ...opt(c, 0.25, '--model', file(c, 'llama2c-model-v0', 'llama2c-model-v1', 'llama2c-model-v2', 'hf-llama-folder', 'gguf-llama-model')),
    ...opt(c, 0.15, '--tokenizer', file(c, 'llama2c-tokenizer', 'gguf-llama-model')),
    ...opt(c, 0.1, '--backend', c.rng.pick(['native', 'reference', 'foo', ''])),
    ...opt(c, 0.1, '--quantize', c.rng.pick(['q8_0', 'q4', ''])),
  ];
}

function sampling(c: Ctx, maxTokens: number): string[] {
  return [
    '-n', num(c, 1, maxTokens),
    ...opt(c, 0.4, '-t', float(c, 0, 2)),
    ...opt(c, 0.2, '--top-p', float(c, 0, 1)),
    ...opt(c, 0.2, '--top-k', num(c, 0, 50)),
    ...opt(c, 0.1, '--min-p', float(c, 0, 1)),
    ...opt(c, 0.1, '--frequency-penalty', float(c, -2, 2)),
    ...opt(c, 0.1, '--repetition-penalty', float(c, 0, 3)),
    ...opt(c, 0.3, '--seed', num(c, 0, 1000)),
    ...opt(c, 0.1, '--stop', c.rng.pick(['.', '', 'the', '\n'])),
  ];
}

/** A feature flag `source:index:strength[:method]`, or a broken one. */
function featureFlag(c: Ctx): string {
  const source = c.rng.pick(['2', 'blocks.2.hook_resid_post', '9', 'nowhere', c.pool.indexSae, file(c, 'saelens-folder')]);
  const index = c.rng.pick(['0', '5', '248', '1023', '1024', '99999999999', '-1', 'x']);
  const strength = c.rng.pick(['4', '+4', '-2', '0', '1e400', 'NaN', 'x', '']);
  const method = c.rng.pick(['', ':add', ':clamp', ':ablate', ':mean-ablate', ':bogus']);
  return c.rng.chance(0.9) ? `${source}:${index}:${strength}${method}` : c.rng.pick(['', ':', '2:3', 'a:b:c:d:e']);
}

type Command = (c: Ctx) => string[];

const COMMANDS: Record<string, Command> = {
  generate: (c) => ['generate', c.rng.pick(PROMPTS), ...sampling(c, 16), ...opt(c, 0.3, '--json'), ...opt(c, 0.15, '--logprobs', num(c, 0, 5)), ...modelOptions(c)],
  tokenize: (c) => ['tokenize', c.rng.pick(PROMPTS), ...opt(c, 0.3, '--no-bos'), ...opt(c, 0.3, '--json'), ...modelOptions(c)],
  inspect: (c) => ['inspect', ...opt(c, 0.8, file(c, 'llama2c-model-v0', 'llama2c-model-v1', 'llama2c-model-v2', 'hf-llama-folder', 'gguf-llama-model')), ...opt(c, 0.4, '--json'), ...opt(c, 0.1, '--backend', 'reference')],
  perplexity: (c) => ['perplexity', text(c), '--max-docs', num(c, 1, 3), ...opt(c, 0.4, '--context', num(c, 2, 64)), ...opt(c, 0.3, '--json'), ...modelOptions(c)],
  export: (c) => {
    const format = c.rng.pick(['hf', 'gguf', 'onnx']);
    return ['export', out(c, format === 'gguf' ? '.gguf' : ''), '--format', format, ...opt(c, 0.5, '--dtype', c.rng.pick(['f32', 'f16', 'bf16', 'q8_0', 'f8'])), ...opt(c, 0.6, '--model', file(c, 'llama2c-model-v0', 'llama2c-model-v1', 'llama2c-model-v2', 'hf-llama-folder', 'gguf-llama-model')), ...opt(c, 0.2, '--tokenizer', file(c, 'llama2c-tokenizer', 'gguf-llama-model')), ...opt(c, 0.3, '--json')];
  },
  quantize: (c) => ['quantize', file(c, 'llama2c-model-v0', 'llama2c-model-v1', 'llama2c-model-v2'), out(c, '.bin'), ...opt(c, 0.3, '--group-size', num(c, 1, 64)), ...opt(c, 0.3, '--json')],
  steer: (c) => [
    'steer', c.rng.pick(PROMPTS), ...sampling(c, 8),
    ...opt(c, 0.5, '--feature', featureFlag(c)),
    ...opt(c, 0.3, '--vector', c.rng.chance(0.5) ? file(c, 'steering-vectors', 'control-vector-gguf') : `happy:${c.rng.pick(['1', '-2', 'x', '1e400'])}`),
    ...opt(c, 0.2, '--preset', c.rng.pick(['happy', 'happy:3', 'nosuch', 'happy:-1e400'])),
    ...opt(c, 0.2, '--guide', featureFlag(c)),
    ...opt(c, 0.2, '--method', c.rng.pick(['add', 'orthogonal', 'cap', 'clamp', 'CLAMP', 'bogus'])),
    ...opt(c, 0.2, '--multiplier', float(c, -3, 3)),
    ...opt(c, 0.1, '--normalize'),
    ...opt(c, 0.2, '--scope', c.rng.pick(['all', 'prompt', 'generated', '2-5', '5-2', 'after:time', 'after:', '-', 'x-y'])),
    ...opt(c, 0.4, '--spec', file(c, 'steering-spec')),
    ...opt(c, 0.3, '--json'),
    ...modelOptions(c),
  ],
  'sae convert': (c) => {
    const from = c.rng.pick(['gemma-scope', 'sparsify', 'dictionary-learning', 'saelens', 'bogus']);
    const format = { 'gemma-scope': 'gemma-scope-npz', sparsify: 'sparsify', 'dictionary-learning': 'dictionary-learning', saelens: 'saelens-folder' }[from] ?? 'safetensors';
    return ['sae', 'convert', file(c, format), '--from', from, '--out', out(c), ...opt(c, 0.5, '--hook', c.rng.pick(HOOKS)), ...opt(c, 0.3, '--model', file(c, 'llama2c-model-v1'))];
  },
  'sae eval': (c) => [
    'sae', 'eval', file(c, 'saelens-folder'), '--contexts', num(c, 1, 2), '--context-size', num(c, 8, 48), '--batch', num(c, 1, 2),
    ...opt(c, 0.4, '--out', out(c, '.json')), ...opt(c, 0.2, '--hook', c.rng.pick(HOOKS)), ...opt(c, 0.2, '--seed', num(c, 0, 9)), ...opt(c, 0.2, '--error-term'),
    ...opt(c, 0.3, '--corpus', text(c)),
  ],
  'sae train': (c) => [
    'sae', 'train', '--tokens', num(c, 256, 2048), '--d-sae', num(c, 8, 64), '--k', c.rng.chance(0.8) ? num(c, 1, 16) : c.rng.pick(['600', '64', '65']), '--batch', num(c, 64, 256),
    '--architecture', c.rng.pick(['topk', 'standard', 'jumprelu', 'gated', 'batchtopk', 'matryoshka', 'bogus']), '--out', out(c), '--context-size', num(c, 16, 48),
    ...opt(c, 0.2, '--lr', float(c, 0, 0.01)), ...opt(c, 0.2, '--checkpoint-every', num(c, 0, 4)), ...opt(c, 0.2, '--log-every', num(c, 1, 4)),
    ...opt(c, 0.2, '--hook', c.rng.pick(HOOKS)), ...opt(c, 0.2, '--corpus', text(c)), ...opt(c, 0.1, '--resume', file(c, 'saelens-folder')),
    ...opt(c, 0.1, '--matryoshka-prefixes', c.rng.pick(['2,4,8', '0', '8,4', 'x', '1,99999'])),
  ],
  'sae finetune-scale': (c) => [
    'sae', 'finetune-scale', file(c, 'saelens-folder'), '--out', out(c), '--tokens', num(c, 64, 1024), '--batch', num(c, 16, 128), '--contexts', num(c, 1, 2),
    ...opt(c, 0.2, '--lr', float(c, 0, 0.01)), ...opt(c, 0.2, '--decoder'), ...opt(c, 0.3, '--corpus', text(c)), ...opt(c, 0.3, '--eval-corpus', text(c)),
  ],
  'activations cache': (c) => [
    'activations', 'cache', '--hook', c.rng.pick(HOOKS), '--out', c.rng.chance(0.2) ? file(c, 'activation-cache') : out(c), '--tokens', num(c, 64, 1024),
    '--context-size', num(c, 8, 64), '--shard-tokens', num(c, 16, 512), ...opt(c, 0.3, '--corpus', text(c)), ...opt(c, 0.2, '--batch-contexts', num(c, 1, 8)), ...opt(c, 0.1, '--no-bos'),
  ],
  features: (c) => {
    const common = ['--db', file(c, 'feature-index'), '--sae', c.rng.chance(0.8) ? c.pool.indexSae : file(c, 'saelens-folder')];
    const ref = c.rng.pick(['0', '31', '32', '2:5', 'blocks.2.hook_resid_post:3', '-1', 'x', '1e400']);
    switch (c.rng.int(5)) {
      case 0:
        return ['features', 'search', c.rng.pick(['the', '', 'NEAR(', '"', 'things*']), ...common, ...opt(c, 0.3, '--limit', num(c, 1, 50)), ...opt(c, 0.3, '--json')];
      case 1:
        return ['features', 'show', ref, ...common, ...opt(c, 0.3, '--json')];
      case 2:
        return ['features', 'label', ref, c.rng.pick(['plural things', '', 'x'.repeat(5000)]), ...common];
      case 3:
        return ['features', 'explain-text', c.rng.pick(PROMPTS), ...common, ...opt(c, 0.3, '-k', num(c, 1, 10)), ...opt(c, 0.3, '--json')];
      default:
        return ['features', 'contrast', '--a', text(c), '--b', text(c), ...common, ...opt(c, 0.3, '--top', num(c, 1, 10))];
    }
  },
  'features build': (c) => ['features', 'build', '--sae', c.rng.chance(0.7) ? c.pool.indexSae : file(c, 'saelens-folder'), '--db', out(c, '.sqlite'), '--tokens', num(c, 64, 1024), '--corpus', text(c), ...opt(c, 0.3, '--top-contexts', num(c, 1, 5))],
  vector: (c) => {
    switch (c.rng.int(5)) {
      case 0:
        return ['vector', 'show', file(c, 'steering-vectors', 'control-vector-gguf'), ...opt(c, 0.3, '--json')];
      case 1:
        return ['vector', 'export-gguf', file(c, 'steering-vectors'), out(c, '.gguf'), ...opt(c, 0.3, '--model-hint', c.rng.pick(['llama', '', 'x'.repeat(300)]))];
      case 2:
        return ['vector', 'import-gguf', file(c, 'control-vector-gguf'), out(c, '.safetensors')];
      case 3:
        return [
          'vector', 'train', ...(c.rng.chance(0.7) ? ['--pos', text(c), '--neg', text(c)] : ['--pairs', c.rng.chance(0.7) ? c.pool.pairs : text(c)]), '--out', out(c, '.safetensors'),
          ...opt(c, 0.3, '--method', c.rng.pick(['caa', 'pca_diff', 'pca_center', 'bogus'])), ...opt(c, 0.3, '--position', c.rng.pick(['last', 'mean', '0', '-1', '99', 'x'])),
          ...opt(c, 0.3, '--hooks', c.rng.pick(['blocks.1.hook_resid_post', 'blocks.1.hook_resid_post,blocks.2.mlp.hook_post', '', 'nope'])),
        ];
      default:
        return ['vector', 'style', text(c), '--out', out(c, '.safetensors'), '--reference', text(c), ...opt(c, 0.3, '--context', num(c, 2, 64)), ...opt(c, 0.2, '--hooks', c.rng.pick(HOOKS))];
    }
  },
  other: (c) => c.rng.pick([['--help'], ['--version'], ['bogus-command'], ['generate', '--no-such-flag'], ['sae'], ['-n', '3'], []]),
};

/** TINYMORPH_THREADS and TINYMORPH_BACKEND: unset mostly; otherwise valid, out of range or not a number. */
function environment(c: Ctx): Record<string, string> {
  const env: Record<string, string> = {};
  if (c.rng.chance(0.25)) env.TINYMORPH_THREADS = c.rng.pick(['1', '2', '0', '-1', '1024', '1025', '100000', 'abc', '', '1.5', '1e3']);
  if (c.rng.chance(0.1)) env.TINYMORPH_BACKEND = c.rng.pick(['native', 'reference', 'wasm', '']);
  return env;
}

export function cliInput(rng: FuzzRng, pool: PoolPaths, dir: string): CliInput {
  const c: Ctx = { rng, pool, dir };
  const command = rng.pick(Object.keys(COMMANDS));
  return { args: COMMANDS[command](c), env: environment(c) };
}
