import { TokenizerFileError, UsageError } from '../errors.js';
import { READ_LIMITS, readFileBounded } from '../util/bounded-read.js';
import type { Tokenizer } from './tokenizer.js';

/**
 * The llama2.c BPE tokenizer (`tokenizer.bin`), as run.c's build_tokenizer / encode / decode
 * (github karpathy/llama2.c @ 350e04f). File: int32 max_token_length, then vocab_size ×
 * {float32 score, int32 len, len bytes}, little-endian. The file does not store vocab_size ("i should
 * have written the vocab_size into the tokenizer file... sigh"): the model gives it, or we read to
 * the end of the file. Ids 0, 1, 2 are <unk>, BOS, EOS; 3..258 are the byte pieces <0x00>..<0xFF>.
 */

const UNK_ID = 0;
const BOS_ID = 1;
const EOS_ID = 2;
/** run.c: "+3 is here because the first 3 vocab elements are <unk>, <s>, </s>". */
const BYTE_FALLBACK_OFFSET = 3;
const MAX_TOKEN_LENGTH_LIMIT = 1 << 16;
/**
 * run.c's merge loop starts from `float best_score = -1e10` and takes a pair only if its score is
 * strictly greater, so a pair scored at or below that float never merges.
 */
const MERGE_SCORE_FLOOR = Math.fround(-1e10);
const ENTRY_HEADER_BYTES = 8; // float32 score + int32 len

const SPACE = new Uint8Array([0x20]);
const NO_BYTES = new Uint8Array(0);
/** run.c's byte_pieces: pieceBytes() hands out 1-byte views of this for "<0xXX>" pieces. */
const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, b) => b);
const utf8Encoder = new TextEncoder();
/** ignoreBOM: a U+FEFF that the text began with is text, not a marker to drop. */
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Vocabulary lookups compare raw bytes, as run.c's strcmp does, and pieces need not be UTF-8; a
 * latin1 string (one char per byte) is an exact byte key, and concatenating two keys is the key of
 * the concatenated bytes, like run.c's sprintf("%s%s").
 */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/**
 * The byte a "<0xXX>" piece stands for, or -1. run.c uses sscanf("<0x%02hhX>"), which also takes
 * looser spellings ("<0x4", trailing text); we accept only the six-byte form sentencepiece writes.
 */
