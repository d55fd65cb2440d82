/**
 * A model's chat template: tokenizer_config.json's `chat_template`, a Jinja template that
 * transformers' apply_chat_template renders with `messages`, `bos_token`, `eos_token` and
 * `add_generation_prompt` (transformers docs, "Chat templates"); rendered here with @huggingface/jinja.
 * A list of named templates is transformers' form for several: "default" is the one for chat.
 * The template is compiled when the file is read, so a broken one fails at load; an error while
 * rendering (a template's raise_exception, e.g. "roles must alternate") names the file too.
 */
import { Template } from '@huggingface/jinja';
import { TokenizerFileError } from '../errors.js';
import { errorLine } from '../util/error-line.js';

export interface ChatTemplateMessage {
  role: string;
  content: string;
}

export class HfChatTemplate {
  private constructor(
    private readonly template: Template,
    private readonly file: string,
    private readonly bosToken: string,
    private readonly eosToken: string,
  ) {}

  /** `chat_template` as tokenizer_config.json holds it; `file` names that file in errors. */
  static fromConfig(source: string | readonly { name: string; template: string }[], file: string, bosToken: string, eosToken: string): HfChatTemplate {
    let text: string;
    if (typeof source === 'string') {
      text = source;
    } else {
      const chosen = source.find((t) => t.name === 'default');
      if (!chosen) throw new TokenizerFileError(file, `chat_template lists ${source.length} templates (${source.map((t) => JSON.stringify(t.name.slice(0, 40))).join(', ')}) but none named "default"`);
      text = chosen.template;
    }
    let template: Template;
    try {
      template = new Template(text);
    } catch (e) {
      throw new TokenizerFileError(file, `chat_template does not parse: ${errorLine(e, 200)}`);
    }
    return new HfChatTemplate(template, file, bosToken, eosToken);
  }

  /** The prompt text for `messages`, ending where the assistant's reply begins (add_generation_prompt). */
  render(messages: readonly ChatTemplateMessage[]): string {
    let text: string;
    try {
      text = this.template.render({ messages, bos_token: this.bosToken, eos_token: this.eosToken, add_generation_prompt: true });
    } catch (e) {
      throw new TokenizerFileError(this.file, `chat_template failed: ${errorLine(e, 200)}`);
    }
    if (text === '') throw new TokenizerFileError(this.file, `chat_template rendered ${messages.length} messages as no text`);
    return text;
  }
}
