/**
 * The parts of a Hugging Face `tokenizer.json` (the tokenizers library's serialisation,
 * huggingface/tokenizers tokenizers/src/tokenizer/serialization.rs) and `tokenizer_config.json`
 * (transformers' PreTrainedTokenizer settings) that tinymorph checks before handing the file to
 * @huggingface/tokenizers. Both files are untrusted: every field used here is validated with zod,
 * and other fields pass through for the library, which must not crash on them (its throws are
 * turned into TokenizerFileError by the caller).
 */
import { z } from 'zod';
import { TokenizerFileError } from '../errors.js';
import { READ_LIMITS, readFileBounded } from '../util/bounded-read.js';
import { describeValue } from '../util/describe-value.js';
import { parseJson } from '../util/parse-json.js';
import type { FieldPath } from '../util/validate-json.js';
import { joinFieldPath, mustBe, nonNegativeInt, validateJson } from '../util/validate-json.js';

/** No real vocabulary comes near this (Gemma's 256,000 is among the largest); it bounds the tables built from it. */
export const MAX_HF_VOCAB = 1 << 21;

const tokenId = nonNegativeInt.max(MAX_HF_VOCAB - 1, mustBe(`an id below ${MAX_HF_VOCAB}`));

const addedToken = z.looseObject({
  id: tokenId,
  content: z.string(mustBe('a string')).min(1, mustBe('a non-empty string')),
  special: z.boolean(mustBe('true or false')).optional(),
}, mustBe('an object'));

/**
 * Only BPE is read: GPT-2/Llama-3 (byte-level) and Llama-2/Gemma (sentencepiece pieces with byte
 * fallback) all ship it. Old files (GPT-2's) have no "type"; merges are "a b" strings (before
 * tokenizers 0.20) or [a, b] pairs.
 */
const bpeModel = z.looseObject({
  type: z.literal('BPE', mustBe('"BPE" (the only tokenizer model tinymorph reads)')).optional(),
  // vocab and merges hold 10^5 entries (Llama-3: 128,000 and 280,147): checked by plain loops (checkVocab), ~10× faster than zod per entry.
  vocab: z.custom<Record<string, number>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), mustBe('an object of piece → id')),
  merges: z.custom<unknown[]>((v) => Array.isArray(v), mustBe('an array')).optional(),
  byte_fallback: z.boolean(mustBe('true or false')).nullish(),
}, mustBe('an object'));

const component = z.looseObject({ type: z.string(mustBe('a string')) }, mustBe('an object with a "type"')).nullish();

export const tokenizerJsonSchema = z.looseObject({
  model: bpeModel,
  added_tokens: z.array(addedToken, mustBe('an array')).max(MAX_HF_VOCAB, mustBe(`at most ${MAX_HF_VOCAB} tokens`)).optional(),
  normalizer: component,
  pre_tokenizer: component,
  post_processor: component,
  decoder: component,
}, mustBe('an object'));
export type TokenizerJson = z.infer<typeof tokenizerJsonSchema>;

/** transformers writes a special token as its text or as an AddedToken object {content, …}. */
const specialToken = z.union([z.string(), z.looseObject({ content: z.string() })], mustBe('a token string or {"content": …}')).nullish();

const namedTemplate = z.object({ name: z.string(mustBe('a string')), template: z.string(mustBe('a string')) }, mustBe('{"name", "template"}'));

export const tokenizerConfigSchema = z.looseObject({
  bos_token: specialToken,
  eos_token: specialToken,
  /** One template, or several by name (transformers picks "default"; others are for tools, RAG…). */
  chat_template: z.union([z.string(), z.array(namedTemplate)], mustBe('a template string or a list of {"name", "template"}')).nullish(),
}, mustBe('an object'));
export type TokenizerConfig = z.infer<typeof tokenizerConfigSchema>;

/** transformers' GenerationConfig: eos_token_id is one id or, for chat models, several (Llama-3-Instruct: end_of_text and eot_id). */
export const generationConfigSchema = z.looseObject({
  eos_token_id: z.union([tokenId, z.array(tokenId).max(64)], mustBe('a token id or a list of at most 64')).nullish(),
  bos_token_id: tokenId.nullish(),
}, mustBe('an object'));
export type GenerationConfig = z.infer<typeof generationConfigSchema>;

