import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertOneLineError, runCli as run } from './run-cli.js';
import { assetPath } from '../../src/util/package-root.js';
import { availableBackends } from '../../src/tensor/backend-registry.js';
import { readSaeLensFolder, writeSaeLensFolder } from '../../src/sae/saelens-format.js';
import { randomSae, v6Config } from '../sae/sae-test-helpers.js';
import { SafetensorsFile } from '../../src/model/safetensors.js';
import { loadModel } from '../../src/model/load-model.js';

test('generate -t 0 "Zoo" reproduces llama2.c run.c -i "Zoo" -n 60 (57 new tokens)', () => {
  const r = run('generate', 'Zoo', '-n', '57', '-t', '0', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(
    out.prompt + out.text,
    "Zoo was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but she didn't want to play with",
  );
  assert.equal(out.tokens.length, 57);
});

test('generate streams the same text it reports, and a seed makes sampling repeatable', () => {
  const a = run('generate', 'Lily and Ben', '-n', '40', '--seed', '7');
  const b = run('generate', 'Lily and Ben', '-n', '40', '--seed', '7', '--json');
  assert.equal(a.code, 0, a.stderr);
  const j = JSON.parse(b.stdout);
  assert.equal(a.stdout, `Lily and Ben${j.text}\n`);
  assert.match(a.stderr, /tok\/s/);
});

test('tokenize prints the reference encoding', () => {
  const r = run('tokenize', 'Lily and Ben are friends.', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).ids, [1, 317, 269, 368, 302, 261, 276, 374, 419, 426]);
});

test('inspect reports format, config and parameter count of the embedded model', () => {
  const r = run('inspect', '--json');
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.equal(info.format, 'llama2c-v0');
  assert.equal(info.bytes, 1056540);
  assert.equal(info.config.nKvHeads, 4);
  assert.equal(info.nonFiniteWeights, 0);
  // The fastest available backend is chosen automatically (native when its addon is built)…
  assert.equal(info.backend, availableBackends().includes('native') ? 'native' : 'reference');
  // …and --backend / TINYMORPH_BACKEND override it.
  assert.equal(JSON.parse(run('inspect', '--json', '--backend', 'reference').stdout).backend, 'reference');
});

test('inspect flags NaN weights with a non-zero exit', () => {
  const bytes = new Uint8Array(readFileSync(assetPath('models', 'stories260K.bin')));
  const floats = new Float32Array(bytes.buffer, 28, 100);
  floats[10] = NaN; // inside the token embedding
  const dir = mkdtempSync(join(tmpdir(), 'tm-'));
  const file = join(dir, 'nan.bin');
  writeFileSync(file, bytes);
  const r = run('inspect', file);
  assertOneLineError(r, 1, /nan\.bin: 1 weights are NaN or infinite: tok_embeddings \(1, first at index 10\)/);
});

test('perplexity of the first 25 train-sample stories matches the reference 1.258 nats/token', () => {
  const r = run('perplexity', assetPath('data', 'tinystories_train_sample.txt'), '--max-docs', '25', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.documents, 25);
  assert.ok(Math.abs(out.mean_ce_nats - 1.258) <= 0.005, `got ${out.mean_ce_nats}`);
  // Progress is reported as JSON lines when stderr is not a terminal.
  assert.match(r.stderr, /"progress":"perplexity"/);
});

