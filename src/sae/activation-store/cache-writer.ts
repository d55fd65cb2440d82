/**
 * Caching activations to disk: the activation stream of a hook point cut into safetensors shards of
 * `shardTokens` activations (`activations` [n, d_in], `context_ends` [contexts ending in the shard]:
 * the shard row after each one's last activation, + metadata), each written atomically and then
 * recorded in the manifest (also atomic). The context ends let a reader regroup the stream as the
 * model produced it (see activation-source.ts). A rerun on the same folder resumes after the last shard
 * the manifest lists; the shard boundaries and contents are those of an uninterrupted run, because
 * the manifest records the exact stream position (context, activation within it) after each shard.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { ActivationCacheError, UsageError } from '../../errors.js';
import type { HookName } from '../../model/hook-points.js';
import type { LlamaModel } from '../../model/llama-model.js';
import type { I32TensorToWrite } from '../../model/safetensors.js';
import { writeSafetensors } from '../../model/safetensors.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import { hookWidth } from '../hook-width.js';
import type { CacheManifest, CacheSettings } from './cache-manifest.js';
import { MANIFEST_FILE, newManifest, readManifest, settingsMismatch, writeManifest } from './cache-manifest.js';
import { hookActivations } from './hook-activations.js';
import type { TokenContextOptions } from './token-contexts.js';
import { contextSettings, tokenContexts } from './token-contexts.js';

export const DEFAULT_SHARD_TOKENS = 65536;

export interface CacheActivationsOptions extends TokenContextOptions {
  dir: string;
  hook: HookName;
  /** Activations to cache in all (a rerun with a larger target extends the cache). */
  tokens: number;
  /** Names recorded in the manifest and checked on resume (a model path, a corpus path). */
  modelName: string;
  corpusName: string;
  excludeSpecialTokens?: boolean;
  batchContexts?: number;
  shardTokens?: number;
  /** Called after every forward batch with the activations cached so far (this run and before). */
  onProgress?: (tokens: number) => void;
  /** Called after each shard is on disk and in the manifest. */
  onShard?: (manifest: CacheManifest) => void;
}

export interface CacheActivationsResult {
  manifest: CacheManifest;
  /** Activations already cached when this run started. */
  resumedTokens: number;
}

export const shardFileName = (i: number): string => `shard-${String(i).padStart(5, '0')}.safetensors`;

