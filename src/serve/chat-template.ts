/**
 * Chat messages to prompt ids. A model whose tokenizer_config.json has a `chat_template` is
 * prompted through it (model/hf-chat-template.ts), as transformers' apply_chat_template(messages,
 * add_generation_prompt=True) followed by tokenizing with add_special_tokens=False: the template
 * writes BOS and the turn markers itself, and the reply ends at the model's EOS.
 *
 * The chat template for models that ship none. llama2.c model files carry no template, and the
 * embedded stories260K is a story model, not a chat model, so the template is a plain transcript
 * that any base model can continue:
 *
 *   <each system or developer message>\n\n
 *   User: <user message>\n
 *   Assistant: <assistant message>\n
 *   ...
 *   Assistant:
 *
 * The reply is what the model writes after the final "Assistant:"; it stops at CHAT_STOP (added to
 * the request's stop sequences) so that the model does not go on to write the user's next turn.
 * A message's content parts are joined without separators, as OpenAI joins text parts; `name` is
 * not shown. The text is encoded with BOS first, like every prompt.
 */
import type { ChatTemplateMessage } from '../model/hf-chat-template.js';
import type { Tokenizer } from '../model/tokenizer.js';
import type { ChatMessage } from './api-schemas.js';

export const CHAT_STOP = '\nUser:';

const LABELS = { user: 'User', assistant: 'Assistant' } as const;

/** The prompt for `messages` and the stop sequences its template needs. */
export function chatPrompt(tokenizer: Tokenizer, messages: readonly ChatMessage[]): { ids: number[]; stops: string[] } {
  if (!tokenizer.chatTemplate) return { ids: tokenizer.encode(renderChat(messages)), stops: [CHAT_STOP] };
  // Templates know OpenAI's older role name only: "developer" is the system message.
  const plain: ChatTemplateMessage[] = messages.map((m) => ({ role: m.role === 'developer' ? 'system' : m.role, content: contentText(m.content) }));
  return { ids: tokenizer.encode(tokenizer.chatTemplate.render(plain), { bos: false }), stops: [] };
}

export function renderChat(messages: readonly ChatMessage[]): string {
  let text = '';
  for (const m of messages) {
    const content = contentText(m.content);
    if (m.role === 'system' || m.role === 'developer') text += `${content}\n\n`;
    else text += `${LABELS[m.role]}: ${content}\n`;
  }
  return `${text}${LABELS.assistant}:`;
}

function contentText(content: ChatMessage['content']): string {
  if (content === null) return '';
  return typeof content === 'string' ? content : content.map((p) => p.text).join('');
}
