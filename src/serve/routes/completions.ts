/**
 * POST /v1/completions (OpenAI's legacy completions API): a prompt as text or token ids (or a list
 * of either, `n` choices each), `echo`, legacy logprobs, streaming. Defaults as OpenAI's:
 * max_tokens 16, temperature 1. With echo and logprobs the prompt's tokens are scored too (the
 * prefill keeps the logits at every prompt position for such requests only), and max_tokens 0
 * then scores a text without generating.
 */
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import type { GeneratedToken } from '../../model/generation-row.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import { ApiError } from '../api-error.js';
import type { CompletionRequest } from '../api-schemas.js';
import { completionRequestSchema } from '../api-schemas.js';
import { ChoiceRun, finishReason } from '../choice-run.js';
import { clientSignal } from '../client-signal.js';
import type { CompletionChoice, LegacyLogprobs } from '../completion-format.js';
import { concatLegacyLogprobs, legacyLogprobs, promptLegacyLogprobs, usage } from '../completion-format.js';
import { choiceRequests } from '../generation-params.js';
import { openAiStream } from '../openai-stream.js';
import { parseBody } from '../parse-body.js';
import { compileRequestSteering } from '../request-steering.js';
import { checkFits, checkTokenIds } from '../prompt-checks.js';
import type { EngineRef } from '../serve-engine.js';

const DEFAULT_MAX_TOKENS = 16;

interface Prompt {
  ids: number[];
  /** What `echo` puts before the completion. */
  text: string;
}

export function completionsRoute(engines: EngineRef): Hono {
  return new Hono().post('/completions', async (c) => {
    const body = await parseBody(c, completionRequestSchema);
    const e = engines.forModel(body.model);
    const { tokenizer } = e;
    const logprobs = body.logprobs ?? undefined;
    const echo = body.echo ?? false;
    const prompts = promptsOf(body.prompt, tokenizer, e.model.config.vocabSize);
    const maxTokens = body.max_tokens ?? DEFAULT_MAX_TOKENS;
    // OpenAI accepts 0 with echo (scoring a text: its tokens' logprobs, nothing generated), as vLLM does.
    if (maxTokens === 0 && !echo) throw ApiError.badRequest('max_tokens 0 generates nothing; it is only allowed with echo (to score the prompt)', 'max_tokens');
    prompts.forEach((p, i) => checkFits(p.ids.length, maxTokens, e.model.config.seqLen, prompts.length > 1 ? `prompt[${i}]` : 'prompt'));
    const steering = await compileRequestSteering(body.steering, e);
    const n = body.n ?? 1;
    const promptLogprobs = echo && logprobs !== undefined;
    const requests = prompts.flatMap((p) => choiceRequests(body, p.ids, { vocabSize: e.model.config.vocabSize, maxTokens, topLogprobs: logprobs, steering, promptLogprobs }));
    const stream = body.stream ?? false;
    const run = new ChoiceRun(e.scheduler, requests, clientSignal(c), stream);

    const head = { id: `cmpl-${randomUUID()}`, object: 'text_completion' as const, created: Math.floor(Date.now() / 1000), model: e.modelId };
    const promptOf = (choice: number): Prompt => prompts[Math.floor(choice / n)];
    const echoOf = (choice: number): string => (echo ? promptOf(choice).text : '');
    const lastPromptId = (choice: number): number => promptOf(choice).ids[promptOf(choice).ids.length - 1];
    const promptTokens = prompts.reduce((s, p) => s + p.ids.length, 0);
    // The echoed prompt's logprobs, complete once the choice's first token or result is out.
    const echoLogprobs = (choice: number): LegacyLogprobs | null =>
      promptLogprobs ? promptLegacyLogprobs(tokenizer, promptOf(choice).ids, run.jobs[choice].promptLogprobs as GeneratedToken[]).logprobs : null;

    if (!stream) {
      const results = await run.results();
      const choices: CompletionChoice[] = results.map((r, index) => {
        const generated = logprobs === undefined ? null : legacyLogprobs(tokenizer, lastPromptId(index), r.logprobs, echoOf(index).length).logprobs;
        const prompt = echoLogprobs(index);
        return { text: echoOf(index) + r.text, index, logprobs: prompt && generated ? concatLegacyLogprobs(prompt, generated) : generated, finish_reason: finishReason(r) };
      });
      return c.json({ ...head, choices, usage: usage(promptTokens, results.reduce((s, r) => s + r.tokens.length, 0)) });
    }

    const includeUsage = body.stream_options?.include_usage ?? false;
    const chunk = (choice: CompletionChoice): unknown => ({ ...head, choices: [choice], ...(includeUsage ? { usage: null } : {}) });
    return openAiStream(c, async (send) => {
      const state = requests.map((_, index) => ({ prevId: lastPromptId(index), offset: echoOf(index).length, echoed: !echo }));
      let completionTokens = 0;
      for await (const ev of run.events()) {
        if ('error' in ev) throw ev.error;
        const { index } = ev;
        if (!state[index].echoed) {
          // The echo goes first, once the prefill has scored the prompt (its logprobs are then complete).
          state[index].echoed = true;
          await send(chunk({ text: echoOf(index), index, logprobs: echoLogprobs(index), finish_reason: null }));
        }
        if ('result' in ev) {
          await send(chunk({ text: '', index, logprobs: null, finish_reason: finishReason(ev.result) }));
          continue;
        }
        const { token, text, kept } = ev.token;
        let lp = null;
        if (kept) {
          completionTokens++;
          if (logprobs !== undefined) {
            const s = state[index];
            const next = legacyLogprobs(tokenizer, s.prevId, [token], s.offset);
            [lp, s.offset, s.prevId] = [next.logprobs, next.offset, token.token];
          }
        }
        if (text !== '' || lp) await send(chunk({ text, index, logprobs: lp, finish_reason: null }));
      }
      if (includeUsage) await send({ ...head, choices: [], usage: usage(promptTokens, completionTokens) });
    });
  });
}

/** `prompt` as token-id lists, each with its echo text (the text as sent, or the ids decoded). */
function promptsOf(prompt: CompletionRequest['prompt'], tokenizer: Tokenizer, vocab: number): Prompt[] {
  const one = (p: string | number[], param: string): Prompt => {
    if (typeof p === 'string') return { ids: tokenizer.encode(p), text: p };
    checkTokenIds(p, vocab, param);
    return { ids: p, text: tokenizer.decode(p) };
  };
  if (typeof prompt === 'string') return [one(prompt, 'prompt')];
  if (prompt.every((x) => typeof x === 'number')) return [one(prompt as number[], 'prompt')];
  return (prompt as (string | number[])[]).map((p, i) => one(p, `prompt[${i}]`));
}
