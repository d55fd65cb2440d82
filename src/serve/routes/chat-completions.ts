/**
 * POST /v1/chat/completions: messages rendered with the chat template (chat-template.ts) and
 * continued like a completion. Defaults as OpenAI's: temperature 1, and max_completion_tokens up to
 * the rest of the context. Streams as OpenAI does: per choice a first chunk with the role, then
 * content deltas, then an empty delta with the finish reason.
 */
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { ApiError } from '../api-error.js';
import { chatCompletionRequestSchema } from '../api-schemas.js';
import { chatLogprobs } from '../chat-format.js';
import { chatPrompt } from '../chat-template.js';
import { ChoiceRun, finishReason } from '../choice-run.js';
import { clientSignal } from '../client-signal.js';
import { usage } from '../completion-format.js';
import { choiceRequests } from '../generation-params.js';
import { openAiStream } from '../openai-stream.js';
import { parseBody } from '../parse-body.js';
import { compileRequestSteering } from '../request-steering.js';
import { checkFits } from '../prompt-checks.js';
import type { EngineRef } from '../serve-engine.js';

export function chatCompletionsRoute(engines: EngineRef): Hono {
  return new Hono().post('/chat/completions', async (c) => {
    const body = await parseBody(c, chatCompletionRequestSchema);
    const e = engines.forModel(body.model);
    const { tokenizer } = e;
    if (body.top_logprobs != null && !body.logprobs) throw ApiError.badRequest('top_logprobs needs logprobs: true', 'top_logprobs');
    const topLogprobs = body.logprobs ? (body.top_logprobs ?? 0) : undefined;
    const { ids: prompt, stops } = chatPrompt(tokenizer, body.messages);
    const seqLen = e.model.config.seqLen;
    const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? Math.max(1, seqLen - prompt.length);
    checkFits(prompt.length, maxTokens, seqLen, 'messages');
    const steering = await compileRequestSteering(body.steering, e);
    const requests = choiceRequests(body, prompt, { vocabSize: e.model.config.vocabSize, maxTokens, topLogprobs, extraStops: stops, steering });
    const stream = body.stream ?? false;
    const run = new ChoiceRun(e.scheduler, requests, clientSignal(c), stream);

    const head = { id: `chatcmpl-${randomUUID()}`, created: Math.floor(Date.now() / 1000), model: e.modelId };
    const lastPromptId = prompt[prompt.length - 1];

    if (!stream) {
      const results = await run.results();
      const choices = results.map((r, index) => ({
        index,
        message: { role: 'assistant' as const, content: r.text, refusal: null },
        logprobs: topLogprobs === undefined ? null : chatLogprobs(tokenizer, lastPromptId, r.logprobs),
        finish_reason: finishReason(r),
      }));
      const completionTokens = results.reduce((s, r) => s + r.tokens.length, 0);
      return c.json({ ...head, object: 'chat.completion', choices, usage: usage(prompt.length, completionTokens) });
    }

    const includeUsage = body.stream_options?.include_usage ?? false;
    const chunk = (index: number, delta: Record<string, string>, logprobs: unknown, finish: 'stop' | 'length' | null): unknown => ({
      ...head,
      object: 'chat.completion.chunk',
      choices: [{ index, delta, logprobs, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    });
    return openAiStream(c, async (send) => {
      const prevIds = requests.map(() => lastPromptId);
      for (let index = 0; index < requests.length; index++) await send(chunk(index, { role: 'assistant', content: '' }, null, null));
      let completionTokens = 0;
      for await (const ev of run.events()) {
        if ('error' in ev) throw ev.error;
        const { index } = ev;
        if ('result' in ev) {
          await send(chunk(index, {}, null, finishReason(ev.result)));
          continue;
        }
        const { token, text, kept } = ev.token;
        let lp = null;
        if (kept) {
          completionTokens++;
          if (topLogprobs !== undefined) lp = chatLogprobs(tokenizer, prevIds[index], [token]);
          prevIds[index] = token.token;
        }
        if (text !== '' || lp) await send(chunk(index, { content: text }, lp, null));
      }
      if (includeUsage) await send({ ...head, object: 'chat.completion.chunk', choices: [], usage: usage(prompt.length, completionTokens) });
    });
  });
}
