import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ActivationCacheError } from '../../src/errors.js';
import { loadModel } from '../../src/model/load-model.js';
import { cachedActivations, corpusDocuments, modelActivations } from '../../src/sae/activation-store/activation-store.js';
import type { CacheActivationsOptions } from '../../src/sae/activation-store/cache-writer.js';
import { cacheActivations } from '../../src/sae/activation-store/cache-writer.js';
import { cacheDiskBytes, openActivationCache } from '../../src/sae/activation-store/cache-reader.js';
import { cachedActivationSource } from '../../src/sae/activation-store/activation-source.js';
import { writeSafetensors } from '../../src/model/safetensors.js';

const { model, tokenizer } = loadModel();
const docs = corpusDocuments().slice(0, 60);
const d = model.config.dim;
const base: Omit<CacheActivationsOptions, 'dir'> = {
  hook: 'blocks.2.hook_resid_post', tokens: 3000, contextSize: 48, batchContexts: 5, shardTokens: 700, modelName: 'embedded', corpusName: 'test',
};
const tmp = (): string => mkdtempSync(join(tmpdir(), 'tm-acts-'));
const concat = (parts: Float32Array[]): Float32Array => {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
};

test('disk cache round trip: shards read back equal the activations the model gives', () => {
  const dir = tmp();
  const { manifest } = cacheActivations(model, tokenizer, docs, { ...base, dir });
  assert.equal(manifest.total_tokens, 3000);
  assert.equal(manifest.complete, true);
  assert.deepEqual(manifest.shards.map((s) => s.tokens), [700, 700, 700, 700, 200]);
  const fromDisk = concat([...cachedActivations(dir)]);
  const direct = concat([...modelActivations(model, tokenizer, docs, { hook: base.hook, contextSize: 48, batchContexts: 7 })]).subarray(0, 3000 * d);
  assert.deepEqual(fromDisk, direct);
  assert.ok(cacheDiskBytes(dir, manifest) > 3000 * d * 4);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  rmSync(dir, { recursive: true });
});

test('resume after an interruption gives the same shards as an uninterrupted run', () => {
  const whole = tmp();
  cacheActivations(model, tokenizer, docs, { ...base, dir: whole });
  const dir = tmp();
  assert.throws(
    () => cacheActivations(model, tokenizer, docs, { ...base, dir, onShard: (m) => { if (m.shards.length === 2) throw new Error('killed'); } }),
    /killed/,
  );
  assert.equal(openActivationCache(dir).manifest.shards.length, 2);
  assert.equal(openActivationCache(dir).manifest.complete, false);
  // A half-written shard from the crash: not in the manifest, so it is written again.
  writeFileSync(join(dir, 'shard-00002.safetensors'), 'garbage');
  const { manifest, resumedTokens } = cacheActivations(model, tokenizer, docs, { ...base, dir });
  assert.equal(resumedTokens, 1400);
  assert.deepEqual(manifest.shards, openActivationCache(whole).manifest.shards);
  assert.deepEqual(concat([...cachedActivations(dir)]), concat([...cachedActivations(whole)]));
  assert.deepEqual([...cachedActivationSource(dir).contextRows()], [...cachedActivationSource(whole).contextRows()]);
  // A larger target extends the cache; the extension equals a fresh run to that target.
  cacheActivations(model, tokenizer, docs, { ...base, dir, tokens: 4000 });
  const fresh = tmp();
  cacheActivations(model, tokenizer, docs, { ...base, dir: fresh, tokens: 4000 });
  assert.deepEqual(concat([...cachedActivations(dir)]), concat([...cachedActivations(fresh)]));
  assert.deepEqual([...cachedActivationSource(dir).contextRows()], [...cachedActivationSource(fresh).contextRows()]);
  for (const x of [whole, dir, fresh]) rmSync(x, { recursive: true });
});

test('a corpus that runs out marks the cache complete and exhausted', () => {
  const dir = tmp();
  const { manifest } = cacheActivations(model, tokenizer, docs.slice(0, 3), { ...base, dir, tokens: 1_000_000 });
  assert.equal(manifest.corpus_exhausted, true);
  assert.ok(manifest.total_tokens > 0 && manifest.total_tokens < 1_000_000);
  rmSync(dir, { recursive: true });
});

