/**
 * The server's second thread: runs AnalysisJobs on a worker (analysis-worker.ts) over a copy of
 * the served model, started on first use (a server that is never asked about features pays
 * nothing) and started again if it dies. At most `maxPending` jobs may wait; more are refused with
 * 429, so a flood of explain requests cannot queue work without bound. Generation never waits on it.
 */
import { Worker } from 'node:worker_threads';
import type { LlamaModel } from '../../model/llama-model.js';
import { ApiError } from '../api-error.js';
import type { WorkerError } from '../worker-errors.js';
import { fromWorkerError } from '../worker-errors.js';
import type { AnalysisJob, AnalysisKind, AnalysisProgress, AnalysisResults } from './analysis-jobs.js';
import type { AnalysisWorkerData } from './analysis-worker.js';

const DEFAULT_MAX_PENDING = 16;

interface Pending {
  resolve: (result: unknown) => void;
  reject: (e: Error) => void;
  onProgress?: (p: AnalysisProgress) => void;
}

export class AnalysisThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(
    private readonly model: LlamaModel,
    private readonly tokenizerPath: string,
    private readonly maxPending = DEFAULT_MAX_PENDING,
  ) {}

  /** Runs `job`; `onProgress` hears the progress the job reports, on this thread, as it goes. */
  run<K extends AnalysisKind>(job: Extract<AnalysisJob, { kind: K }>, onProgress?: (p: AnalysisProgress) => void): Promise<AnalysisResults[K]> {
    if (this.pending.size >= this.maxPending) {
      throw new ApiError(429, `${this.pending.size} feature and vector jobs are already waiting; retry later`, 'rate_limit_error', null, 'analysis_busy', 1);
    }
    const id = this.nextId++;
    const worker = this.start();
    return new Promise<AnalysisResults[K]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject, onProgress });
      worker.postMessage({ id, job });
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const data: AnalysisWorkerData = { config: this.model.config, weights: this.model.weights, tokenizerPath: this.tokenizerPath, backend: this.model.backend.name };
    const worker = new Worker(new URL('./analysis-worker.js', import.meta.url), { workerData: data });
    worker.unref(); // an idle analysis thread does not keep the process alive
    worker.on('message', ({ id, result, error, progress }: { id: number; result?: unknown; error?: WorkerError; progress?: AnalysisProgress }) => {
      const p = this.pending.get(id);
      if (progress) return p?.onProgress?.(progress);
      this.pending.delete(id);
      if (error) p?.reject(fromWorkerError(error));
      else p?.resolve(result);
    });
    const fail = (e: Error): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the analysis thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }
}