test('user mistakes: one clear line and a non-zero exit', () => {
  assertOneLineError(run('generate', '--bogus'), 2, /unknown option '--bogus'/);
  assertOneLineError(run('generate', '-n', 'lots'), 2, /-n, --max-tokens <n>.*invalid/);
  assertOneLineError(run('generate', '-t', '-1'), 1, /temperature/);
  assertOneLineError(run('frobnicate'), 2, /unknown command 'frobnicate'/);
  assertOneLineError(run('inspect', '/no/such/model.bin'), 1, /\/no\/such\/model\.bin: no such file/);
  assertOneLineError(run('perplexity', '/no/such/text.txt'), 1, /\/no\/such\/text\.txt: no such file/);
  assertOneLineError(run('generate', 'x', '--backend', 'quantum'), 1, /unknown backend "quantum"/);
  const dir = mkdtempSync(join(tmpdir(), 'tm-'));
  const bad = join(dir, 'bad.bin');
  writeFileSync(bad, readFileSync(assetPath('models', 'stories260K.bin')).subarray(0, 5000));
  assertOneLineError(run('generate', 'x', '--model', bad), 1, /bad\.bin: truncated/);
});

test('--help works on every command', () => {
  for (const cmd of ['generate', 'tokenize', 'inspect', 'perplexity', 'demo']) {
    const r = run(cmd, '--help');
    assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`Usage: tinymorph ${cmd}`));
  }
});

// ---------------------------------------------------------------------------------------------
// Q8_0: --quantize on model commands, `tinymorph quantize`, the weight format in `inspect`

test('generate --quantize q8_0 -t 0 "Zoo": greedy text from Q8_0 weights (same opening as fp32)', () => {
  const r = run('generate', 'Zoo', '-n', '57', '-t', '0', '--quantize', 'q8_0', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.tokens.length, 57);
  assert.match(out.prompt + out.text, /^Zoo was a little girl named Lily\. She loved to play outside in the park\./);
});

test('inspect shows the weight format and bytes: fp32, and q8_0 with its group sizes', () => {
  const fp = JSON.parse(run('inspect', '--json').stdout);
  assert.deepEqual(fp.weights, { format: 'fp32', groupSizes: {}, bytes: 1040128 });
  const r = run('inspect', '--quantize', 'q8_0');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^weights\s+q8_0 in groups of 32 \(w2: 4\), 473,792 bytes$/m);
  const q = JSON.parse(run('inspect', '--quantize', 'q8_0', '--json').stdout);
  assert.equal(q.weights.format, 'q8_0');
  assert.deepEqual(q.weights.groupSizes, { wq: 32, wk: 32, wv: 32, wo: 32, w1: 32, w2: 4, w3: 32, classifier: 32 });
});

test('quantize writes a llama2.c v2 file that inspect, generate and perplexity read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-'));
  const out = join(dir, 'stories260K-q8.bin');
  const r = run('quantize', assetPath('models', 'stories260K.bin'), out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote .*stories260K-q8\.bin: llama2c-v2, Q8_0 in groups of 4, 521,728 bytes/);
  assert.equal(readFileSync(out).length, 521728);
  const info = JSON.parse(run('inspect', out, '--json').stdout);
  assert.equal(info.format, 'llama2c-v2');
  assert.equal(info.weights.format, 'q8_0');
  assert.equal(info.weights.groupSizes.w2, 4);
  const g = run('generate', 'Zoo', '-n', '20', '-t', '0', '--model', out, '--json');
  assert.equal(g.code, 0, g.stderr);
  assert.match(JSON.parse(g.stdout).text, /^ was a little girl/);
  const p = run('perplexity', assetPath('data', 'tinystories_train_sample.txt'), '--max-docs', '5', '--model', out, '--json');
  assert.equal(p.code, 0, p.stderr);
  assert.ok(Number.isFinite(JSON.parse(p.stdout).mean_ce_nats));
  const j = JSON.parse(run('quantize', assetPath('models', 'stories260K.bin'), join(dir, 'g2.bin'), '--group-size', '2', '--json').stdout);
  assert.deepEqual([j.groupSize, j.bytes], [2, 781056]);
});