export function cacheActivations(model: LlamaModel, tokenizer: Tokenizer, documents: Iterable<string>, o: CacheActivationsOptions): CacheActivationsResult {
  const ctx = contextSettings(o, model.config.seqLen);
  const shardTokens = o.shardTokens ?? DEFAULT_SHARD_TOKENS;
  if (!Number.isSafeInteger(shardTokens) || shardTokens < 1) throw new UsageError(`shard tokens must be a positive integer, got ${shardTokens}`);
  if (!Number.isSafeInteger(o.tokens) || o.tokens < 1) throw new UsageError(`tokens must be a positive integer, got ${o.tokens}`);
  const width = hookWidth(model.config, o.hook);
  if (width === undefined) throw new UsageError(`${o.hook} has no fixed per-token width; pick another hook point`);
  // A shard is held in memory until written; one never holds more than the tokens asked for.
  const heldRows = Math.min(shardTokens, o.tokens);
  if (4 * heldRows * width > totalmem()) throw new UsageError(`a shard of ${heldRows} activations × ${width} needs ${4 * heldRows * width} bytes of memory, more than this machine's ${totalmem()}; use fewer shard tokens`);
  const settings: CacheSettings = {
    model: o.modelName, corpus: o.corpusName, hook: o.hook, d_in: width, context_size: ctx.contextSize, prepend_bos: ctx.prependBos,
    exclude_special_tokens: o.excludeSpecialTokens ?? true, shard_tokens: shardTokens,
  };

  mkdirSync(o.dir, { recursive: true });
  const manifest = existsSync(join(o.dir, MANIFEST_FILE)) ? resumable(o.dir, settings) : newManifest(settings, o.tokens);
  const asRead = JSON.stringify(manifest);
  manifest.target_tokens = Math.max(o.tokens, manifest.total_tokens);
  const resumedTokens = manifest.total_tokens;
  if (manifest.total_tokens >= o.tokens || manifest.corpus_exhausted) {
    manifest.complete = true;
    // A rerun on a complete cache leaves the folder as it was, manifest included.
    if (JSON.stringify(manifest) !== asRead) writeManifest(o.dir, manifest);
    return { manifest, resumedTokens };
  }
  manifest.complete = false;
  removeStaleTempFiles(o.dir);
  const last = manifest.shards.at(-1);
  const startContext = last?.next_context ?? 0;
  let skip = last?.next_offset ?? 0; // activations of the first context already in the last shard

  const contexts = dropFirst(tokenContexts(tokenizer, documents, ctx), startContext);
  const exclude = settings.exclude_special_tokens ? [tokenizer.bosId, tokenizer.eosId] : [];
  const pending = new Float32Array(Math.min(shardTokens, o.tokens - manifest.total_tokens) * width); // [shard rows, width]
  let held = 0;
  let ends: number[] = []; // context ends in the pending shard
  let contextIndex = startContext;
  const flush = (nextContext: number, nextOffset: number): void => {
    const file = shardFileName(manifest.shards.length);
    const data = pending.subarray(0, held * width);
    const contextEnds: I32TensorToWrite = { dtype: 'I32', shape: [ends.length], data: Int32Array.from(ends) };
    writeSafetensors(join(o.dir, file), { activations: { shape: [held, width], data }, context_ends: contextEnds }, {
      hook: settings.hook, model: settings.model, context_size: String(settings.context_size), prepend_bos: String(settings.prepend_bos),
      d_in: String(width), token_count: String(held), shard_index: String(manifest.shards.length),
    });
    manifest.shards.push({ file, tokens: held, bytes: shardBytes(o.dir, file), next_context: nextContext, next_offset: nextOffset });
    manifest.total_tokens += held;
    held = 0;
    ends = [];
    writeManifest(o.dir, manifest);
    o.onShard?.(manifest);
  };

  for (const batch of hookActivations(model, contexts, { hook: o.hook, batchContexts: o.batchContexts, excludeTokenIds: exclude })) {
    let row = 0; // first row of the current context in batch.data
    for (let c = 0; c < batch.perContext.length; c++, contextIndex++) {
      const k = batch.perContext[c];
      let at = skip;
      skip = 0;
      if (k === 0) ends.push(held);
      while (at < k) {
        const take = Math.min(k - at, shardTokens - held, o.tokens - manifest.total_tokens - held);
        pending.set(batch.data.subarray((row + at) * width, (row + at + take) * width), held * width);
        at += take;
        held += take;
        if (at === k) ends.push(held);
        const reached = manifest.total_tokens + held === o.tokens;
        if (held === shardTokens || reached) flush(at === k ? contextIndex + 1 : contextIndex, at === k ? 0 : at);
        if (reached) {
          manifest.complete = true;
          writeManifest(o.dir, manifest);
          return { manifest, resumedTokens };
        }
      }
      row += k;
    }
    o.onProgress?.(manifest.total_tokens + held);
  }
  // The corpus ran out before the target: keep what there is.
  if (held > 0) flush(contextIndex, 0);
  manifest.complete = true;
  manifest.corpus_exhausted = true;
  writeManifest(o.dir, manifest);
  return { manifest, resumedTokens };
}

function resumable(dir: string, settings: CacheSettings): CacheManifest {
  const m = readManifest(dir);
  const diff = settingsMismatch(m, settings);
  if (diff) throw new ActivationCacheError(join(dir, MANIFEST_FILE), `cannot resume, settings differ (${diff}); use another --out folder`);
  return m;
}

function shardBytes(dir: string, file: string): number {
  return statSync(join(dir, file)).size;
}

/** Temp files a crash left behind (writeFileAtomic names them `.<name>.<pid>.<hex>.tmp`). */
function removeStaleTempFiles(dir: string): void {
  for (const name of readdirSync(dir)) if (/^\.(shard-\d+\.safetensors|manifest\.json)\.\d+\.[0-9a-f]+\.tmp$/.test(name)) rmSync(join(dir, name), { force: true });
}

function* dropFirst<T>(it: Iterable<T>, n: number): Generator<T> {
  let i = 0;
  for (const x of it) if (i++ >= n) yield x;
}