function bytePieceValue(data: Uint8Array, start: number, end: number): number {
  if (end - start !== 6 || data[start] !== 0x3c || data[start + 1] !== 0x30 || data[start + 2] !== 0x78 || data[start + 5] !== 0x3e) {
    return -1;
  }
  const hi = hexDigit(data[start + 3]);
  const lo = hexDigit(data[start + 4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

interface ParsedVocab {
  data: Uint8Array; // the file bytes; pieces are views into it
  starts: Int32Array; // (vocab) byte offset of each piece in data
  ends: Int32Array; // (vocab)
  scores: Float32Array; // (vocab)
}

function parseVocab(bytes: Uint8Array, file: string, vocabSize: number | undefined): ParsedVocab {
  if (vocabSize !== undefined && !Number.isInteger(vocabSize)) throw new UsageError(`vocabSize must be an integer, got ${vocabSize}`);
  if (vocabSize !== undefined && vocabSize < 3) {
    throw new TokenizerFileError(file, `vocab_size ${vocabSize} is too small: ids 0, 1, 2 are <unk>, BOS, EOS`);
  }
  if (bytes.length < 4) throw new TokenizerFileError(file, `truncated: ${bytes.length} bytes is shorter than the 4-byte max_token_length header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const maxTokenLength = view.getInt32(0, true);
  if (maxTokenLength <= 0 || maxTokenLength > MAX_TOKEN_LENGTH_LIMIT) {
    throw new TokenizerFileError(file, `max_token_length ${maxTokenLength} is outside 1..${MAX_TOKEN_LENGTH_LIMIT}`);
  }
  const starts: number[] = [];
  const ends: number[] = [];
  const scores: number[] = [];
  let at = 4;
  while (vocabSize === undefined ? at < bytes.length : starts.length < vocabSize) {
    const i = starts.length;
    const left = bytes.length - at;
    if (left === 0) throw new TokenizerFileError(file, `holds ${i} entries, fewer than the model's vocab_size ${vocabSize}`);
    if (left < ENTRY_HEADER_BYTES) {
      throw new TokenizerFileError(file, `entry ${i} is truncated at byte ${at}: its 8-byte score+length header has ${left} bytes (${ENTRY_HEADER_BYTES - left} missing)`);
    }
    const score = view.getFloat32(at, true);
    const len = view.getInt32(at + 4, true);
    if (!Number.isFinite(score)) throw new TokenizerFileError(file, `entry ${i} has a non-finite score ${score}`);
    if (len < 0 || len > maxTokenLength) {
      throw new TokenizerFileError(file, `entry ${i} has length ${len}, outside 0..max_token_length ${maxTokenLength}`);
    }
    const pieceLeft = left - ENTRY_HEADER_BYTES;
    if (len > pieceLeft) {
      throw new TokenizerFileError(file, `entry ${i} is truncated at byte ${at + ENTRY_HEADER_BYTES}: length ${len} but ${pieceLeft} bytes remain (${len - pieceLeft} missing)`);
    }
    scores.push(score);
    starts.push(at + ENTRY_HEADER_BYTES);
    ends.push(at + ENTRY_HEADER_BYTES + len);
    at += ENTRY_HEADER_BYTES + len;
  }
  if (starts.length < 3) throw new TokenizerFileError(file, `holds ${starts.length} entries; at least 3 (<unk>, BOS, EOS) are needed`);
  return { data: bytes.slice(), starts: Int32Array.from(starts), ends: Int32Array.from(ends), scores: Float32Array.from(scores) };
}

/**
 * Candidate merges, best first: higher score, then the leftmost pair — run.c rescans left to right
 * keeping a pair only if its score is strictly greater, so on ties the leftmost wins. `left` is the
 * symbol's index in the initial sequence, which keeps its order as symbols merge.
 */
class MergeHeap {
  readonly score: Float32Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly leftId: Int32Array; // the ids the pair was scored for; a changed id makes it stale
  readonly rightId: Int32Array;
  readonly mergedId: Int32Array;
  private readonly heap: Int32Array; // candidate indices, a binary max-heap
  private count = 0; // candidates ever pushed
  private heapSize = 0;

  constructor(capacity: number) {
    this.score = new Float32Array(capacity);
    this.left = new Int32Array(capacity);
    this.right = new Int32Array(capacity);
    this.leftId = new Int32Array(capacity);
    this.rightId = new Int32Array(capacity);
    this.mergedId = new Int32Array(capacity);
    this.heap = new Int32Array(capacity);
  }

  get size(): number {
    return this.heapSize;
  }

  private better(a: number, b: number): boolean {
    return this.score[a] > this.score[b] || (this.score[a] === this.score[b] && this.left[a] < this.left[b]);
  }

  push(score: number, left: number, right: number, leftId: number, rightId: number, mergedId: number): void {
    const c = this.count++;
    this.score[c] = score;
    this.left[c] = left;
    this.right[c] = right;
    this.leftId[c] = leftId;
    this.rightId[c] = rightId;
    this.mergedId[c] = mergedId;
    const h = this.heap;
    let i = this.heapSize++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.better(c, h[parent])) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = c;
  }

  /** Removes and returns the best candidate; size must be > 0. */
  pop(): number {
    const h = this.heap;
    const top = h[0];
    const last = h[--this.heapSize];
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.heapSize) break;
      if (child + 1 < this.heapSize && this.better(h[child + 1], h[child])) child++;
      if (!this.better(h[child], last)) break;
      h[i] = h[child];
      i = child;
    }
    h[i] = last;
    return top;
  }
}

export class Llama2cTokenizer implements Tokenizer {
  readonly bosId = BOS_ID;
  readonly eosId = EOS_ID;
  readonly vocabSize: number;
  private readonly pieces: string[]; // (vocab) display strings
  private readonly keys: string[]; // (vocab) latin1 byte keys
  private readonly ids = new Map<string, number>(); // key → id

