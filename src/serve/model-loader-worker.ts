/**
 * Worker thread entry: reads the model file named in workerData (LoadOptions) and posts back
 * {file} with its weight buffers handed over (not copied), or {error}. See load-model-off-thread.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LoadOptions } from '../model/read-model-file.js';
import { readModelFile } from '../model/read-model-file.js';
import { arrayBuffersIn, toWorkerError } from './worker-errors.js';

const port = parentPort as NonNullable<typeof parentPort>;
try {
  const file = readModelFile(workerData as LoadOptions);
  try {
    port.postMessage({ file }, arrayBuffersIn(file.weights));
  } catch {
    port.postMessage({ file }); // a buffer that cannot be handed over (shared with other data): copied instead
  }
} catch (e) {
  port.postMessage({ error: toWorkerError(e) });
}
