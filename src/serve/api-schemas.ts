/**
 * Every request body the server accepts, as zod schemas: the one typed description of the API that
 * the server validates with and the editor (src/app) will import, so a field renamed on one side
 * fails the type-check on the other. Field names, ranges and defaults follow OpenAI's API reference
 * (v1/completions, v1/chat/completions) and vLLM's extensions (top_k, min_p, repetition_penalty,
 * ignore_eos; /tokenize, /detokenize); `steering` is tinymorph's own (the spec parseSteeringSpec
 * reads, which validates it). Unknown fields are ignored, as vLLM does; fields that ask for
 * something this server cannot do (tools, JSON mode, suffix) are refused rather than ignored.
 */
import { z } from 'zod';
import { MAX_LOGPROBS } from '../model/sampling/sampling-params.js';

/** A field the server refuses: absent or null passes, anything else is a 400 with `reason`. */
const unsupported = (reason: string) => z.null({ error: reason }).optional();

const tokenIds = z.array(z.number().int().min(0)).min(1);

/** The sampling and output fields shared by both generation endpoints. */
const generationFields = {
  model: z.string().optional(),
  n: z.number().int().min(1).max(128).nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  /** Token id (as a string, JSON object keys are strings) → bias added to its logit. */
  logit_bias: z.record(z.string().regex(/^\d+$/, 'keys must be token ids'), z.number().min(-100).max(100)).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  user: z.string().optional(),
  // vLLM's sampling extensions.
  top_k: z.number().int().min(-1).nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  repetition_penalty: z.number().gt(0).max(10).nullish(),
  ignore_eos: z.boolean().nullish(),
  /** tinymorph: a steering spec (features, vectors, presets, scope, guide), validated by parseSteeringSpec. */
  steering: z.unknown().optional(),
  tools: unsupported('tool calling is not supported by this server'),
  functions: unsupported('function calling is not supported by this server'),
};

export const completionRequestSchema = z.object({
  ...generationFields,
  /** One prompt (text or token ids) or several, each giving `n` choices. */
  prompt: z.union([z.string(), tokenIds, z.array(z.string()).min(1), z.array(tokenIds).min(1)], {
    error: 'must be a string, an array of token ids (integers ≥ 0), or a non-empty array of either',
  }),
  /** 0 only with echo: scoring a text (the route checks). */
  max_tokens: z.number().int().min(0).nullish(),
  echo: z.boolean().nullish(),
  /** Legacy logprobs: how many alternatives per token (OpenAI allows 5, vLLM more). */
  logprobs: z.number().int().min(0).max(MAX_LOGPROBS).nullish(),
  best_of: z.number().int().min(1).max(1, 'best_of > 1 is not supported by this server').nullish(),
  suffix: unsupported('suffix (insertion) is not supported by this server'),
});
export type CompletionRequest = z.infer<typeof completionRequestSchema>;

const textPart = z.object({ type: z.literal('text'), text: z.string() });

export const chatMessageSchema = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.union([z.string(), z.array(textPart)]).nullable(),
  name: z.string().optional(),
});
export type ChatMessage = z.infer<typeof chatMessageSchema>;

export const chatCompletionRequestSchema = z.object({
  ...generationFields,
  messages: z.array(chatMessageSchema).min(1),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(MAX_LOGPROBS).nullish(),
  response_format: z.object({ type: z.literal('text', 'only {"type": "text"} is supported') }).nullish(),
  tool_choice: z.literal('none', 'tool calling is not supported by this server').nullish(),
});
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

/** vLLM's /tokenize: text (BOS first unless add_special_tokens is false) or chat messages through the template. */
export const tokenizeRequestSchema = z
  .object({ model: z.string().optional(), prompt: z.string().optional(), messages: z.array(chatMessageSchema).min(1).optional(), add_special_tokens: z.boolean().nullish() })
  .refine((b) => (b.prompt === undefined) !== (b.messages === undefined), { message: 'give exactly one of prompt (text) or messages (chat)', path: ['prompt'] });