  private constructor(
    private readonly label: string,
    private readonly vocab: ParsedVocab,
  ) {
    this.vocabSize = vocab.scores.length;
    this.pieces = new Array<string>(this.vocabSize);
    this.keys = new Array<string>(this.vocabSize);
    const { data, starts, ends } = vocab;
    for (let id = 0; id < this.vocabSize; id++) {
      this.pieces[id] = utf8Decoder.decode(data.subarray(starts[id], ends[id]));
      this.keys[id] = latin1(data, starts[id], ends[id]);
      // run.c's bsearch over a qsorted vocab returns an unspecified one of equal pieces; we keep the lowest id.
      if (!this.ids.has(this.keys[id])) this.ids.set(this.keys[id], id);
    }
  }

  /** Reads a tokenizer.bin; vocabSize is the model's (without it, entries are read to the end of the file). */
  static fromFile(path: string, vocabSize?: number): Llama2cTokenizer {
    const bytes = readFileBounded(path, READ_LIMITS.tokenizer, (problem) => new TokenizerFileError(path, problem));
    return Llama2cTokenizer.fromBytes(bytes, path, vocabSize);
  }

  /** Parses tokenizer.bin bytes (copied); label names the source in errors. */
  static fromBytes(bytes: Uint8Array, label: string, vocabSize?: number): Llama2cTokenizer {
    return new Llama2cTokenizer(label, parseVocab(bytes, label, vocabSize));
  }

  /**
   * Text to ids, exactly as run.c encode(): optional BOS; if the text is non-empty the dummy-prefix
   * piece " "; each UTF-8 character as a piece, else its bytes as byte-fallback ids; then merge the
   * best-scoring adjacent pair until none is in the vocabulary; optional EOS. run.c rescans all pairs
   * after each merge (O(n²)); a heap of candidate pairs over a linked list gives the same merges in
   * O(n log n). Unlike run.c, a NUL character is encoded (as <0x00>) instead of ending the text.
   */
  encode(text: string, opts: { bos?: boolean; eos?: boolean } = {}): number[] {
    const utf8 = utf8Encoder.encode(text);
    const symbols = new Int32Array(utf8.length + 2); // (BOS + dummy prefix + at most one id per byte)
    let n = 0;
    if (opts.bos ?? true) symbols[n++] = BOS_ID;
    // run.c looks " " up without a fallback (a missing one would be id -1); we fall back to its byte.
    if (utf8.length > 0) n = this.appendChar(symbols, n, SPACE, 0, 1);
    for (let start = 0; start < utf8.length; ) {
      let end = start + 1;
      while (end < utf8.length && (utf8[end] & 0xc0) === 0x80) end++; // continuation bytes are 10xxxxxx
      n = this.appendChar(symbols, n, utf8, start, end);
      start = end;
    }
    const ids = this.mergePairs(symbols, n);
    if (opts.eos ?? false) ids.push(EOS_ID);
    return ids;
  }

  /** Appends the piece for utf8[start..end), else one byte-fallback id per byte; returns the new length. */
  private appendChar(out: Int32Array, n: number, utf8: Uint8Array, start: number, end: number): number {
    const id = this.ids.get(latin1(utf8, start, end));
    if (id !== undefined) {
      out[n++] = id;
      return n;
    }
    for (let i = start; i < end; i++) {
      const byteId = utf8[i] + BYTE_FALLBACK_OFFSET;
      if (byteId >= this.vocabSize) {
        const hex = utf8[i].toString(16).toUpperCase().padStart(2, '0');
        throw new TokenizerFileError(this.label, `has no byte-fallback piece <0x${hex}> (id ${byteId}) to encode a character; vocab_size is ${this.vocabSize}`);
      }
      out[n++] = byteId;
    }
    return n;
  }

  /** The id of the piece the pair's concatenated bytes spell, if it may merge (see MERGE_SCORE_FLOOR), else -1. */
  private mergeOf(leftId: number, rightId: number): number {
    const id = this.ids.get(this.keys[leftId] + this.keys[rightId]);
    return id !== undefined && this.vocab.scores[id] > MERGE_SCORE_FLOOR ? id : -1;
  }

