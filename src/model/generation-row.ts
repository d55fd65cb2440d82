import { randomInt } from 'node:crypto';
import { UsageError } from '../errors.js';
import type { TokenLogprob } from './sampling/logprobs.js';
import { Prng } from './sampling/prng.js';
import type { SamplingParams } from './sampling/sampling-params.js';
import { validateSamplingParams } from './sampling/sampling-params.js';
import { TokenCounts } from './sampling/token-counts.js';
import { StopSequenceFilter } from './stop-sequences.js';
import type { Tokenizer } from './tokenizer.js';
import { StreamingTokenDecoder } from './utf8-stream-decoder.js';

export interface GenerationRequest {
  /** Text (encoded with BOS, as llama2.c does) or token ids used as they are. */
  prompt: string | readonly number[];
  /** New tokens to generate at most (OpenAI `max_tokens`). Default 256. */
  maxTokens?: number;
  sampling?: Partial<SamplingParams>;
  /** PRNG seed: the same seed, prompt and settings give the same text. Default: random. */
  seed?: number;
  /** Stop sequences; the text ends just before the first one. */
  stop?: readonly string[];
  /** End at the model's BOS/EOS token (llama2.c starts every story with BOS). Default true. */
  stopAtEndOfText?: boolean;
  /** Report each generated token's log-probability (implied by sampling.logprobs > 0). Default false: logprob is NaN. */
  logprobs?: boolean;
  /** OpenAI `logit_bias`: added to these token ids' logits before sampling (and before logprobs are read). */
  logitBias?: Readonly<Record<number, number>>;
}

/** A logit bias as parallel arrays, so a step adds it without a hash lookup per token. */
export interface LogitBiasEntries {
  ids: Int32Array;
  values: Float32Array;
}

export type FinishReason = 'stop' | 'length';

export interface GeneratedToken extends TokenLogprob {
  /** Alternatives (most likely first) when `sampling.logprobs` > 0. */
  top: TokenLogprob[];
}

/** One streamed step of one request: the sampled token and the text it released (possibly ''). */
export interface TokenEvent {
  request: number;
  token: GeneratedToken;
  text: string;
}

export interface GenerationResult {
  text: string;
  tokens: number[];
  promptTokens: number;
  logprobs: GeneratedToken[];
  finishReason: FinishReason;
}

/** Per-request state of a generation: sampling settings, history, PRNG and streaming text. */
export class GenerationRow {
  readonly params: SamplingParams;
  readonly promptIds: number[];
  readonly maxTokens: number;
  readonly wantLogprobs: boolean;
  readonly rng: Prng;
  readonly counts: TokenCounts;
  readonly logitBias: LogitBiasEntries | undefined;
  readonly tokens: number[] = [];
  readonly logprobs: GeneratedToken[] = [];
  text = '';
  finishReason: FinishReason | undefined;
  private readonly decoder: StreamingTokenDecoder;
  private readonly stops: StopSequenceFilter;
  private readonly stopAtEndOfText: boolean;

  constructor(
    readonly request: number,
    req: GenerationRequest,
    private readonly tokenizer: Tokenizer,
  ) {
    this.params = validateSamplingParams(req.sampling ?? {});
    this.promptIds = typeof req.prompt === 'string' ? tokenizer.encode(req.prompt) : [...req.prompt];
    this.maxTokens = req.maxTokens ?? 256;
    this.wantLogprobs = req.logprobs ?? this.params.logprobs > 0;
    this.rng = new Prng(req.seed ?? randomInt(2 ** 31));
    this.counts = new TokenCounts(tokenizer.vocabSize);
    this.counts.addPrompt(this.promptIds);
    const last = this.promptIds[this.promptIds.length - 1] ?? -1;
    this.decoder = new StreamingTokenDecoder(tokenizer, last);
    this.stops = new StopSequenceFilter(req.stop ?? []);
    this.stopAtEndOfText = req.stopAtEndOfText ?? true;
    this.logitBias = req.logitBias && logitBiasEntries(req.logitBias, tokenizer.vocabSize);
  }

  /** The last accepted token: an unfinished row's next decode input. */
  get lastToken(): number {
    return this.tokens[this.tokens.length - 1];
  }

  /** Records a sampled token; returns the text it releases. Sets finishReason when the row is done. */
  accept(token: GeneratedToken, roomLeft: boolean): string {
    if (this.stopAtEndOfText && this.tokenizer.endsText(token.token)) {
      return this.finish('stop', this.decoder.flush());
    }
    this.tokens.push(token.token);
    this.logprobs.push(token);
    this.counts.addGenerated(token.token);
    const { emit, stopped } = this.stops.push(this.decoder.push(token.token));
    this.text += emit;
    if (stopped) {
      this.finishReason = 'stop';
      return emit;
    }
    if (this.tokens.length >= this.maxTokens || !roomLeft) return emit + this.finish('length', this.decoder.flush());
    return emit;
  }

  result(): GenerationResult {
    return {
      text: this.text,
      tokens: this.tokens,
      promptTokens: this.promptIds.length,
      logprobs: this.logprobs,
      finishReason: this.finishReason ?? 'length',
    };
  }

  private finish(reason: FinishReason, tail: string): string {
    const { emit, stopped } = this.stops.push(tail);
    const rest = stopped ? emit : emit + this.stops.flush();
    this.text += rest;
    this.finishReason = stopped ? 'stop' : reason;
    return rest;
  }
}

function logitBiasEntries(bias: Readonly<Record<number, number>>, vocabSize: number): LogitBiasEntries | undefined {
  const entries = Object.entries(bias);
  if (entries.length === 0) return undefined;
  const ids = new Int32Array(entries.length);
  const values = new Float32Array(entries.length);
  entries.forEach(([key, value], i) => {
    const id = Number(key);
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new UsageError(`logit bias token id ${JSON.stringify(key)} is outside 0..${vocabSize - 1}`);
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new UsageError(`logit bias for token ${id} must be a finite number, got ${JSON.stringify(value)}`);
    ids[i] = id;
    values[i] = value;
  });
  return { ids, values };
}
