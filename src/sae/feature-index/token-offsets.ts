import type { Tokenizer } from '../../model/tokenizer.js';

/** A token's place in the text it came from: UTF-16 offsets, as JavaScript strings and CodeMirror count. */
export interface TextSpan {
  start: number;
  end: number;
}

/** UTF-8 length of a code point (a lone surrogate is written as U+FFFD, 3 bytes, as TextEncoder does). */
function utf8Length(cp: number): number {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/**
 * Where each token of `text` (its ids from `tokenizer.encode(text, { bos: false })`) lies in the
 * text. A token's bytes are what it adds when decoded after its predecessor (the first after BOS,
 * whose leading space is the dummy prefix sentencepiece drops), so the tokens' bytes are the text's
 * UTF-8 bytes in order. Byte-fallback tokens split a character (e.g. "—" as <0xE2><0x80><0x94>):
 * each such token's span is the whole character, since a highlight cannot cover part of one.
 */
export function tokenOffsets(tokenizer: Tokenizer, text: string, ids: readonly number[]): TextSpan[] {
  // unitAt[b]: the UTF-16 offset of the character that byte b belongs to; nextUnit[b]: the offset after it.
  const unitAt: number[] = [];
  const nextUnit: number[] = [];
  let unit = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    const after = unit + ch.length;
    for (let i = utf8Length(cp); i > 0; i--) {
      unitAt.push(unit);
      nextUnit.push(after);
    }
    unit = after;
  }
  const bytes = unitAt.length;
  unitAt.push(unit);
  nextUnit.push(unit);
  const spans: TextSpan[] = [];
  let at = 0;
  ids.forEach((id, i) => {
    const n = tokenizer.textBytes(i === 0 ? tokenizer.bosId : ids[i - 1], id).length;
    const end = at + n;
    if (end > bytes) throw new Error(`token ${i} (id ${id}) ends at byte ${end}, past the text's ${bytes} UTF-8 bytes`);
    spans.push({ start: unitAt[at], end: n === 0 ? unitAt[at] : nextUnit[end - 1] });
    at = end;
  });
  if (at !== bytes) throw new Error(`tokens cover ${at} of the text's ${bytes} UTF-8 bytes`);
  return spans;
}
