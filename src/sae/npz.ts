/**
 * NumPy `.npz` archives (numpy.savez / savez_compressed): a zip whose members `<name>.npy` are
 * arrays in the NPY format (numpy/lib/format.py, "NEP 1"):
 *   "\x93NUMPY" (6 bytes), major version (1 byte: 1, 2 or 3), minor version (1 byte),
 *   header length (u16 LE for v1, u32 LE for v2 and v3), header: a Python dict literal
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (16, 32), } (latin-1 in v1/v2, UTF-8 in v3),
 *   padded with spaces and a newline, then the raw data.
 * Only little-endian float arrays in C order are read (descr '<f2', '<f4', '<f8'; '|' or '=' byte
 * order is accepted only where it cannot change the meaning), which is what SAE files such as
 * Gemma Scope's params.npz hold. Every size is checked before anything is allocated; failures are
 * SaeFileErrors that name the file and the array.
 */
import { unzipSync } from 'fflate';
import { SaeFileError } from '../errors.js';
import { f16ToF32 } from '../tensor/half-float.js';
import { describeValue } from '../util/describe-value.js';
import { READ_LIMITS, readFileBounded } from '../util/bounded-read.js';

export type NpyDtype = 'f2' | 'f4' | 'f8';

export interface NpyArray {
  /** The dtype in the file; `data` is always converted to F32. */
  dtype: NpyDtype;
  shape: number[];
  /** Row-major (C order) values. */
  data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const DTYPE_BYTES: Record<NpyDtype, number> = { f2: 2, f4: 4, f8: 8 };
/** Largest array read (bytes): a Float32Array of it must fit in memory. */
const MAX_ARRAY_BYTES = 2 ** 31 - 1;
/**
 * numpy's own limit on the header (numpy/lib/format.py `_MAX_HEADER_SIZE`, since 1.24: a longer
 * one "may not be safe to load securely"); a float array's header is under 200 bytes.
 */
const MAX_HEADER_BYTES = 10_000;
/** numpy 2's NPY_MAXDIMS. */
const MAX_DIMS = 64;
/** Deflate never expands data more than 1032:1 (zlib's technical details, "maximum compression factor"). */
const MAX_DEFLATE_RATIO = 1032;
/** Nesting depth of the header literal (a dict holding a tuple is 2); deeper is not an NPY header. */
const MAX_NESTING = 8;

/** Reads every array of an .npz file, keyed by name without the ".npy" suffix. */
export function readNpz(path: string): Map<string, NpyArray> {
  return parseNpz(readFileBounded(path, READ_LIMITS.npz, (problem) => new SaeFileError(path, problem)), path);
}

/** Parses .npz bytes already in memory; `file` names the archive in errors. */
export function parseNpz(bytes: Uint8Array, file: string): Map<string, NpyArray> {
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(bytes, {
      // The unzipper allocates each member's stated uncompressed size before inflating it, so the
      // size must be one its compressed bytes can produce: equal when stored, ≤ 1032× when deflated;
      // and those compressed bytes must be in the archive.
      filter: (entry) => {
        const member = `member ${describeValue(entry.name)}`;
        if (entry.size > bytes.length) throw new SaeFileError(file, `${member} says ${entry.size} compressed bytes, more than the ${bytes.length}-byte archive holds`);
        if (entry.originalSize > MAX_ARRAY_BYTES + MAX_HEADER_BYTES) {
          throw new SaeFileError(file, `${member} is ${entry.originalSize} bytes uncompressed, over the ${MAX_ARRAY_BYTES}-byte limit`);
        }
        const most = entry.compression === 0 ? entry.size : MAX_DEFLATE_RATIO * entry.size + 64;
        if (entry.originalSize > most) throw new SaeFileError(file, `${member} says ${entry.originalSize} bytes uncompressed, more than its ${entry.size} compressed bytes can hold`);
        return true;
      },
    });
  } catch (err) {
    if (err instanceof SaeFileError) throw err;
    throw new SaeFileError(file, `not a readable .npz (zip) archive: ${(err as Error).message}`);
  }
  const arrays = new Map<string, NpyArray>();
  for (const [member, data] of Object.entries(members)) {
    if (member.endsWith('/')) continue; // a directory entry
    if (!member.endsWith('.npy')) throw new SaeFileError(file, `member ${describeValue(member)} is not an .npy array`);
    const name = member.slice(0, -'.npy'.length);
    arrays.set(name, parseNpy(data, file, name));
  }
  return arrays;
}

