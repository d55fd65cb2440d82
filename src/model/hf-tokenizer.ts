/**
 * A Hugging Face tokenizer.json (BPE: byte-level as GPT-2/Llama-3, or sentencepiece-style with
 * byte fallback as Llama-2/Gemma). Encoding is @huggingface/tokenizers' (tested against tiktoken's
 * published GPT-2 ids and against the llama2.c tokenizer on Llama-2's vocabulary); decoding is
 * token by token from the decoder's byte rule (hf-token-bytes.ts), so that output can stream.
 * BOS/EOS and the chat template come from tokenizer_config.json beside the file when it is there,
 * further end-of-text ids from generation_config.json.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Tokenizer as HfLibTokenizer } from '@huggingface/tokenizers';
import { TokenizerFileError, UsageError } from '../errors.js';
import { errorLine } from '../util/error-line.js';
import { HfChatTemplate } from './hf-chat-template.js';
import type { GenerationConfig, TokenizerConfig, TokenizerJson } from './hf-tokenizer-json.js';
import { checkPreTokenizer, checkVocab, generationConfigSchema, readTokenizerJsonFile, specialTokenText, tokenizerConfigSchema, tokenizerJsonSchema } from './hf-tokenizer-json.js';
import type { TokenBytesRule } from './hf-token-bytes.js';
import { pieceBytes, tokenBytesRule } from './hf-token-bytes.js';
import type { Tokenizer } from './tokenizer.js';

/** Names models use for their begin/end tokens, tried in order when tokenizer_config.json names none. */
const BOS_NAMES = ['<s>', '<bos>', '<|begin_of_text|>', '<|startoftext|>', '<|endoftext|>'];
const EOS_NAMES = ['</s>', '<eos>', '<|end_of_text|>', '<|endoftext|>', '<|im_end|>'];

const NO_BYTES = new Uint8Array(0);
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