  /** run.c's merge loop on symbols[0..n): the best pair, leftmost on ties, merges first. */
  private mergePairs(symbols: Int32Array, n: number): number[] {
    const next = new Int32Array(n); // (n) index of the next live symbol, -1 at the end
    const prev = new Int32Array(n); // (n) index of the previous live symbol, -1 at the start
    for (let i = 0; i < n; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
    }
    // Every pair that ever becomes adjacent is offered once: n-1 at first, then at most 2 per merge.
    const heap = new MergeHeap(Math.max(1, 3 * n));
    const offer = (l: number, r: number): void => {
      const merged = this.mergeOf(symbols[l], symbols[r]);
      if (merged >= 0) heap.push(this.vocab.scores[merged], l, r, symbols[l], symbols[r], merged);
    };
    for (let i = 0; i + 1 < n; i++) offer(i, i + 1);
    while (heap.size > 0) {
      const c = heap.pop();
      const l = heap.left[c];
      const r = heap.right[c];
      // Lazy invalidation: skip a pair that is no longer adjacent or whose symbols merged since.
      if (next[l] !== r || symbols[l] !== heap.leftId[c] || symbols[r] !== heap.rightId[c]) continue;
      symbols[l] = heap.mergedId[c];
      symbols[r] = -1; // dead: no candidate's ids match it any more
      next[l] = next[r];
      if (next[r] >= 0) prev[next[r]] = l;
      if (prev[l] >= 0) offer(prev[l], l);
      if (next[l] >= 0) offer(l, next[l]);
    }
    const ids: number[] = [];
    for (let i = n > 0 ? 0 : -1; i >= 0; i = next[i]) ids.push(symbols[i]); // symbol 0 is never merged away
    return ids;
  }

  /** run.c's generate() stops at BOS; EOS ends a sentencepiece text. */
  endsText(id: number): boolean {
    return id === BOS_ID || id === EOS_ID;
  }

  /** The vocabulary string of id (UTF-8 decoded, U+FFFD for bytes that are not UTF-8), for display. */
  piece(id: number): string {
    this.checkId(id);
    return this.pieces[id];
  }

  /**
   * The bytes run.c decode() prints for id after prevId: after BOS a leading space is dropped
   * (sentencepiece strips the dummy prefix, llama2.c PR #89); "<0xXX>" is that raw byte. The result
   * may be a view of the tokenizer's storage: do not modify it.
   */
  pieceBytes(prevId: number, id: number): Uint8Array {
    this.checkId(id);
    const { data } = this.vocab;
    let start = this.vocab.starts[id];
    const end = this.vocab.ends[id];
    if (prevId === BOS_ID && start < end && data[start] === 0x20) start++;
    const byte = bytePieceValue(data, start, end);
    return byte >= 0 ? ALL_BYTES.subarray(byte, byte + 1) : data.subarray(start, end);
  }

  /**
   * The bytes id adds to decoded text: pieceBytes(), except that <unk>, BOS and EOS add nothing.
   * run.c never prints BOS (generation stops there) but would print EOS as "\n</s>\n" and <unk> as
   * "<unk>"; sentencepiece decodes control tokens to nothing, and text should not gain markup.
   */
  textBytes(prevId: number, id: number): Uint8Array {
    this.checkId(id);
    return id === UNK_ID || id === BOS_ID || id === EOS_ID ? NO_BYTES : this.pieceBytes(prevId, id);
  }

  /** ids to text: the textBytes() of each id (prevId precedes ids[0]; -1 for none), UTF-8 decoded as a whole. */
  decode(ids: readonly number[], prevId = -1): string {
    const parts = new Array<Uint8Array>(ids.length);
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      parts[i] = this.textBytes(i === 0 ? prevId : ids[i - 1], ids[i]);
      total += parts[i].length;
    }
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    return utf8Decoder.decode(bytes);
  }

  /** The id whose piece is exactly the UTF-8 bytes of piece, if any. */
  tokenId(piece: string): number | undefined {
    const utf8 = utf8Encoder.encode(piece);
    return this.ids.get(latin1(utf8, 0, utf8.length));
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new UsageError(`token id ${id} is outside 0..${this.vocabSize - 1} (${this.label})`);
    }
  }
}
