import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertOneLineError, runCli as run } from './run-cli.js';

test('sae train --activations: the same SAE files, byte for byte, as training on the model; a cache that does not match the flags, or is too small, is one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-train-cache-'));
  try {
    const acts = join(dir, 'acts');
    const cached = run('activations', 'cache', '--hook', 'blocks.1.hook_resid_post', '--out', acts, '--tokens', '20000', '--context-size', '64', '--shard-tokens', '6000', '--batch-contexts', '9');
    assert.equal(cached.code, 0, cached.stderr);
    // 80 steps of 128 read 16,384 rows through the 8,192-row mixing buffer: within the cache's 20,000.
    const common = ['--architecture', 'topk', '--no-normalize', '--tokens', '10240', '--batch', '128', '--d-sae', '64', '--k', '4', '--seed', '2'];
    const fromModel = run('sae', 'train', '--hook', 'blocks.1.hook_resid_post', '--context-size', '64', ...common, '--out', join(dir, 'model'));
    assert.equal(fromModel.code, 0, fromModel.stderr);
    const fromCache = run('sae', 'train', '--activations', acts, ...common, '--out', join(dir, 'cache'));
    assert.equal(fromCache.code, 0, fromCache.stderr);
    for (const file of ['sae_weights.safetensors', 'sparsity.safetensors', 'cfg.json', 'training_log.jsonl']) {
      assert.ok(readFileSync(join(dir, 'cache', file)).equals(readFileSync(join(dir, 'model', file))), file);
    }

    const manifest = join(acts, 'manifest.json');
    assertOneLineError(run('sae', 'train', '--activations', acts, '--hook', 'blocks.2.hook_resid_post', ...common, '--out', join(dir, 'x')), 1,
      new RegExp(`^tinymorph: ${manifest}: holds the activations of hook "blocks.1.hook_resid_post", but --hook asks for "blocks.2.hook_resid_post"$`));
    assertOneLineError(run('sae', 'train', '--activations', acts, '--context-size', '128', ...common, '--out', join(dir, 'x')), 1, /holds the activations of context size 64, but --context-size asks for 128/);
    assertOneLineError(run('sae', 'train', '--activations', acts, '--model', join(dir, 'other.bin'), ...common, '--out', join(dir, 'x')), 1, /holds the activations of model ".*stories260K\.bin", but --model asks for ".*other\.bin"/);
    assertOneLineError(run('sae', 'train', '--activations', acts, ...common, '--tokens', '40000', '--out', join(dir, 'x')), 1,
      new RegExp(`^tinymorph: ${acts} holds 20000 activations, fewer than the 39936 this run trains on \\(312 steps of 128\\): lower --tokens, or cache more$`));
    assertOneLineError(run('sae', 'train', '--activations', join(dir, 'nowhere'), '--out', join(dir, 'x')), 1, /nowhere\/manifest\.json: no such file/);
    // A checkpoint resumes only on the stream it was trained on.
    assertOneLineError(run('sae', 'train', '--resume', join(dir, 'cache', 'checkpoint'), '--hook', 'blocks.2.hook_resid_post', '--out', join(dir, 'x')), 1,
      /the checkpoint was trained on hook_name "blocks.1.hook_resid_post", this run streams "blocks.2.hook_resid_post"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