/** Parses one .npy array; `file` and `name` say where it came from in errors. */
export function parseNpy(bytes: Uint8Array, file: string, name: string): NpyArray {
  const fail = (problem: string) => new SaeFileError(file, `array ${describeValue(name)}: ${problem}`);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw fail('not an .npy array (no \\x93NUMPY magic)');
  const major = bytes[6];
  if (major !== 1 && major !== 2 && major !== 3) throw fail(`unsupported .npy format version ${major}.${bytes[7]} (known: 1, 2, 3)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const prefix = major === 1 ? 10 : 12;
  if (bytes.length < prefix) throw fail(`truncated: ${bytes.length} bytes, too short for a version ${major} header`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = prefix + headerLength;
  if (dataStart > bytes.length) throw fail(`truncated: header length ${headerLength} runs past the ${bytes.length} bytes of the array`);
  if (headerLength > MAX_HEADER_BYTES) throw fail(`header length ${headerLength} is over numpy's limit of ${MAX_HEADER_BYTES} bytes`);
  const headerBytes = bytes.subarray(prefix, dataStart);
  const text = major === 3 ? new TextDecoder('utf-8').decode(headerBytes) : Buffer.from(headerBytes).toString('latin1');

  let header: unknown;
  try {
    header = new PyLiteralParser(text).parseTop();
  } catch (err) {
    throw fail(`header is not a Python dict literal (${(err as Error).message}): ${abbreviate(text)}`);
  }
  if (!(header instanceof Map)) throw fail(`header must be a dict, got ${abbreviate(text)}`);
  const descr = header.get('descr');
  const fortran = header.get('fortran_order');
  const shape = header.get('shape');
  const dtype = parseDescr(descr);
  if (dtype === undefined) throw fail(`descr ${describeValue(descr)} is not a little-endian float dtype ('<f2', '<f4' or '<f8')`);
  if (fortran !== false) throw fail(`fortran_order is ${fortran === undefined ? 'missing' : describeValue(fortran)}; only C-order (fortran_order False) arrays are read`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw fail(`shape must be a tuple of non-negative integers, got ${describeValue(shape)}`);
  }
  if (shape.length > MAX_DIMS) throw fail(`shape has ${shape.length} dimensions, more than numpy's ${MAX_DIMS}`);
  const numel = (shape as number[]).reduce((a, b) => a * b, 1);
  const byteLength = numel * DTYPE_BYTES[dtype];
  const shapeText = brief(shape);
  if (byteLength > MAX_ARRAY_BYTES) throw fail(`shape ${shapeText} of ${descr} is ${byteLength} bytes, over the ${MAX_ARRAY_BYTES}-byte limit`);
  const have = bytes.length - dataStart;
  if (have !== byteLength) {
    throw fail(`${have < byteLength ? 'truncated: ' : ''}shape ${shapeText} of ${descr} needs ${byteLength} bytes of data, found ${have}`);
  }
  // A copy: aligned for the typed-array view, and independent of the archive's buffer.
  const raw = new Uint8Array(bytes.subarray(dataStart)).buffer;
  const data = dtype === 'f4' ? new Float32Array(raw) : dtype === 'f8' ? new Float32Array(new Float64Array(raw)) : f16ToF32(new Uint16Array(raw));
  return { dtype, shape: shape as number[], data };
}

function parseDescr(descr: unknown): NpyDtype | undefined {
  if (typeof descr !== 'string') return undefined;
  const m = /^([<|=])f([248])$/.exec(descr);
  // '=' is native order, little-endian on every platform this project targets; '|' means "not
  // applicable", which numpy never writes for floats but is unambiguous.
  return m ? (`f${m[2]}` as NpyDtype) : undefined;
}

function abbreviate(text: string): string {
  const t = text.trim();
  return JSON.stringify(t.length > 80 ? `${t.slice(0, 77)}...` : t);
}

/** A header value for an error message, cut to 80 characters (a shape as a Python tuple). */
function brief(value: unknown): string {
  const text = Array.isArray(value) ? `(${value.map((v) => (Array.isArray(v) || v instanceof Map ? '…' : JSON.stringify(v))).join(', ')})` : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

type PyValue = string | number | boolean | null | PyValue[] | Map<string, PyValue>;

/** Enough of Python's literal syntax for NPY headers: dicts, tuples/lists, strings, ints, True/False/None. */
class PyLiteralParser {
  private at = 0;
  private depth = 0;
  constructor(private readonly text: string) {}

  parseTop(): PyValue {
    const v = this.value();
    this.space();
    if (this.at !== this.text.length) throw new Error(`unexpected ${JSON.stringify(this.text[this.at])} at ${this.at}`);
    return v;
  }

  private value(): PyValue {
    this.space();
    const c = this.text[this.at];
    if (c === '{' || c === '(' || c === '[') {
      // A depth limit rather than recursion as deep as the text asks (a 5,000-level tuple overflowed the stack).
      if (++this.depth > MAX_NESTING) throw new Error(`nested deeper than ${MAX_NESTING} levels at ${this.at}`);
      const v = c === '{' ? this.dict() : this.sequence(c === '(' ? ')' : ']');
      this.depth--;
      return v;
    }
    if (c === "'" || c === '"') return this.string();
    const word = /^(True|False|None|-?\d+L?)/.exec(this.text.slice(this.at));
    if (!word) throw new Error(`unexpected ${c === undefined ? 'end' : JSON.stringify(c)} at ${this.at}`);
    this.at += word[0].length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    if (word[0] === 'None') return null;
    return Number(word[0].replace(/L$/, ''));
  }

  private dict(): Map<string, PyValue> {
    const out = new Map<string, PyValue>();
    this.at++; // {
    for (;;) {
      this.space();
      if (this.text[this.at] === '}') { this.at++; return out; }
      const key = this.value();
      if (typeof key !== 'string') throw new Error('dict keys must be strings');
      this.expect(':');
      out.set(key, this.value());
      this.space();
      if (this.text[this.at] === ',') this.at++;
      else if (this.text[this.at] !== '}') throw new Error(`expected "," or "}" at ${this.at}`);
    }
  }

  private sequence(close: string): PyValue[] {
    const out: PyValue[] = [];
    this.at++;
    for (;;) {
      this.space();
      if (this.text[this.at] === close) { this.at++; return out; }
      out.push(this.value());
      this.space();
      if (this.text[this.at] === ',') this.at++;
      else if (this.text[this.at] !== close) throw new Error(`expected "," or "${close}" at ${this.at}`);
    }
  }

  private string(): string {
    const quote = this.text[this.at++];
    const end = this.text.indexOf(quote, this.at);
    if (end < 0) throw new Error('unterminated string');
    const s = this.text.slice(this.at, end);
    if (s.includes('\\')) throw new Error('escapes in strings are not supported');
    this.at = end + 1;
    return s;
  }

  private expect(c: string): void {
    this.space();
    if (this.text[this.at] !== c) throw new Error(`expected ${JSON.stringify(c)} at ${this.at}`);
    this.at++;
  }

  private space(): void {
    while (this.at < this.text.length && /\s/.test(this.text[this.at])) this.at++;
  }
}
