/**
 * The bytes each token of a tokenizer.json stands for, read from its `decoder`, so that text can
 * be streamed token by token (the library decodes only whole sequences). Two families exist:
 *
 * - ByteLevel (GPT-2, Llama-3): every character of a piece stands for one byte through GPT-2's
 *   bytes_to_unicode table (openai/gpt-2 src/encoder.py): printable Latin-1 bytes are themselves,
 *   the other 68 bytes are U+0100.. in byte order ("Ġ" is the space 0x20).
 * - sentencepiece style (Llama-2, Gemma): the piece is UTF-8 text with "▁" for the space
 *   (decoder Replace "▁"→" " or Metaspace), "<0xXX>" pieces are raw bytes (ByteFallback), and
 *   Llama-2's Strip / Metaspace's prepend scheme drops the dummy-prefix space of the first token.
 *
 * The decoders' semantics are huggingface/tokenizers tokenizers/src/decoders/*.rs.
 */
import { TokenizerFileError } from '../errors.js';
import type { TokenizerJson } from './hf-tokenizer-json.js';

export interface TokenBytesRule {
  /** Whether pieces are GPT-2 byte-level strings. */
  byteLevel: boolean;
  /** Text replacements applied to a piece in order (sentencepiece's "▁" → " "). */
  replace: [string, string][];
  /** Whether "<0xXX>" pieces are the byte XX. */
  byteFallback: boolean;
  /** Whether the first token of a text loses one leading space (the dummy prefix). */
  stripFirstSpace: boolean;
}

/** GPT-2's bytes_to_unicode(), inverted: code point (all below 0x144) → byte, -1 for none. */
const BYTE_LEVEL_CHAR_TO_BYTE: Int16Array = (() => {
  const table = new Int16Array(0x200).fill(-1);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[printable ? b : 256 + extra++] = b;
  }
  return table;
})();

type Decoder = NonNullable<TokenizerJson['decoder']>;

/** The rule for a file's decoder; a decoder tinymorph cannot stream is refused, naming it. */
export function tokenBytesRule(decoder: TokenizerJson['decoder'], file: string): TokenBytesRule {
  const rule: TokenBytesRule = { byteLevel: false, replace: [], byteFallback: false, stripFirstSpace: false };
  if (decoder) addStep(rule, decoder, file, 'decoder');
  return rule;
}

function addStep(rule: TokenBytesRule, step: Decoder, file: string, at: string): void {
  const fail = (problem: string): TokenizerFileError => new TokenizerFileError(file, `${at} ${problem}`);
  switch (step.type) {
    case 'ByteLevel':
      rule.byteLevel = true;
      return;
    case 'ByteFallback':
      rule.byteFallback = true;
      return;
    case 'Fuse':
      return; // joins the pieces; token-wise bytes are the same
    case 'Replace': {
      const pattern = step.pattern as { String?: unknown } | undefined;
      if (typeof pattern?.String !== 'string' || pattern.String === '' || typeof step.content !== 'string') {
        throw fail('is a Replace that tinymorph reads only as {"pattern": {"String": …}, "content": …}');
      }
      rule.replace.push([pattern.String, step.content]);
      return;
    }
    case 'Strip': {
      // Llama-2: {"content": " ", "start": 1, "stop": 0} strips the dummy prefix of the fused text.
      if (step.content !== ' ' || step.start !== 1 || step.stop !== 0) throw fail('is a Strip other than {"content": " ", "start": 1, "stop": 0}');
      rule.stripFirstSpace = true;
      return;
    }
    case 'Metaspace': {
      const replacement = typeof step.replacement === 'string' && step.replacement !== '' ? step.replacement : '▁';
      rule.replace.push([replacement, ' ']);
      // decoders/metaspace.rs: the first token loses its leading replacement unless prepend_scheme is "never".
      const scheme = step.prepend_scheme ?? (step.add_prefix_space === false ? 'never' : 'always');
      if (scheme !== 'never') rule.stripFirstSpace = true;
      return;
    }
    case 'Sequence': {
      const steps = step.decoders;
      if (!Array.isArray(steps) || steps.length > 16) throw fail('is a Sequence whose "decoders" is not a list of at most 16 decoders');
      steps.forEach((s: unknown, i: number) => {
        if (typeof s !== 'object' || s === null || typeof (s as { type?: unknown }).type !== 'string') throw fail(`.decoders[${i}] is not a decoder object`);
        addStep(rule, s as Decoder, file, `${at}.decoders[${i}]`);
      });
      return;
    }
    default:
      throw fail(`type "${step.type.slice(0, 40)}" is not supported (tinymorph streams ByteLevel and sentencepiece-style decoders)`);
  }
}

const utf8Encoder = new TextEncoder();

/** The bytes of vocabulary piece `piece` under `rule` (before any first-token strip). */
export function pieceBytes(piece: string, rule: TokenBytesRule): Uint8Array {
  if (rule.byteFallback && piece.length === 6 && /^<0x[0-9A-Fa-f]{2}>$/.test(piece)) return Uint8Array.of(Number.parseInt(piece.slice(3, 5), 16));
  let text = piece;
  for (const [from, to] of rule.replace) text = text.split(from).join(to);
  if (!rule.byteLevel) return utf8Encoder.encode(text);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const b = c < BYTE_LEVEL_CHAR_TO_BYTE.length ? BYTE_LEVEL_CHAR_TO_BYTE[c] : -1;
    // A character outside the table (an added token's own text) makes the piece plain UTF-8 text.
    if (b < 0) return byteLevelMixed(text);
    bytes[i] = b;
  }
  return bytes;
}

/** A byte-level piece with characters outside the table: those are their UTF-8, the others their byte. */
function byteLevelMixed(text: string): Uint8Array {
  const bytes: number[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    const b = c < BYTE_LEVEL_CHAR_TO_BYTE.length ? BYTE_LEVEL_CHAR_TO_BYTE[c] : -1;
    if (b < 0) bytes.push(...utf8Encoder.encode(ch));
    else bytes.push(b);
  }
  return Uint8Array.from(bytes);
}
