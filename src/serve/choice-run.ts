/**
 * The choices of one HTTP request (n per prompt) running in the scheduler: submitted together,
 * cancelled together when the client goes away (the request's abort signal fires on a closed
 * connection, a streaming client's `break` included), and read either as a stream of events in
 * the order they happened or as final results.
 */
import { ApiError } from './api-error.js';
import { EventQueue } from './event-queue.js';
import type { Job, JobRequest, JobResult, JobToken } from './scheduler-job.js';
import type { Scheduler } from './scheduler.js';

export type ChoiceEvent = { index: number; token: JobToken } | { index: number; result: JobResult } | { index: number; error: unknown };

export class ChoiceRun {
  readonly jobs: Job[];
  private readonly queue = new EventQueue<ChoiceEvent>();

  /** `stream`: keep token events for events(); without it only results() is read. Throws the scheduler's 400/429/503. */
  constructor(scheduler: Scheduler, requests: readonly JobRequest[], signal: AbortSignal, stream: boolean) {
    this.jobs = scheduler.submit(requests, stream ? (index, token) => this.queue.push({ index, token }) : undefined);
    let open = this.jobs.length;
    const settled = (): void => {
      if (--open === 0) this.queue.end();
    };
    this.jobs.forEach((job, index) =>
      job.done.then(
        (result) => {
          this.queue.push({ index, result });
          settled();
        },
        (error: unknown) => {
          this.queue.push({ index, error });
          settled();
        },
      ),
    );
    const cancel = (): void => this.jobs.forEach((j) => j.cancel());
    if (signal.aborted) cancel();
    else signal.addEventListener('abort', cancel, { once: true });
  }

  events(): AsyncIterable<ChoiceEvent> {
    return this.queue;
  }

  results(): Promise<JobResult[]> {
    return Promise.all(this.jobs.map((j) => j.done));
  }
}

/** The OpenAI finish reason; a generation cut short by shutdown is an error for the client. */
export function finishReason(r: JobResult): 'stop' | 'length' {
  if (r.finishReason === 'abort') throw new ApiError(503, 'the generation was cancelled (the server is shutting down)', 'service_unavailable_error', null, 'cancelled');
  return r.finishReason;
}