export type TokenizeRequest = z.infer<typeof tokenizeRequestSchema>;

export const detokenizeRequestSchema = z.object({ model: z.string().optional(), tokens: z.array(z.number().int().min(0)) });
export type DetokenizeRequest = z.infer<typeof detokenizeRequestSchema>;

/**
 * POST /v1/steer/completion in the shape of Neuronpedia's inference server (its SteerCompletionRequest:
 * prompt, model, types, features, vectors, steer_method, strength_multiplier, normalize_steering,
 * n_completion_tokens, temperature, freq_penalty, seed, stream, n_logprobs; `n_tokens` as its public
 * /api/steer names the length). Features and vectors are checked by parseSteeringSpec, so only what
 * Neuronpedia adds is checked here: a feature's `model`, and a vector's `steering_vector` (ours is `vector`).
 */
export const STEER_TYPES = ['STEERED', 'DEFAULT'] as const;
export type SteerType = (typeof STEER_TYPES)[number];

const npFeature = z.looseObject({
  model: z.string().optional(),
  steering_vector: unsupported('a feature with its own steering_vector is not supported; send the vector in vectors'),
});
const npVector = z.looseObject({ steering_vector: z.array(z.number()).min(1).optional() });

export const steerCompletionRequestSchema = z.object({
  prompt: z.string(),
  model: z.string().optional(),
  types: z
    .array(z.enum(STEER_TYPES))
    .min(1)
    .refine((t) => new Set(t).size === t.length, 'must not name a type twice')
    .nullish(),
  features: z.array(npFeature).nullish(),
  vectors: z.array(npVector).nullish(),
  steer_method: z.unknown().optional(),
  strength_multiplier: z.unknown().optional(),
  normalize_steering: z.unknown().optional(),
  /** tinymorph's additions to the spec (steering-spec.ts). */
  scope: z.unknown().optional(),
  guide: z.unknown().optional(),
  n_completion_tokens: z.number().int().min(1).nullish(),
  n_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  freq_penalty: z.number().min(-2).max(2).nullish(),
  seed: z.number().int().nullish(),
  stream: z.boolean().nullish(),
  n_logprobs: z.number().int().min(0).max(MAX_LOGPROBS).nullish(),
});
export type SteerCompletionRequest = z.infer<typeof steerCompletionRequestSchema>;

/**
 * Features over HTTP (src/sae/feature-index): `source` names a shipped SAE by hook or layer number
 * (default blocks.2.hook_resid_post); texts are bounded so that one request's model run stays short.
 */
const saeSource = z.string().min(1).max(200).optional();
const MAX_TEXT_CHARS = 32_768;
const MAX_TEXTS = 256;
const text = z.string().max(MAX_TEXT_CHARS);
const texts = z.array(text.min(1)).min(1).max(MAX_TEXTS);

export const featureSearchQuerySchema = z.object({
  q: z.string().min(1).max(500),
  source: saeSource,
  limit: z.coerce.number().int().min(1).max(100).optional(),
});

export const featureLabelRequestSchema = z.object({ label: z.string().max(500) });

export const explainTextRequestSchema = z.object({
  text: text.min(1),
  source: saeSource,
  per_token: z.number().int().min(1).max(64).nullish(),
  top: z.number().int().min(1).max(200).nullish(),
  /** Features whose activation at every token is reported as `chosen` (the "what fires here" of steered features). */
  features: z.array(z.number().int().min(0)).max(64).nullish(),
});

export const contrastRequestSchema = z.object({ a: texts, b: texts, source: saeSource, top: z.number().int().min(1).max(200).nullish() });

/** A name a client gives a vector it builds: a word, so that it can never be read as a path. */
export const VECTOR_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export const styleVectorRequestSchema = z.object({
  name: z.string().regex(VECTOR_NAME, 'must be 1–64 letters, digits, "_" or "-", starting with a letter or digit'),
  texts,
  /** Server-sent events: `{"object": "vector.progress", phase, done, total}` while it builds, then the vector, then [DONE]. */
  stream: z.boolean().nullish(),
});