test('Q8_0 user mistakes: one clear line and a non-zero exit', () => {
  assertOneLineError(run('generate', 'x', '--quantize', 'q4_0'), 2, /--quantize <format>.*'q4_0' is invalid.*q8_0/);
  const dir = mkdtempSync(join(tmpdir(), 'tm-'));
  const q8 = join(dir, 'q8.bin');
  assert.equal(run('quantize', assetPath('models', 'stories260K.bin'), q8).code, 0);
  assertOneLineError(run('quantize', q8, join(dir, 'again.bin')), 1, /q8\.bin is already Q8_0/);
  assertOneLineError(run('quantize', assetPath('models', 'stories260K.bin'), join(dir, 'no', 'such', 'out.bin')), 1, /^tinymorph: output .*out\.bin: its folder .*such does not exist$/);
  assertOneLineError(run('quantize', assetPath('models', 'stories260K.bin'), join(dir, 'g32.bin'), '--group-size', '32'), 1, /group size 32 does not divide the 172 columns/);
  assertOneLineError(run('quantize', '/no/such/model.bin', join(dir, 'x.bin')), 1, /\/no\/such\/model\.bin: no such file/);
  const cut = join(dir, 'cut-q8.bin');
  writeFileSync(cut, readFileSync(q8).subarray(0, 100_000));
  assertOneLineError(run('generate', 'x', '--model', cut), 1, /cut-q8\.bin: truncated/);
  assertOneLineError(run('generate', 'x', '--quantize', 'q8_0', '--model', cut), 1, /cut-q8\.bin: truncated/);
  const cutFp32 = join(dir, 'cut.bin');
  writeFileSync(cutFp32, readFileSync(assetPath('models', 'stories260K.bin')).subarray(0, 5000));
  assertOneLineError(run('inspect', cutFp32, '--quantize', 'q8_0'), 1, /cut\.bin: truncated/);
});

test('quantize --help', () => {
  const r = run('quantize', '--help');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Usage: tinymorph quantize \[options\] <in> <out>/);
});

test('sae convert: a SAELens folder round-trips through the CLI, checked against the model; bad input is one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-sae-'));
  const sae = randomSae(v6Config('topk', 64, 128, { k: 8, metadata: { model_name: 'stories260K', hook_name: 'blocks.2.hook_resid_post' } }), 5);
  writeSaeLensFolder(join(dir, 'in'), sae);
  const r = run('sae', 'convert', join(dir, 'in'), '--from', 'saelens', '--out', join(dir, 'out'), '--model', assetPath('models', 'stories260K.bin'));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /topk SAE, d_in=64, d_sae=128, k=8, hook blocks\.2\.hook_resid_post/);
  const back = readSaeLensFolder(join(dir, 'out'));
  assert.deepEqual(back.weights, sae.weights);
  assertOneLineError(run('sae', 'convert', join(dir, 'missing'), '--from', 'saelens', '--out', join(dir, 'o2')), 1, /missing/);
  assertOneLineError(run('sae', 'convert', join(dir, 'in'), '--from', 'pickle', '--out', join(dir, 'o3')), 2, /--from/);
  // The hook must exist on the model and be d_in wide.
  assertOneLineError(run('sae', 'convert', join(dir, 'in'), '--from', 'saelens', '--out', join(dir, 'o4'), '--hook', 'blocks.2.mlp.hook_post', '--model', assetPath('models', 'stories260K.bin')), 1, /172|64/);
  // A cfg.json nested 100,000 deep, or with a 1e400 or a megabyte value, is one short line (the stack and the line stay bounded).
  const cfg = join(dir, 'in', 'cfg.json');
  const good = readFileSync(cfg, 'utf8');
  for (const [text, what] of [
    [`{"d_in": 64, "extra": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`, /cfg\.json: nests deeper than 64 levels$/],
    [good.replace(/"d_sae": \d+/, '"d_sae": 1e400'), /cfg\.json: field "d_sae" must be a positive integer, got Infinity$/],
    [good.replace(/"architecture": "topk"/, `"architecture": "${'x'.repeat(1 << 20)}"`), /cfg\.json: field "architecture" is "x+… \(known: /],
  ] as [string, RegExp][]) {
    writeFileSync(cfg, text);
    const bad = run('sae', 'convert', join(dir, 'in'), '--from', 'saelens', '--out', join(dir, 'o5'));
    assertOneLineError(bad, 1, what);
    assert.ok(bad.stderr.length < 300, `${bad.stderr.length} characters`);
  }
});

