/**
 * Continuous batching (Orca, Yu et al. OSDI 2022; vLLM's scheduler): one KV cache of `maxBatch`
 * rows, and requests that join and leave the running batch between decode steps instead of
 * waiting for a whole batch to finish. Every step is one BatchStep.run — the step generate()
 * runs — over one token of each decoding row plus prompt chunks of the rows still prefilling,
 * under a per-step token budget (chunked prefill, Agrawal et al. 2024 "Sarathi-Serve"), so a long
 * prompt never stalls the streams already running. Each row keeps its own sampling settings and
 * steering inside the one batched forward (SteeringSession / SaeGuidance rows). After each step
 * the loop yields to the event loop (setImmediate), so HTTP I/O proceeds between steps.
 */
import { NumericError, UsageError } from '../errors.js';
import { BatchStep } from '../model/batch-step.js';
import type { GeneratedToken, TokenEvent } from '../model/generation-row.js';
import { GenerationRow } from '../model/generation-row.js';
import type { KVCache } from '../model/kv-cache.js';
import type { EveryPositionLogits, LlamaModel } from '../model/llama-model.js';
import { scoreToken } from '../model/sampling/logprobs.js';
import { MAX_LOGPROBS } from '../model/sampling/sampling-params.js';
import type { Tokenizer } from '../model/tokenizer.js';
import { SaeGuidance } from '../steer/sae-guided-decoding.js';
import { SteeringSession } from '../steer/steering-session.js';
import { ApiError } from './api-error.js';
import { RequestMetrics } from './metrics/request-metrics.js';
import { checkFits, checkTokenIds } from './prompt-checks.js';
import type { JobFinishReason, JobRequest, JobToken } from './scheduler-job.js';
import { Job } from './scheduler-job.js';

export interface SchedulerOptions {
  /** KV-cache rows: requests decoded together. */
  maxBatch: number;
  /** Requests that may wait for a row; more are refused (429). */
  maxQueue: number;
  /** Tokens per step, decode tokens and prompt chunks together (must exceed maxBatch so prompts progress). */
  stepTokens: number;
}

export const DEFAULT_SCHEDULER_OPTIONS: Readonly<SchedulerOptions> = Object.freeze({ maxBatch: 16, maxQueue: 64, stepTokens: 256 });

/** What /metrics reads: the current load and running totals since start. */
export interface SchedulerStats {
  running: number;
  waiting: number;
  maxBatch: number;
  maxQueue: number;
  /** KV-cache positions held by running requests, and the cache's size (maxBatch × context). */
  kvPositionsUsed: number;
  kvPositionsTotal: number;
  steps: number;
  promptTokens: number;
  generationTokens: number;
  steeredRequests: number;
  finished: Record<JobFinishReason, number>;
}

interface Entry {
  job: Job;
  row: GenerationRow;
  /** Prompt tokens already in the KV cache. */
  fed: number;
  /** row.tokens.length when the last token event went out. */
  kept: number;
  /** Why the row could not be sampled (BatchStep's guard); it is dropped after the step. */
  failure?: ApiError;
}

export class Scheduler {
  readonly options: SchedulerOptions;
  /** Latency histograms of every request (queue, first token, between tokens, end to end), in seconds. */
  readonly metrics = new RequestMetrics();
  private readonly cache: KVCache;
  private readonly step: BatchStep;
  private readonly session: SteeringSession;
  private readonly guidance: SaeGuidance;
  private readonly waiting: Entry[] = [];
  /** By KV-cache row. */
  private readonly slots: (Entry | undefined)[];
  private pending: NodeJS.Immediate | undefined;
  /** True while a step runs: a cancel then waits for the step's end to free its row. */
  private stepping = false;
  private accepting = true;
  private idleWaiters: (() => void)[] = [];
  /** Scratch for scoreToken's top alternatives. */
  private readonly best = new Int32Array(MAX_LOGPROBS);
  private readonly totals = { steps: 0, promptTokens: 0, generationTokens: 0, steeredRequests: 0, finished: { stop: 0, length: 0, abort: 0 } };

