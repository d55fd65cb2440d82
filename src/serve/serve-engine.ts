/**
 * What the routes serve from: the loaded model, its tokenizer, the steering context (SAEs and
 * vectors, loaded once and shared by all requests), the scheduler, the analysis thread (model runs
 * other than generation) and the feature indexes. The app is built before the
 * model has loaded (so /health can say 503 meanwhile); routes reach the engine through an
 * EngineRef, which answers 503 until it is set.
 */
import type { LlamaModel } from '../model/llama-model.js';
import type { Tokenizer } from '../model/tokenizer.js';
import type { SteeringContext } from '../steer/steering-context.js';
import type { AnalysisThread } from './analysis/analysis-thread.js';
import { ApiError } from './api-error.js';
import type { FeatureIndexes } from './feature-indexes.js';
import type { Scheduler } from './scheduler.js';

export interface ServeEngine {
  /** The name /v1/models lists and requests may give as `model`. */
  modelId: string;
  /** Unix seconds the model was loaded (OpenAI's `created`). */
  created: number;
  model: LlamaModel;
  tokenizer: Tokenizer;
  steering: SteeringContext;
  scheduler: Scheduler;
  analysis: AnalysisThread;
  features: FeatureIndexes;
}

export class EngineRef {
  current: ServeEngine | undefined;

  /** The engine, or a 503 while the model is still loading. */
  get(): ServeEngine {
    if (!this.current) throw new ApiError(503, 'the model is still loading; retry shortly', 'service_unavailable_error', null, 'model_loading', 1);
    return this.current;
  }

  /** The engine for a request that names `model` (optional): a 404 for any other model, as OpenAI answers. */
  forModel(model: string | undefined): ServeEngine {
    const e = this.get();
    if (model !== undefined && model !== e.modelId) {
      throw new ApiError(404, `The model \`${model}\` does not exist; this server serves \`${e.modelId}\``, 'not_found_error', 'model', 'model_not_found');
    }
    return e;
  }
}
