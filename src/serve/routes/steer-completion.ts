/**
 * POST /v1/steer/completion, Neuronpedia's steering endpoint (its inference server's path and
 * shapes): the prompt continued with the steering (STEERED) and without it (DEFAULT), both rows
 * in one batch through the scheduler with the same seed, so the two texts differ by the steering
 * alone. Answers `{"outputs": [{"type", "output", "logprobs"}]}` in the order of `types` (default
 * both), `output` being the continuation; with `stream`, SSE frames of that object holding each
 * type's text so far (cumulative, as Neuronpedia streams), then `data: [DONE]`. The seed used is
 * returned beside the outputs, so a request without one can be repeated. Logprobs are
 * Neuronpedia's NPLogprob: `{token, logprob, topLogprobs: [{token, logprob}]}`.
 */
import { randomInt } from 'node:crypto';
import { Hono } from 'hono';
import type { GeneratedToken } from '../../model/generation-row.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import { ApiError } from '../api-error.js';
import type { SteerCompletionRequest, SteerType } from '../api-schemas.js';
import { STEER_TYPES, steerCompletionRequestSchema } from '../api-schemas.js';
import { ChoiceRun, finishReason } from '../choice-run.js';
import { clientSignal } from '../client-signal.js';
import { openAiStream } from '../openai-stream.js';
import { parseBody } from '../parse-body.js';
import { checkFits } from '../prompt-checks.js';
import { compileRequestSteering } from '../request-steering.js';
import type { JobRequest } from '../scheduler-job.js';
import type { EngineRef } from '../serve-engine.js';
import { tokenText } from '../token-text.js';

/** Neuronpedia requires a length; without one, OpenAI's completions default. */
const DEFAULT_TOKENS = 16;

interface NpLogprob {
  token: string;
  logprob: number;
  topLogprobs: { token: string; logprob: number }[];
}

export function steerCompletionRoute(engines: EngineRef): Hono {
  return new Hono().post('/steer/completion', async (c) => {
    const body = await parseBody(c, steerCompletionRequestSchema);
    const e = engines.forModel(body.model);
    body.features?.forEach((f, i) => {
      if (f.model !== undefined && f.model !== e.modelId) throw new ApiError(404, `features[${i}].model \`${f.model}\` is not this server's model \`${e.modelId}\``, 'not_found_error', `features[${i}].model`, 'model_not_found');
    });
    const types: readonly SteerType[] = body.types ?? STEER_TYPES;
    const steering = await compileRequestSteering(steeringSpec(body), e, '');
    if (types.includes('STEERED') && (body.features ?? []).length + (body.vectors ?? []).length === 0 && body.guide == null) {
      throw ApiError.badRequest('a STEERED output needs features or vectors to steer with', 'features');
    }
    const prompt = e.tokenizer.encode(body.prompt);
    const maxTokens = body.n_completion_tokens ?? body.n_tokens ?? DEFAULT_TOKENS;
    checkFits(prompt.length, maxTokens, e.model.config.seqLen, 'prompt');
    const seed = body.seed ?? randomInt(2 ** 31);
    const nLogprobs = body.n_logprobs ?? undefined;
    const sampling = { temperature: body.temperature ?? 1, frequencyPenalty: body.freq_penalty ?? 0, logprobs: nLogprobs ?? 0 };
    const requests: JobRequest[] = types.map((type) => ({ prompt, maxTokens, sampling, seed, logprobs: nLogprobs !== undefined, steering: type === 'STEERED' ? steering : undefined }));
    const stream = body.stream ?? false;
    const run = new ChoiceRun(e.scheduler, requests, clientSignal(c), stream);
    const last = prompt[prompt.length - 1];

    if (!stream) {
      const results = await run.results();
      results.forEach(finishReason); // a row cut short by shutdown is an error
      const outputs = results.map((r, i) => ({ type: types[i], output: r.text, logprobs: nLogprobs === undefined ? null : npLogprobs(e.tokenizer, last, r.logprobs) }));
      return c.json({ outputs, seed });
    }
    const texts = types.map(() => '');
    const logprobs: NpLogprob[][] = types.map(() => []);
    const prev = types.map(() => last);
    const frame = () => ({ outputs: types.map((type, i) => ({ type, output: texts[i], logprobs: nLogprobs === undefined ? null : logprobs[i] })), seed });
    return openAiStream(c, async (send) => {
      for await (const ev of run.events()) {
        if ('error' in ev) throw ev.error;
        if ('result' in ev) {
          finishReason(ev.result);
          continue;
        }
        const { token, text, kept } = ev.token;
        if (kept && nLogprobs !== undefined) {
          logprobs[ev.index].push(...npLogprobs(e.tokenizer, prev[ev.index], [token]));
          prev[ev.index] = token.token;
        }
        texts[ev.index] += text;
        if (text !== '' || (kept && nLogprobs !== undefined)) await send(frame());
      }
    });
  });
}

/** The body's steering fields as a steering spec (Neuronpedia's `steering_vector` is our `vector`). */
function steeringSpec(body: SteerCompletionRequest): Record<string, unknown> {
  const spec: Record<string, unknown> = {
    features: (body.features ?? []).map(({ model: _model, ...f }) => f),
    vectors: (body.vectors ?? []).map((v, i) => {
      const { steering_vector, ...rest } = v;
      if (steering_vector === undefined) return rest;
      if (rest.vector !== undefined) throw ApiError.badRequest(`vectors[${i}]: give steering_vector or vector, not both`, `vectors[${i}].vector`);
      return { ...rest, vector: steering_vector };
    }),
  };
  for (const key of ['steer_method', 'strength_multiplier', 'normalize_steering', 'scope', 'guide'] as const) if (body[key] != null) spec[key] = body[key];
  return spec;
}

function npLogprobs(tokenizer: Tokenizer, prevId: number, tokens: readonly GeneratedToken[]): NpLogprob[] {
  return tokens.map((t) => {
    const prev = prevId;
    prevId = t.token;
    return { token: tokenText(tokenizer, prev, t.token).token, logprob: t.logprob, topLogprobs: t.top.map((a) => ({ token: tokenText(tokenizer, prev, a.token).token, logprob: a.logprob })) };
  });
}
