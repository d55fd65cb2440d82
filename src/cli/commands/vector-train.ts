import { basename } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { UsageError } from '../../errors.js';
import type { ContrastSet } from '../../steer/vectors/contrast-examples.js';
import { readContrastFiles, readContrastPairs } from '../../steer/vectors/contrast-examples.js';
import type { VectorMethod } from '../../steer/vectors/contrast-directions.js';
import { VECTOR_METHODS } from '../../steer/vectors/contrast-directions.js';
import { contrastVectors, parseHookList } from '../../steer/vectors/contrast-vectors.js';
import { parseTokenPosition } from '../../steer/vectors/example-activations.js';
import { writeSteeringVectors } from '../../steer/steering-vector-set.js';
import type { ModelOptions } from '../options.js';
import { addModelOptions, loadFromOptions } from '../options.js';
import { startProgress } from '../progress.js';
import { printVectorSummary } from './vector-summary.js';
import { checkOutputFile } from '../../util/output-target.js';

interface TrainOptions extends ModelOptions {
  pos?: string;
  neg?: string;
  pairs?: string;
  method: VectorMethod;
  position: string;
  hooks?: string;
  out: string;
}

function contrastSet(o: TrainOptions): ContrastSet {
  if (o.pairs !== undefined) {
    if (o.pos !== undefined || o.neg !== undefined) throw new UsageError('give either --pairs or --pos and --neg, not both');
    return readContrastPairs(o.pairs);
  }
  if (o.pos === undefined || o.neg === undefined) throw new UsageError('give --pos and --neg example files (one example per line), or --pairs file.jsonl');
  return readContrastFiles(o.pos, o.neg);
}

/** `tinymorph vector train`: a steering vector per hook from contrast examples (CAA or repeng's PCA). */
export function registerVectorTrain(vector: Command): void {
  addModelOptions(
    vector
      .command('train')
      .description('steering vectors from contrast examples: CAA mean difference (Panickssery et al. 2024) or PCA of pairs (repeng pca_diff / pca_center)')
      .option('--pos <file.txt>', 'positive examples, one per line')
      .option('--neg <file.txt>', 'negative examples, one per line (paired with --pos line by line when the counts match)')
      .option('--pairs <file.jsonl>', 'pairs instead of --pos/--neg: {"positive": "...", "negative": "..."} per line')
      .addOption(new Option('--method <method>', 'how the direction is found').choices(VECTOR_METHODS).default('caa'))
      .option('--position <pos>', 'token read from each example: last, mean (over its tokens) or an index (0 = first after BOS, -1 = last)', 'last')
      .option('--hooks <list>', 'comma-separated hook points (default: every blocks.N.hook_resid_post)')
      .requiredOption('--out <file>', 'vector file to write (.safetensors, one tensor per hook)'),
  ).action((o: TrainOptions) => {
    checkOutputFile(o.out, '--out');
    const position = parseTokenPosition(o.position);
    const set = contrastSet(o);
    const { model, tokenizer, modelPath } = loadFromOptions(o);
    const hooks = o.hooks === undefined ? undefined : parseHookList(o.hooks, model.config.nLayers);
    const total = set.positive.length + set.negative.length;
    const progress = startProgress('vector train', total, 'examples');
    const result = contrastVectors(model, tokenizer, set, { method: o.method, position, hooks, onProgress: (n) => progress.update(n) });
    progress.stop();
    result.metadata.model = basename(modelPath, '.bin');
    writeSteeringVectors(o.out, result);
    printVectorSummary(o.out, result);
  });
}