export class HfTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly chatTemplate: HfChatTemplate | undefined;
  private readonly bytes: Uint8Array[]; // (vocab) the text bytes of each id; empty for special tokens and unused ids
  private readonly pieces: string[]; // (vocab) readable piece
  private readonly special: Uint8Array; // (vocab) 1 for special tokens
  private readonly stripFirstSpace: boolean;
  private readonly endIds: Set<number>;

  private constructor(
    private readonly label: string,
    private readonly lib: HfLibTokenizer,
    json: TokenizerJson,
    config: TokenizerConfig,
    configLabel: string,
    generation: { config: GenerationConfig; label: string },
    rule: TokenBytesRule,
    modelVocabSize: number | undefined,
  ) {
    const entries: [string, number][] = Object.entries(json.model.vocab);
    const added = json.added_tokens ?? [];
    let maxId = -1;
    for (const [, id] of entries) maxId = Math.max(maxId, id);
    for (const t of added) maxId = Math.max(maxId, t.id);
    if (maxId < 0) throw new TokenizerFileError(label, 'model.vocab is empty');
    if (modelVocabSize !== undefined && maxId >= modelVocabSize) {
      throw new TokenizerFileError(label, `has token id ${maxId}, outside the model's vocab_size ${modelVocabSize}`);
    }
    if (modelVocabSize !== undefined && modelVocabSize !== maxId + 1 && !isPadding(maxId + 1, modelVocabSize)) {
      throw new TokenizerFileError(label, `has ${maxId + 1} tokens but the model's vocab_size is ${modelVocabSize} (more than rounding up to a multiple of 64 or 128): not this model's tokenizer`);
    }
    this.vocabSize = modelVocabSize ?? maxId + 1;
    this.bytes = new Array<Uint8Array>(this.vocabSize).fill(NO_BYTES);
    this.pieces = Array.from({ length: this.vocabSize }, (_, id) => `<unused ${id}>`);
    this.special = new Uint8Array(this.vocabSize);
    for (const [piece, id] of entries) this.setPiece(id, piece, rule);
    for (const t of added) {
      if (t.special) {
        this.special[t.id] = 1;
        this.bytes[t.id] = NO_BYTES;
        this.pieces[t.id] = t.content;
      } else {
        this.setPiece(t.id, t.content, rule);
      }
    }
    this.stripFirstSpace = rule.stripFirstSpace;
    const ids = new Map<string, number>();
    for (const [piece, id] of entries) ids.set(piece, id);
    for (const t of added) ids.set(t.content, t.id);
    this.bosId = this.specialId(ids, specialTokenText(config.bos_token), BOS_NAMES, 'bos_token', configLabel);
    this.eosId = this.specialId(ids, specialTokenText(config.eos_token), EOS_NAMES, 'eos_token', configLabel);
    const eos = generation.config.eos_token_id;
    const extraEnds = eos === null || eos === undefined ? [] : typeof eos === 'number' ? [eos] : eos;
    for (const id of extraEnds) {
      if (id >= this.vocabSize) throw new TokenizerFileError(generation.label, `eos_token_id ${id} is outside the vocabulary 0..${this.vocabSize - 1} of ${label}`);
    }
    this.endIds = new Set([this.bosId, this.eosId, ...extraEnds]);
    const template = config.chat_template;
    this.chatTemplate =
      template === null || template === undefined ? undefined : HfChatTemplate.fromConfig(template, configLabel, this.pieces[this.bosId], this.pieces[this.eosId]);
  }

  /**
   * Reads tokenizer.json at `path` and tokenizer_config.json beside it if there is one.
   * modelVocabSize: the model's embedding rows; ids up to it that the file lacks decode to nothing.
   */
  static fromFile(path: string, modelVocabSize?: number): HfTokenizer {
    const json = readTokenizerJsonFile(path, tokenizerJsonSchema);
    checkVocab(json, path);
    checkPreTokenizer(json, path);
    const configPath = join(dirname(path), 'tokenizer_config.json');
    const config = existsSync(configPath) ? readTokenizerJsonFile(configPath, tokenizerConfigSchema) : {};
    // A chat model's end-of-turn ids (Gemma-2-it: <eos> and <end_of_turn>) are in the folder's generation_config.json.
    const generationPath = join(dirname(path), 'generation_config.json');
    const generation = { config: existsSync(generationPath) ? readTokenizerJsonFile(generationPath, generationConfigSchema) : {}, label: generationPath };
    return HfTokenizer.build(path, json, { config, label: configPath }, generation, modelVocabSize);
  }

  /**
   * A tokenizer.json already in memory and checked (checkVocab, checkPreTokenizer): a GGUF file's
   * vocabulary rewritten as one. label names its source in errors.
   */
  static build(label: string, json: TokenizerJson, config: { config: TokenizerConfig; label: string }, generation: { config: GenerationConfig; label: string }, modelVocabSize?: number): HfTokenizer {
    const rule = tokenBytesRule(json.decoder, label);
    let lib: HfLibTokenizer;
    try {
      lib = new HfLibTokenizer(json, config.config);
    } catch (e) {
      throw new TokenizerFileError(label, `is not a tokenizer @huggingface/tokenizers can build: ${errorLine(e, 160)}`);
    }
    return new HfTokenizer(label, lib, json, config.config, config.label, generation, rule, modelVocabSize);
  }

  private setPiece(id: number, piece: string, rule: TokenBytesRule): void {
    this.bytes[id] = pieceBytes(piece, rule);
    this.pieces[id] = utf8Decoder.decode(this.bytes[id]);
  }

  private specialId(ids: Map<string, number>, named: string | undefined, fallbacks: readonly string[], field: string, configLabel: string): number {
    if (named !== undefined) {
      const id = ids.get(named);
      if (id === undefined) throw new TokenizerFileError(configLabel, `${field} ${JSON.stringify(named.slice(0, 40))} is not a token of ${this.label}`);
      return id;
    }
    for (const name of fallbacks) {
      const id = ids.get(name);
      if (id !== undefined) return id;
    }
    throw new TokenizerFileError(this.label, `has no ${field} (none of ${fallbacks.join(' ')}, and no tokenizer_config.json naming one)`);
  }

  /**
   * Text to ids as HF's tokenizer(text, add_special_tokens=False) gives them: special tokens written
   * in the text (a chat template's markers) become their ids. BOS/EOS are added here, not by the
   * file's post-processor, so that every tokenizer honours the same options. A lone surrogate is
   * encoded as U+FFFD, as tiktoken and the llama2.c tokenizer (through UTF-8) do; the library would
   * byte-fall-back the replacement character's bytes even where "�" is a piece.
   */
  encode(text: string, opts: { bos?: boolean; eos?: boolean } = {}): number[] {
    let ids: number[];
    try {
      ids = this.lib.encode(text.replace(LONE_SURROGATE, '\ufffd'), { add_special_tokens: false }).ids;
    } catch (e) {
      throw new TokenizerFileError(this.label, `failed to encode the text: ${errorLine(e, 160)}`);
    }
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new TokenizerFileError(this.label, `encoded a piece to id ${id}, outside 0..${this.vocabSize - 1}`);
    }
    if (opts.bos ?? true) ids.unshift(this.bosId);
    if (opts.eos ?? false) ids.push(this.eosId);
    return ids;
  }

  endsText(id: number): boolean {
    return this.endIds.has(id);
  }

  piece(id: number): string {
    this.checkId(id);
    return this.pieces[id];
  }

  /** The token's bytes; the first token of a text (after nothing or a special token) loses the dummy-prefix space where the decoder strips it. */
  textBytes(prevId: number, id: number): Uint8Array {
    this.checkId(id);
    const bytes = this.bytes[id];
    const first = prevId < 0 || (prevId < this.vocabSize && this.special[prevId] === 1);
    return this.stripFirstSpace && first && bytes[0] === 0x20 ? bytes.subarray(1) : bytes;
  }

  decode(ids: readonly number[], prevId = -1): string {
    const parts = ids.map((id, i) => this.textBytes(i === 0 ? prevId : ids[i - 1], id));
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return utf8Decoder.decode(out);
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new UsageError(`token id ${id} is outside 0..${this.vocabSize - 1} (${this.label})`);
    }
  }
}

/**
 * Whether an embedding of modelVocab rows is a tokenizer's vocabulary rounded up for the kernels
 * (Megatron-style padding to a multiple of 64 or 128); the padded ids never occur in text.
 */
function isPadding(tokenizerVocab: number, modelVocab: number): boolean {
  return modelVocab === Math.ceil(tokenizerVocab / 64) * 64 || modelVocab === Math.ceil(tokenizerVocab / 128) * 128;
}