  constructor(
    private readonly model: LlamaModel,
    private readonly tokenizer: Tokenizer,
    options: Partial<SchedulerOptions> = {},
  ) {
    this.options = { ...DEFAULT_SCHEDULER_OPTIONS, ...options };
    const { maxBatch, maxQueue, stepTokens } = this.options;
    if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) throw new UsageError(`maxBatch must be a positive integer, got ${maxBatch}`);
    if (!Number.isSafeInteger(maxQueue) || maxQueue < 0) throw new UsageError(`maxQueue must be a non-negative integer, got ${maxQueue}`);
    if (!Number.isSafeInteger(stepTokens) || stepTokens <= maxBatch) throw new UsageError(`stepTokens must be an integer above maxBatch (${maxBatch}), got ${stepTokens}`);
    this.cache = model.newCache(maxBatch, model.config.seqLen);
    this.slots = new Array(maxBatch).fill(undefined);
    this.session = new SteeringSession(model, tokenizer);
    this.guidance = new SaeGuidance(model);
    this.step = new BatchStep(model, {
      onToken: (e) => this.onToken(e),
      logitsProcessors: [this.guidance],
      // Only steering can make a request's logits non-finite; such a request fails alone.
      guard: { has: (row) => this.entryOf(row).job.request.steering !== undefined, failed: (row) => this.onNonFinite(row) },
    });
  }

  /**
   * Queues requests together (one client request's `n` choices): all or none. Throws an ApiError:
   * 400 when a prompt plus its max tokens exceed the context, 429 (with Retry-After) when the queue
   * has no room for all of them, 503 once close() has begun. `onToken(i, t)` gets request i's tokens.
   */
  submit(requests: readonly JobRequest[], onToken: (index: number, t: JobToken) => void = () => {}): Job[] {
    if (!this.accepting) throw new ApiError(503, 'the server is shutting down', 'service_unavailable_error', null, 'shutting_down');
    const seqLen = this.model.config.seqLen;
    const vocab = this.model.config.vocabSize;
    const entries = requests.map((req, i) => {
      checkTokenIds(req.prompt, vocab, 'prompt');
      const job = new Job(req, (t) => onToken(i, t), (j) => this.onCancel(j));
      const row = new GenerationRow(job.id, req, this.tokenizer);
      // 0: the prompt is only scored (echo with logprobs), nothing is generated.
      if (!Number.isSafeInteger(row.maxTokens) || row.maxTokens < 0) throw ApiError.badRequest(`max_tokens must be a non-negative integer, got ${row.maxTokens}`, 'max_tokens');
      checkFits(row.promptIds.length, row.maxTokens, seqLen, 'prompt');
      return { job, row, fed: 0, kept: 0 };
    });
    // Requests beyond the free rows wait; at most maxQueue of them.
    if (this.waiting.length + entries.length - (this.options.maxBatch - this.running()) > this.options.maxQueue) {
      const message = `the queue is full (${this.waiting.length} of ${this.options.maxQueue} waiting, ${this.running()} running); retry later`;
      throw new ApiError(429, message, 'rate_limit_error', null, 'queue_full', 1);
    }
    this.waiting.push(...entries);
    this.wake();
    return entries.map((e) => e.job);
  }

  stats(): SchedulerStats {
    let kvPositionsUsed = 0;
    this.slots.forEach((e, slot) => {
      if (e) kvPositionsUsed += this.cache.lengths[slot];
    });
    const { maxBatch, maxQueue } = this.options;
    const t = this.totals;
    return {
      running: this.running(),
      waiting: this.waiting.length,
      maxBatch,
      maxQueue,
      kvPositionsUsed,
      kvPositionsTotal: maxBatch * this.cache.capacity,
      steps: t.steps,
      promptTokens: t.promptTokens,
      generationTokens: t.generationTokens,
      steeredRequests: t.steeredRequests,
      finished: { ...t.finished },
    };
  }

  /**
   * Stops taking requests, lets the running and waiting ones finish for up to `graceMs`, then
   * cancels what is left (finish reason "abort"). Resolves once nothing is running.
   */
  async close(graceMs: number): Promise<void> {
    this.accepting = false;
    if (!this.idle()) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise<void>((resolve) => this.idleWaiters.push(resolve)), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    }
    for (const e of [...this.waiting]) e.job.cancel();
    this.slots.forEach((e, slot) => {
      if (e) this.release(slot, 'abort');
    });
    if (this.pending) clearImmediate(this.pending);
    this.pending = undefined;
    this.session.dispose();
    this.guidance.dispose();
  }

  private running(): number {
    return this.slots.reduce((n, e) => n + (e ? 1 : 0), 0);
  }

  private idle(): boolean {
    return this.waiting.length === 0 && this.running() === 0;
  }

  private wake(): void {
    if (!this.pending && !this.idle()) this.pending = setImmediate(() => this.tick());
  }

  private tick(): void {
    this.pending = undefined;
    this.admit();
    const { maxBatch, stepTokens } = this.options;
    const inputs: (number[] | undefined)[] = new Array(maxBatch).fill(undefined);
    const rows: (GenerationRow | undefined)[] = new Array(maxBatch).fill(undefined);
    const scored = new Set<number>();
    let budget = stepTokens;
    // Decoding rows first, one token each: a stream is never held up by someone else's prompt.
    this.slots.forEach((e, slot) => {
      if (!e || e.fed < e.row.promptIds.length) return;
      inputs[slot] = [e.row.lastToken];
      rows[slot] = e.row;
      budget--;
    });
    // Then prompt chunks, oldest request first, until the step's budget is spent.
    const prefilling = this.slots.flatMap((e, slot) => (e && e.fed < e.row.promptIds.length ? [{ e, slot }] : [])).sort((a, b) => a.e.job.id - b.e.job.id);
    for (const { e, slot } of prefilling) {
      if (budget <= 0) break;
      const n = Math.min(budget, e.row.promptIds.length - e.fed);
      inputs[slot] = e.row.promptIds.slice(e.fed, e.fed + n);
      e.fed += n;
      budget -= n;
      this.totals.promptTokens += n;
      if (e.job.promptLogprobs) scored.add(slot);
      if (e.fed === e.row.promptIds.length && e.row.maxTokens > 0) rows[slot] = e.row;
    }
    if (inputs.every((x) => x === undefined)) return this.notifyIdle();
    this.stepping = true;
    try {
      const everyPosition = this.step.run(this.cache, inputs, rows, scored.size > 0 ? scored : undefined);
      if (everyPosition) this.scorePrompts(everyPosition);
    } catch (err) {
      // Requests are validated before they are queued, so this is a fault of the server itself.
      process.stderr.write(`tinymorph serve: a decode step failed: ${(err as Error).stack ?? String(err)}\n`);
      this.slots.forEach((e, slot) => {
        if (!e) return;
        this.free(slot);
        e.job.abort(err);
      });
    } finally {
      this.stepping = false;
    }
    this.totals.steps++;
    this.slots.forEach((e, slot) => {
      if (e?.failure !== undefined) this.drop(slot, e.failure);
      else if (e?.row.finishReason) this.release(slot, e.row.finishReason);
      else if (e?.job.cancelled) this.release(slot, 'abort');
      else if (e?.row.maxTokens === 0 && e.fed === e.row.promptIds.length) this.release(slot, 'length');
    });
    this.wake();
    if (this.idle()) this.notifyIdle();
  }

  /** Moves waiting requests into free KV-cache rows, in arrival order. */
  private admit(): void {
    for (let slot = 0; slot < this.slots.length && this.waiting.length > 0; slot++) {
      if (this.slots[slot]) continue;
      const e = this.waiting.shift() as Entry;
      this.slots[slot] = e;
      this.cache.resetRow(slot);
      e.job.timing.scheduled = performance.now();
      this.metrics.queueTime.observe(seconds(e.job.timing.scheduled - e.job.timing.arrived));
      const steering = e.job.request.steering;
      if (steering) {
        this.totals.steeredRequests++;
        if (steering.hooks.length > 0) this.session.setRow(slot, steering, e.row.promptIds);
        if (steering.guide) this.guidance.setRow(slot, steering.guide);
      }
    }
  }

  private onToken(ev: TokenEvent): void {
    const slot = this.slots.findIndex((e) => e?.job.id === ev.request);
    const e = this.slots[slot] as Entry;
    this.session.observe(slot, ev.token.token);
    const kept = e.row.tokens.length > e.kept;
    e.kept = e.row.tokens.length;
    const now = performance.now();
    const t = e.job.timing;
    if (t.lastToken === undefined) this.metrics.timeToFirstToken.observe(seconds(now - t.arrived));
    else this.metrics.interTokenLatency.observe(seconds(now - t.lastToken));
    t.firstToken ??= now;
    t.lastToken = now;
    this.totals.generationTokens++;
    e.job.onToken({ token: ev.token, text: ev.text, kept });
  }

  /**
   * Each scored row's chunk of prompt positions [fed − n, fed): the logits at position i predict
   * prompt token i + 1, so the chunk scores tokens fed − n + 1 .. fed (the last chunk's last
   * position predicts the first generated token instead, which sampling reports).
   */
  private scorePrompts(p: EveryPositionLogits): void {
    const vocab = this.model.config.vocabSize;
    for (let s = 0; s < p.rows.length; s++) {
      const e = this.slots[p.rows[s]] as Entry;
      const scores = e.job.promptLogprobs as GeneratedToken[];
      const n = p.rowStart[s + 1] - p.rowStart[s];
      const from = e.fed - n;
      try {
        for (let i = 0; i < n && from + i + 1 < e.row.promptIds.length; i++) {
          const logits = p.logits.subarray((p.rowStart[s] + i) * vocab, (p.rowStart[s] + i + 1) * vocab);
          scores.push(scoreToken(logits, e.row.promptIds[from + i + 1], e.row.params.logprobs, this.best));
        }
      } catch (err) {
        if (!(err instanceof NumericError)) throw err;
        this.onNonFinite(e.row);
      }
    }
  }

  private entryOf(row: GenerationRow): Entry {
    return this.slots.find((x) => x?.row === row) as Entry;
  }

  /** A steered row whose logits became NaN or infinite: it alone is ended, with a 400. */
  private onNonFinite(row: GenerationRow): void {
    this.entryOf(row).failure = ApiError.badRequest('the model\'s next-token logits became NaN or infinite under this request\'s steering; use smaller strengths', 'steering', 'non_finite_logits');
  }

  /** Ends a request whose row failed (onNonFinite) with its error; the others run on. */
  private drop(slot: number, failure: ApiError): void {
    const e = this.slots[slot] as Entry;
    this.free(slot);
    this.totals.finished.abort++;
    e.job.abort(failure);
    this.observeEnd(e.job);
  }

  /**
   * A cancelled request leaves at once: its row is freed the moment the server learns of the
   * cancel (between steps, as everything on the event loop is), so no further step computes for it.
   * A cancel from inside a step (a token callback) is honoured when that step ends.
   */
  private onCancel(job: Job): void {
    const slot = this.slots.findIndex((e) => e?.job === job);
    if (slot >= 0) {
      if (this.stepping) return;
      this.release(slot, 'abort');
      this.wake(); // a waiting request may take the row
      return this.notifyIdle();
    }
    const i = this.waiting.findIndex((e) => e.job === job);
    if (i < 0) return;
    const [e] = this.waiting.splice(i, 1);
    this.totals.finished.abort++;
    job.finish({ ...e.row.result(), finishReason: 'abort' });
    this.observeEnd(job);
    if (this.idle()) this.notifyIdle();
  }

  private release(slot: number, reason: JobFinishReason): void {
    const e = this.slots[slot] as Entry;
    this.free(slot);
    this.totals.finished[reason]++;
    e.job.finish({ ...e.row.result(), finishReason: reason });
    this.observeEnd(e.job);
  }

  private observeEnd(job: Job): void {
    this.metrics.e2eLatency.observe(seconds((job.timing.finished as number) - job.timing.arrived));
  }

  private free(slot: number): void {
    this.slots[slot] = undefined;
    this.cache.resetRow(slot);
    this.session.clearRow(slot);
    this.guidance.clearRow(slot);
  }

  private notifyIdle(): void {
    if (!this.idle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

const seconds = (ms: number): number => ms / 1000;
