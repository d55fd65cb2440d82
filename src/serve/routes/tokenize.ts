/**
 * POST /v1/tokenize and /v1/detokenize in vLLM's shapes: text (BOS first unless
 * add_special_tokens is false) or chat messages (through the chat template) to token ids, and ids
 * back to text.
 */
import { Hono } from 'hono';
import { detokenizeRequestSchema, tokenizeRequestSchema } from '../api-schemas.js';
import { chatPrompt } from '../chat-template.js';
import { parseBody } from '../parse-body.js';
import { checkTokenIds } from '../prompt-checks.js';
import type { EngineRef } from '../serve-engine.js';
import { tokenText } from '../token-text.js';

export function tokenizeRoute(engines: EngineRef): Hono {
  return new Hono()
    .post('/tokenize', async (c) => {
      const body = await parseBody(c, tokenizeRequestSchema);
      const { tokenizer, model } = engines.forModel(body.model);
      const tokens = body.messages ? chatPrompt(tokenizer, body.messages).ids : tokenizer.encode(body.prompt ?? '', { bos: body.add_special_tokens ?? true });
      const token_strs = tokens.map((id, i) => tokenText(tokenizer, i === 0 ? -1 : tokens[i - 1], id).token);
      return c.json({ tokens, token_strs, count: tokens.length, max_model_len: model.config.seqLen });
    })
    .post('/detokenize', async (c) => {
      const body = await parseBody(c, detokenizeRequestSchema);
      const { tokenizer, model } = engines.forModel(body.model);
      checkTokenIds(body.tokens, model.config.vocabSize, 'tokens');
      return c.json({ prompt: tokenizer.decode(body.tokens) });
    });
}
