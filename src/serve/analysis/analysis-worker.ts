/**
 * Worker thread entry of the analysis thread (analysis-thread.ts): its own LlamaModel over a copy
 * of the served model's weights, so that long runs (an index build takes seconds) never hold up
 * the scheduler's decode steps, and so that the steering hooks the scheduler installs on its model
 * never touch these runs. Jobs run one at a time, in the order they arrive.
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { splitDocuments } from '../../model/documents.js';
import { trainSampleTextPath, validationTextPath } from '../../model/embedded.js';
import type { HookName } from '../../model/hook-points.js';
import type { LlamaConfig } from '../../model/llama-config.js';
import { LlamaModel } from '../../model/llama-model.js';
import type { LlamaWeights } from '../../model/llama-weights.js';
import { loadTokenizer } from '../../model/load-tokenizer.js';
import { buildFeatureIndex } from '../../sae/feature-index/build-feature-index.js';
import { contrastTexts } from '../../sae/feature-index/contrast-texts.js';
import { explainText } from '../../sae/feature-index/explain-text.js';
import { meanActivations } from '../../sae/feature-means.js';
import type { Sae } from '../../sae/sae.js';
import { readSaeLensFolder } from '../../sae/saelens-format.js';
import { SteeringContext } from '../../steer/steering-context.js';
import { styleEffect } from '../../steer/vectors/style-effect.js';
import { styleVector } from '../../steer/vectors/style-vector.js';
import { featureProfiles } from '../../sae/feature-index/feature-profile.js';
import { setActiveBackend } from '../../tensor/backend-registry.js';
import { toWorkerError } from '../worker-errors.js';
import type { AnalysisJob, AnalysisProgress, AnalysisResults } from './analysis-jobs.js';

export interface AnalysisWorkerData {
  config: LlamaConfig;
  weights: LlamaWeights;
  tokenizerPath: string;
  backend: string;
}

const data = workerData as AnalysisWorkerData;
const model = new LlamaModel(data.config, data.weights, setActiveBackend(data.backend));
const tokenizer = loadTokenizer(data.tokenizerPath, data.config.vocabSize);
const saes = new Map<string, Sae>();
let reference: string[] | undefined;

const sae = (dir: string): Sae => {
  let s = saes.get(dir);
  if (!s) saes.set(dir, (s = readSaeLensFolder(dir, { model: model.config })));
  return s;
};

function run(job: AnalysisJob, progress: (p: AnalysisProgress) => void): AnalysisResults[AnalysisJob['kind']] {
  switch (job.kind) {
    case 'build-index':
      return buildFeatureIndex(model, tokenizer, sae(job.saeDir), trainSampleTextPath(), { db: job.db, saePath: job.saeDir, tokens: job.tokens });
    case 'explain':
      return explainText(model, tokenizer, sae(job.saeDir), job.text, { perToken: job.perToken, top: job.top, features: job.features });
    case 'contrast':
      return contrastTexts(model, tokenizer, sae(job.saeDir), job.a, job.b, { top: job.top });
    case 'style': {
      // Against the shipped TinyStories validation text, as `tinymorph vector style` by default.
      reference ??= splitDocuments(readFileSync(validationTextPath(), 'utf8'));
      const set = styleVector(model, tokenizer, job.texts, reference, { onProgress: (done, total) => progress({ phase: 'vector', done, total }) });
      // A context of its own: the vector is applied by value, never registered under a name here.
      const effect = styleEffect(new SteeringContext(model, tokenizer), job.texts, set, job.strengths, (done, total) => progress({ phase: 'effect', done, total }));
      return { set, effect };
    }
    case 'profile':
      return featureProfiles(model, tokenizer, sae(job.saeDir), job.texts, job.top, (done, total) => progress({ phase: 'profile', done, total }));
    case 'feature-means': {
      // The statistics SteeringContext.featureMeans computes, on the same text, for the server's context.
      const s = sae(job.saeDir);
      return meanActivations(model, tokenizer, s, s.config.metadata.hook_name as HookName, validationTextPath());
    }
  }
}

const port = parentPort as NonNullable<typeof parentPort>;
port.on('message', ({ id, job }: { id: number; job: AnalysisJob }) => {
  try {
    port.postMessage({ id, result: run(job, (progress) => port.postMessage({ id, progress })) });
  } catch (e) {
    port.postMessage({ id, error: toWorkerError(e) });
  }
});