test('activations cache: shards a hook activation to disk; bad hooks are one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-acts-'));
  const out = join(dir, 'cache');
  const args = ['activations', 'cache', '--hook', 'blocks.2.hook_resid_post', '--out', out, '--tokens', '3000', '--context-size', '32', '--shard-tokens', '1000'];
  const r = run(...args);
  assert.equal(r.code, 0, r.stderr);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  assert.ok(JSON.stringify(manifest).includes('blocks.2.hook_resid_post'));
  const shard = readSaeShard(join(out, 'shard-00000.safetensors'));
  assert.deepEqual(shard.shape, [1000, 64]);
  // Reruns and resuming: activations-cache-cli.test.ts.
  assertOneLineError(run('activations', 'cache', '--hook', 'blocks.7.hook_resid_post', '--out', join(dir, 'x')), 1, /blocks\.7\.hook_resid_post/);
});

function readSaeShard(path: string): { shape: number[] } {
  return SafetensorsFile.open(path).info('activations');
}

test('sae train: a short run writes a SAELens folder for the hook, loadable and checked against the model', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-train-'));
  const out = join(dir, 'sae');
  const r = run('sae', 'train', '--tokens', '20000', '--batch', '256', '--d-sae', '128', '--k', '8', '--out', out, '--seed', '3');
  assert.equal(r.code, 0, r.stderr);
  const sae = readSaeLensFolder(out, { model: loadModel().model.config });
  assert.equal(sae.config.architecture, 'topk');
  assert.equal(sae.config.d_sae, 128);
  assert.equal(sae.config.metadata.hook_name, 'blocks.2.hook_resid_post');
  // plots and the training log next to the SAE: 78 steps, a row at step 1 and every 10 steps
  const log = readFileSync(join(out, 'training_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; tokens: number; l0: number });
  assert.deepEqual(log.map((e) => e.step), [1, 10, 20, 30, 40, 50, 60, 70]);
  assert.equal(log[1].tokens, 10 * 256);
  for (const [file, texts] of [['loss.svg', ['SAE training loss', 'training tokens', 'mse', 'total']], ['l0.svg', ['SAE sparsity', 'L0', 'dead fraction']], ['feature_density.svg', ['Feature density', 'log10 feature density']]] as const) {
    const svg = readFileSync(join(out, file), 'utf8');
    assert.ok(svg.startsWith('<svg'), file);
    for (const t of texts) assert.ok(svg.includes(t), `${file} mentions ${t}`);
  }
  assertOneLineError(run('sae', 'train', '--architecture', 'nope', '--out', join(dir, 'x')), 2, /architecture/);

  // …and sae eval scores it with SAELens' metric names.
  const e = run('sae', 'eval', out, '--contexts', '4', '--context-size', '64', '--out', join(dir, 'eval.json'));
  assert.equal(e.code, 0, e.stderr);
  const ev = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8'));
  assert.ok(readFileSync(join(dir, 'feature_density.svg'), 'utf8').startsWith('<svg'));
  const keys = JSON.stringify(ev);
  for (const k of ['explained_variance', 'ce_loss_score', 'kl_div_score', 'l2_ratio', 'relative_reconstruction_bias', 'ce_loss_with_ablation', 'dead_features_fraction']) assert.ok(keys.includes(`"${k}"`), k);
  assert.ok(ev.sparsity.l0 > 0 && ev.sparsity.l0 <= 8, `l0 ${ev.sparsity.l0}`); // top-k with k = 8 fires at most 8 latents per token
  assertOneLineError(run('sae', 'eval', join(dir, 'nowhere')), 1, /nowhere/);
});
