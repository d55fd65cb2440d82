/**
 * loadModel() with the file read on a worker thread, so that the event loop keeps turning while a
 * large model loads (or is quantised at load): the server is already listening and answers
 * /health (and everything else) with 503 until the model is ready. The weights' buffers are handed
 * over, not copied; the tokenizer (small) is read here, where the model is built.
 */
import { Worker } from 'node:worker_threads';
import type { LoadedModel } from '../model/load-model.js';
import { assembleModel } from '../model/load-model.js';
import type { LoadOptions, ModelFile } from '../model/read-model-file.js';
import type { WorkerError } from './worker-errors.js';
import { fromWorkerError } from './worker-errors.js';

export async function loadModelOffThread(opts: LoadOptions = {}): Promise<LoadedModel> {
  const worker = new Worker(new URL('./model-loader-worker.js', import.meta.url), { workerData: { model: opts.model, tokenizer: opts.tokenizer, quantize: opts.quantize } });
  try {
    const reply = await new Promise<{ file?: ModelFile; error?: WorkerError }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the model-loading thread exited (code ${code}) without an answer`)));
    });
    if (reply.error) throw fromWorkerError(reply.error);
    return assembleModel(reply.file as ModelFile);
  } finally {
    void worker.terminate();
  }
}