test('missing, corrupt or mismatched manifest: an error naming the file', () => {
  const dir = tmp();
  assert.throws(() => openActivationCache(dir), (e: unknown) => e instanceof ActivationCacheError && e.message.includes(join(dir, 'manifest.json')) && /no such file/.test(e.message));
  writeFileSync(join(dir, 'manifest.json'), '{"format": "tinymorph-activation-cache", ');
  assert.throws(() => openActivationCache(dir), (e: unknown) => e instanceof ActivationCacheError && e.message.includes(join(dir, 'manifest.json')) && /not valid JSON/.test(e.message));
  assert.throws(() => cacheActivations(model, tokenizer, docs, { ...base, dir }), /manifest\.json: is not valid JSON/);
  rmSync(join(dir, 'manifest.json'));
  cacheActivations(model, tokenizer, docs, { ...base, dir, tokens: 800 });
  assert.throws(() => cacheActivations(model, tokenizer, docs, { ...base, dir, contextSize: 64 }), /cannot resume, settings differ \(context_size: the cache has 48, this run asks for 64\)/);
  writeFileSync(join(dir, 'shard-00001.safetensors'), 'truncated');
  assert.throws(() => [...cachedActivations(dir)], (e: unknown) => e instanceof ActivationCacheError && e.message.includes('shard-00001.safetensors'));
  rmSync(dir, { recursive: true });
});

test('a manifest nested 5,000 or 100,000 deep, or holding a megabyte string or 1e400, is one short error naming the field', () => {
  const dir = tmp();
  cacheActivations(model, tokenizer, docs, { ...base, dir, tokens: 200 });
  const path = join(dir, 'manifest.json');
  const good = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const expectError = (text: string, what: RegExp) =>
    assert.throws(
      () => openActivationCache(dir),
      (e: unknown) => e instanceof ActivationCacheError && e.message.startsWith(`${path}: `) && e.message.length < 300 && what.test(e.message),
      (writeFileSync(path, text), text.slice(0, 60)),
    );
  for (const depth of [5_000, 100_000]) {
    for (const [open, close] of [['[', ']'], ['{"a":', '}']]) expectError(`{"format": ${open.repeat(depth)}1${close.repeat(depth)}}`, /: nests deeper than 64 levels$/);
  }
  expectError(JSON.stringify({ ...good, format: 'x'.repeat(1 << 20) }), /"format" is "x+…, expected "tinymorph-activation-cache"$/);
  expectError(JSON.stringify(good).replace(/"d_in":\d+/, '"d_in":1e400'), /"d_in" must be a non-negative integer, got Infinity$/);
  expectError(JSON.stringify({ ...good, shards: [{ file: '../x' }] }), /"shards\[0\]\.file" must be a file name inside the folder, got "\.\.\/x"$/);
  expectError(JSON.stringify({ ...good, total_tokens: 5 }), /"total_tokens" is 5 but the shards hold \d+$/);
  rmSync(dir, { recursive: true });
});

test('a version 1 cache, or a shard whose context ends are missing or out of order: an error naming the file', () => {
  const dir = tmp();
  cacheActivations(model, tokenizer, docs, { ...base, dir, tokens: 800 });
  const manifestPath = join(dir, 'manifest.json');
  const manifest = readFileSync(manifestPath, 'utf8');
  writeFileSync(manifestPath, manifest.replace('"version": 2', '"version": 1'));
  assert.throws(() => openActivationCache(dir), (e: unknown) => e instanceof ActivationCacheError && /"version" is 1, this build reads version 2 \(run `tinymorph activations cache` into a new folder\)/.test(e.message));
  writeFileSync(manifestPath, manifest);
  const shard = join(dir, 'shard-00001.safetensors');
  const activations = { shape: [100, d], data: new Float32Array(100 * d) };
  writeSafetensors(shard, { activations });
  assert.throws(() => openActivationCache(dir).shard(1), (e: unknown) => e instanceof ActivationCacheError && e.message.startsWith(shard) && /no "context_ends" tensor/.test(e.message));
  writeSafetensors(shard, { activations, context_ends: { dtype: 'I32', shape: [2], data: Int32Array.of(40, 30) } });
  assert.throws(() => openActivationCache(dir).shard(1), (e: unknown) => e instanceof ActivationCacheError && /context_ends\[1\] = 30 is out of order/.test(e.message));
  writeSafetensors(shard, { activations, context_ends: { dtype: 'I32', shape: [1], data: Int32Array.of(101) } });
  assert.throws(() => openActivationCache(dir).shard(1), /context_ends\[0\] = 101 is out of order or past the shard's 100 activations/);
  rmSync(dir, { recursive: true });
});