/** The text of a special-token field, or undefined when it is absent or null. */
export function specialTokenText(value: TokenizerConfig['bos_token']): string | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'string' ? value : value.content;
}

/** Reads and validates a JSON file of the tokenizer family; errors name `path` and the field. */
export function readTokenizerJsonFile<T>(path: string, schema: z.ZodType<T>): T {
  const fail = (problem: string): TokenizerFileError => new TokenizerFileError(path, problem);
  const bytes = readFileBounded(path, READ_LIMITS.tokenizer, fail);
  const raw = parseJson(bytes.toString('utf8'), READ_LIMITS.tokenizer.maxBytes, fail);
  return validateJson(schema, raw, (at: FieldPath, problem: string) => fieldError(path, at, problem));
}

function fieldError(path: string, at: FieldPath, problem: string): TokenizerFileError {
  return new TokenizerFileError(path, `${joinFieldPath('', at) || 'the file'} ${problem}`);
}

/**
 * Split pre-tokenizer behaviours that @huggingface/tokenizers 0.2.0 does not reproduce: it splits
 * as "Isolated" for all but "Removed" (its README: "MergedWithPrevious/MergedWithNext/Contiguous
 * split behaviors" cannot be fully reproduced), so such a split would give other pieces than the
 * tokenizers crate. Gemma's Split on " " (MergedWithPrevious) is harmless: its normalizer has
 * already replaced every " " by "▁", so the split never matches; that case is let through.
 */
const UNREPRODUCED_SPLITS = new Set(['MergedWithPrevious', 'MergedWithNext', 'Contiguous']);

export function checkPreTokenizer(json: TokenizerJson, path: string): void {
  const replaced = new Set<string>();
  collect(json.normalizer, 'normalizers', (n) => {
    const pattern = n.pattern as { String?: unknown } | undefined;
    if (n.type === 'Replace' && typeof pattern?.String === 'string' && n.content !== pattern.String) replaced.add(pattern.String);
  });
  collect(json.pre_tokenizer, 'pretokenizers', (p) => {
    const behavior = typeof p.behavior === 'string' ? p.behavior : '';
    if (p.type !== 'Split' || p.invert === true || !UNREPRODUCED_SPLITS.has(behavior)) return;
    const pattern = p.pattern as { String?: unknown } | undefined;
    if (typeof pattern?.String === 'string' && replaced.has(pattern.String)) return;
    throw new TokenizerFileError(path, `pre_tokenizer has a Split with behavior "${behavior}", which @huggingface/tokenizers does not reproduce (it splits as "Isolated")`);
  });
}

type Component = NonNullable<TokenizerJson['normalizer']>;

/** Calls `visit` on `c` and, through Sequences (their list under `listKey`), on every step in it. */
function collect(c: TokenizerJson['normalizer'], listKey: string, visit: (c: Component) => void, depth = 0): void {
  if (!c || depth > 16) return;
  visit(c);
  const list = c.type === 'Sequence' ? c[listKey] : undefined;
  if (!Array.isArray(list)) return;
  for (const step of list) {
    if (typeof step === 'object' && step !== null && typeof (step as { type?: unknown }).type === 'string') collect(step as Component, listKey, visit, depth + 1);
  }
}

/** model.vocab: piece → id below MAX_HF_VOCAB; model.merges: "a b" strings or [a, b] pairs. */
export function checkVocab(json: TokenizerJson, path: string): void {
  const { vocab, merges } = json.model;
  for (const key in vocab) {
    const id = vocab[key];
    if (!Number.isInteger(id) || id < 0) throw fieldError(path, ['model', 'vocab', key], `must be a non-negative integer, got ${describeValue(id)}`);
    if (id >= MAX_HF_VOCAB) throw fieldError(path, ['model', 'vocab', key], `must be an id below ${MAX_HF_VOCAB}, got ${id}`);
  }
  if (merges === undefined) return;
  for (let i = 0; i < merges.length; i++) {
    const m = merges[i];
    const ok = typeof m === 'string' || (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string');
    if (!ok) throw fieldError(path, ['model', 'merges', i], `must be a merge ("a b" or [a, b]), got ${describeValue(m)}`);
  }
}
