import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { splitDocuments } from '../../model/documents.js';
import { validationTextPath } from '../../model/embedded.js';
import { writeSteeringVectors } from '../../steer/steering-vector-set.js';
import { parseHookList } from '../../steer/vectors/contrast-vectors.js';
import { DEFAULT_STYLE_CONTEXT, styleVector } from '../../steer/vectors/style-vector.js';
import { READ_LIMITS, readTextBounded } from '../../util/bounded-read.js';
import { describeFsError } from '../../util/fs-error.js';
import type { ModelOptions } from '../options.js';
import { addModelOptions, loadFromOptions, parseInteger } from '../options.js';
import { startProgress } from '../progress.js';
import { printVectorSummary } from './vector-summary.js';
import { checkOutputFile } from '../../util/output-target.js';

interface StyleOptions extends ModelOptions {
  reference?: string;
  context: number;
  hooks?: string;
  out: string;
}

const SAMPLE_EXTENSIONS = new Set(['.md', '.txt']);

function readUtf8(path: string): string {
  return readTextBounded(path, READ_LIMITS.text, (problem) => new UsageError(`${path}: ${problem}`));
}

/** The sample files: each argument is a file, or a folder whose .md and .txt files (at any depth, sorted) are taken. */
function sampleFiles(args: readonly string[]): string[] {
  const files: string[] = [];
  for (const arg of args) {
    let isDir: boolean;
    try {
      isDir = statSync(arg).isDirectory();
    } catch (e) {
      throw new UsageError(`${arg}: ${describeFsError(e)}`);
    }
    if (!isDir) files.push(arg);
    else {
      const found = readdirSync(arg, { recursive: true, encoding: 'utf8' })
        .filter((f) => SAMPLE_EXTENSIONS.has(extname(f).toLowerCase()))
        .sort()
        .map((f) => join(arg, f));
      if (found.length === 0) throw new UsageError(`${arg}: folder holds no .md or .txt files`);
      files.push(...found);
    }
  }
  return files;
}

/** `tinymorph vector style`: a style vector from a writer's samples against reference text. */
export function registerVectorStyle(vector: Command): void {
  addModelOptions(
    vector
      .command('style')
      .description("a style vector: mean activation over the samples' tokens minus the mean over as many tokens of reference text")
      .argument('<samples...>', 'writing samples: files, or folders of .md/.txt files')
      .option('--reference <file>', 'reference text, documents split on blank lines or <|endoftext|> (default: the shipped TinyStories validation text)')
      .option('--context <n>', 'tokens per context, BOS included', parseInteger(2), DEFAULT_STYLE_CONTEXT)
      .option('--hooks <list>', 'comma-separated hook points (default: every blocks.N.hook_resid_post)')
      .requiredOption('--out <file>', 'vector file to write (.safetensors, one tensor per hook)'),
  ).action((samples: string[], o: StyleOptions) => {
    checkOutputFile(o.out, '--out');
    const files = sampleFiles(samples);
    const docs = files.flatMap((f) => splitDocuments(readUtf8(f)));
    if (docs.length === 0) throw new UsageError(`the samples (${files.join(', ')}) hold no text`);
    const referencePath = o.reference ?? validationTextPath();
    const reference = splitDocuments(readUtf8(referencePath));
    const { model, tokenizer, modelPath } = loadFromOptions(o);
    const hooks = o.hooks === undefined ? undefined : parseHookList(o.hooks, model.config.nLayers);
    let progress: ReturnType<typeof startProgress> | undefined;
    const result = styleVector(model, tokenizer, docs, reference, {
      hooks,
      contextSize: o.context,
      onProgress: (done, total) => (progress ??= startProgress('vector style', total, 'contexts')).update(done),
    });
    progress?.stop();
    Object.assign(result.metadata, { model: basename(modelPath, '.bin'), reference: basename(referencePath), sample_files: String(files.length) });
    writeSteeringVectors(o.out, result);
    printVectorSummary(o.out, result);
  });
}
