/**
 * The fields both generation endpoints share, turned into one scheduler request per choice:
 * OpenAI's sampling fields map onto SamplingParams (temperature 1, top_p 1 and no penalties by
 * default, as OpenAI's), vLLM's extensions onto the rest. With `n` > 1 and a seed, choice i is
 * seeded seed + i, so the choices differ and the request still reproduces.
 */
import { ApiError } from './api-error.js';
import type { SamplingParams } from '../model/sampling/sampling-params.js';
import type { CompletionRequest } from './api-schemas.js';
import type { CompiledSteering } from '../steer/compile-steering.js';
import type { JobRequest } from './scheduler-job.js';

/** The fields of api-schemas.ts's generationFields that shape a generation. */
export type GenerationFields = Pick<
  CompletionRequest,
  'n' | 'stop' | 'temperature' | 'top_p' | 'seed' | 'frequency_penalty' | 'presence_penalty' | 'logit_bias' | 'top_k' | 'min_p' | 'repetition_penalty' | 'ignore_eos'
>;

export interface ChoiceSettings {
  /** The model's vocabulary size, for logit_bias keys. */
  vocabSize: number;
  maxTokens: number;
  /** Alternatives per token; undefined = no logprobs at all. */
  topLogprobs: number | undefined;
  /** Stop sequences the endpoint adds (the chat template's turn marker). */
  extraStops?: readonly string[];
  steering: CompiledSteering | undefined;
  /** Score the prompt's tokens too (completions' echo with logprobs). */
  promptLogprobs?: boolean;
}

export function choiceRequests(body: GenerationFields, prompt: readonly number[], s: ChoiceSettings): JobRequest[] {
  for (const key of Object.keys(body.logit_bias ?? {})) {
    if (Number(key) >= s.vocabSize) throw ApiError.badRequest(`logit_bias: token id ${key} is outside the vocabulary 0..${s.vocabSize - 1}`, `logit_bias.${key}`);
  }
  const stop = [...(typeof body.stop === 'string' ? [body.stop] : (body.stop ?? [])), ...(s.extraStops ?? [])].filter((x) => x !== '');
  const sampling: Partial<SamplingParams> = {
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? 1,
    topK: Math.max(0, body.top_k ?? 0), // vLLM: -1 and 0 both mean off
    minP: body.min_p ?? 0,
    frequencyPenalty: body.frequency_penalty ?? 0,
    presencePenalty: body.presence_penalty ?? 0,
    repetitionPenalty: body.repetition_penalty ?? 1,
    logprobs: s.topLogprobs ?? 0,
  };
  const n = body.n ?? 1;
  return Array.from({ length: n }, (_, i) => ({
    prompt,
    maxTokens: s.maxTokens,
    sampling,
    seed: body.seed === undefined || body.seed === null ? undefined : body.seed + i,
    stop,
    stopAtEndOfText: !(body.ignore_eos ?? false),
    logprobs: s.topLogprobs !== undefined,
    logitBias: body.logit_bias ?? undefined,
    steering: s.steering,
    promptLogprobs: s.promptLogprobs ?? false,
  }));
}
