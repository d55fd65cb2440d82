/**
 * Where `sae train` reads its activations: the model run over the corpus (default), or a folder
 * written by `tinymorph activations cache` (--activations), which needs no model at all. A flag left
 * out takes the cache's value (and on --resume the checkpoint's); a flag given must match it, or the
 * run stops with an error naming both values, as does a resumed run whose stream is not the one the
 * checkpoint was trained on.
 */
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ActivationCacheError, UsageError } from '../../errors.js';
import { trainSampleTextPath } from '../../model/embedded.js';
import type { HookName } from '../../model/hook-points.js';
import { loadModel } from '../../model/load-model.js';
import type { ActivationSource } from '../../sae/activation-store/activation-source.js';
import { cachedActivationSource, liveActivationSource } from '../../sae/activation-store/activation-source.js';
import { corpusDocuments } from '../../sae/activation-store/activation-store.js';
import { MANIFEST_FILE } from '../../sae/activation-store/cache-manifest.js';
import { DEFAULT_CONTEXT_SIZE } from '../../sae/activation-store/token-contexts.js';
import type { SaeMetadata } from '../../sae/sae-config.js';
import { packageRoot } from '../../util/package-root.js';
import { cycleDocuments, flagNumber } from '../options.js';

export const DEFAULT_HOOK = 'blocks.2.hook_resid_post';

export interface SourceFlags {
  hook?: string;
  contextSize?: string;
  model?: string;
  corpus?: string;
  /** A cache folder to train from instead of running the model. */
  activations?: string;
}

export interface TrainingStream {
  source: ActivationSource;
  /** cfg.json metadata of an SAE trained on this stream. */
  metadata: SaeMetadata;
  /** How the source's extent reads in a message (a cache folder), when it has one. */
  describe: string;
}

/** The stream the flags ask for; `resumed`: the metadata of the checkpoint being resumed, which it must match. */
export function trainingStream(f: SourceFlags, resumed?: { dir: string; metadata: SaeMetadata }): TrainingStream {
  const contextSize = f.contextSize === undefined ? undefined : flagNumber('--context-size', f.contextSize, true);
  const stream = f.activations === undefined ? liveStream(f, contextSize, resumed?.metadata) : cacheStream(f.activations, f, contextSize);
  if (resumed) {
    for (const key of ['model_name', 'hook_name', 'context_size', 'prepend_bos', 'dataset_path', 'exclude_special_tokens'] as const) {
      if (resumed.metadata[key] !== stream.metadata[key]) {
        throw new UsageError(`--resume ${resumed.dir}: the checkpoint was trained on ${key} ${JSON.stringify(resumed.metadata[key])}, this run streams ${JSON.stringify(stream.metadata[key])}`);
      }
    }
  }
  return stream;
}

function liveStream(f: SourceFlags, contextSize: number | undefined, resumed: SaeMetadata | undefined): TrainingStream {
  const hook = f.hook ?? (resumed?.hook_name as string | undefined) ?? DEFAULT_HOOK;
  const context = contextSize ?? (resumed?.context_size as number | undefined) ?? DEFAULT_CONTEXT_SIZE;
  const { model, tokenizer, modelPath } = loadModel({ model: f.model });
  const corpus = f.corpus ?? trainSampleTextPath();
  const docs = corpusDocuments(corpus);
  const source = liveActivationSource(model, tokenizer, () => cycleDocuments(docs), { hook: hook as HookName, contextSize: context, prependBos: true });
  return {
    source,
    metadata: { model_name: basename(modelPath, '.bin'), hook_name: hook, context_size: context, prepend_bos: true, dataset_path: portableName(corpus), exclude_special_tokens: true },
    describe: `the model's activations at ${hook}`,
  };
}

function cacheStream(dir: string, f: SourceFlags, contextSize: number | undefined): TrainingStream {
  const source = cachedActivationSource(dir);
  const m = source.manifest;
  const check = (what: string, flag: string, cached: string | number, value: string | number | undefined, key: (v: string | number) => string = String): void => {
    if (value !== undefined && key(value) !== key(cached)) {
      throw new ActivationCacheError(join(dir, MANIFEST_FILE), `holds the activations of ${what} ${JSON.stringify(cached)}, but ${flag} asks for ${JSON.stringify(value)}`);
    }
  };
  const path = (v: string | number): string => resolve(String(v));
  check('hook', '--hook', m.hook, f.hook);
  check('context size', '--context-size', m.context_size, contextSize);
  check('model', '--model', m.model, f.model, path);
  check('corpus', '--corpus', m.corpus, f.corpus, path);
  return {
    source,
    metadata: {
      model_name: basename(m.model, '.bin'), hook_name: m.hook, context_size: m.context_size, prepend_bos: m.prepend_bos, dataset_path: portableName(m.corpus),
      exclude_special_tokens: m.exclude_special_tokens,
    },
    describe: `${dir} holds ${m.total_tokens} activations${m.corpus_exhausted ? ' (its corpus ran out)' : ''}`,
  };
}

/** A path for cfg.json that means the same on another machine: relative to the package when inside it (the embedded model and corpus). */
function portableName(path: string): string {
  const rel = relative(packageRoot(), resolve(path));
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel.split(sep).join('/');
}
