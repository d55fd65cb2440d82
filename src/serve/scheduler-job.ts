/**
 * One generation the scheduler runs: what was asked, when each stage happened (for the metrics
 * vLLM reports: queue time, time to first token, inter-token latency, end-to-end), and how it
 * ended. A client that goes away calls cancel(); the scheduler frees its row at once (after the
 * step in progress, if any).
 */
import type { GeneratedToken, GenerationRequest, GenerationResult } from '../model/generation-row.js';
import type { CompiledSteering } from '../steer/compile-steering.js';

export interface JobRequest extends GenerationRequest {
  prompt: readonly number[];
  /** Compiled once per request (compileIfAny); undefined = the clean model. */
  steering?: CompiledSteering;
  /** Score the prompt: each prompt token's logprob and top alternatives (echo with logprobs), at the cost of the classifier at every prompt position. */
  promptLogprobs?: boolean;
}

/** A sampled token as the client sees it: `kept` is false for an end-of-text token that ended the text. */
export interface JobToken {
  token: GeneratedToken;
  text: string;
  kept: boolean;
}

export type JobFinishReason = 'stop' | 'length' | 'abort';

export interface JobResult extends Omit<GenerationResult, 'finishReason'> {
  finishReason: JobFinishReason;
}

/** performance.now() milliseconds of each stage; undefined until it happens. */
export interface JobTiming {
  arrived: number;
  scheduled?: number;
  firstToken?: number;
  lastToken?: number;
  finished?: number;
}

let nextJobId = 0;

export class Job {
  readonly id = nextJobId++;
  readonly timing: JobTiming = { arrived: performance.now() };
  readonly done: Promise<JobResult>;
  /** Set by cancel(); the scheduler frees the job's row at once, or when the step in progress ends. */
  cancelled = false;
  /**
   * With request.promptLogprobs: prompt tokens 1.. (token 0 has nothing before it to be predicted
   * from) as the prefill scores them; complete before the job's first token or result.
   */
  readonly promptLogprobs: GeneratedToken[] | undefined;
  private settle!: (r: JobResult) => void;
  private fail!: (e: unknown) => void;

  constructor(
    readonly request: JobRequest,
    /** Called for each sampled token, inside the scheduler's step: must not throw or block. */
    readonly onToken: (t: JobToken) => void,
    private readonly onCancel: (job: Job) => void,
  ) {
    this.promptLogprobs = request.promptLogprobs ? [] : undefined;
    this.done = new Promise((resolve, reject) => {
      this.settle = resolve;
      this.fail = reject;
    });
  }

  cancel(): void {
    if (this.cancelled || this.timing.finished !== undefined) return;
    this.cancelled = true;
    this.onCancel(this);
  }

  /** Called once by the scheduler. */
  finish(result: JobResult): void {
    this.timing.finished = performance.now();
    this.settle(result);
  }

  /** Called once by the scheduler when the job's row failed: a step that failed (a server fault), or logits its steering made non-finite (a 400). */
  abort(e: unknown): void {
    this.timing.finished = performance.now();
    this.fail(e);
  }
}
