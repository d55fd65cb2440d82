/**
 * Mutating a safetensors file: half the time its JSON header (dtypes, shapes, data_offsets and
 * metadata replaced by hostile values, the length prefix then made to match), otherwise its bytes,
 * with the 8-byte header length as the size field and NaN/Inf written into the tensor data.
 */
import type { FuzzRng } from '../fuzz-rng.js';
import type { Mutated } from '../byte-mutators.js';
import { mutateBytes } from '../byte-mutators.js';
import { mutateJson } from '../json-mutators.js';

/** Dtype names, real and not, and the metadata key. */
const STRINGS = ['F32', 'F16', 'BF16', 'F64', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL', 'U64', 'F8_E4M3', 'float32', '__metadata__'];

export function mutateSafetensors(bytes: Uint8Array, rng: FuzzRng, names: readonly string[] = []): Mutated {
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const dataStart = 8 + headerLength;
  if (rng.chance(0.5)) return mutateBytes(bytes, rng, { fields: [{ at: 0, bytes: 8 }], floatsFrom: dataStart });
  const header = new TextDecoder().decode(bytes.subarray(8, dataStart));
  const m = mutateJson(header, rng, { strings: [...STRINGS, ...names] });
  const json = new TextEncoder().encode(m.text);
  const out = new Uint8Array(8 + json.length + bytes.length - dataStart);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(bytes.subarray(dataStart), 8 + json.length);
  return { bytes: out, how: `header: ${m.how}` };
}
