/**
 * safetensors files: tensors of every dtype the reader knows (F32, F16 and BF16 written by our
 * writer; F64, I64, I32, U8 and BOOL laid out by hand as the format says), mutated in header and
 * data, then opened and every tensor read as floats or numbers.
 */
import { join } from 'node:path';
import type { SafetensorsDtype } from '../../src/model/safetensors.js';
import { SafetensorsFile, serializeSafetensors } from '../../src/model/safetensors.js';
import { randomArray } from '../../test/sae/sae-test-helpers.js';
import type { FuzzTarget } from '../fuzz-target.js';
import { mutateSafetensors } from './safetensors-mutation.js';
import { writeFile } from './seed-files.js';

const FLOAT_DTYPES: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16', 'F64'];

/** A safetensors file laid out by hand (safetensors README): u64 header length, JSON header, data. */
export function rawSafetensors(tensors: { name: string; dtype: SafetensorsDtype; shape: number[]; data: Uint8Array }[]): Uint8Array {
  let offset = 0;
  const header: Record<string, unknown> = {};
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.length] };
    offset += t.data.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors) (out.set(t.data, at), (at += t.data.length));
  return out;
}

function concatChunks(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of chunks) (out.set(c, at), (at += c.length));
  return out;
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export const safetensorsTarget: FuzzTarget = {
  name: 'safetensors',
  prepare() {
    const seeds = [
      concatChunks(
        serializeSafetensors(
          { a: { shape: [3, 4], data: randomArray(12, 1) }, b: { dtype: 'F16', shape: [5], data: randomArray(5, 2) }, c: { dtype: 'BF16', shape: [2, 2], data: randomArray(4, 3) } },
          { format: 'fuzz', note: 'seed' },
        ),
      ),
      rawSafetensors([
        { name: 'k', dtype: 'I64', shape: [], data: bytesOf(new BigInt64Array([16n])) },
        { name: 'd', dtype: 'F64', shape: [3], data: bytesOf(new Float64Array([1.5, -2, 1e-3])) },
        { name: 'i', dtype: 'I32', shape: [2], data: bytesOf(new Int32Array([7, -7])) },
        { name: 'u', dtype: 'U8', shape: [4], data: new Uint8Array([1, 2, 3, 4]) },
        { name: 'flag', dtype: 'BOOL', shape: [1], data: new Uint8Array([1]) },
      ]),
    ];
    return {
      write(rng, dir) {
        const m = mutateSafetensors(rng.pick(seeds), rng, ['a', 'b', 'c', 'k', 'd']);
        writeFile(dir, 'file.safetensors', m.bytes);
        return m.how;
      },
      writeSeed: (dir) => writeFile(dir, 'file.safetensors', seeds[0]),
      read(dir) {
        const file = SafetensorsFile.open(join(dir, 'file.safetensors'));
        for (const name of file.names()) {
          const t = file.info(name);
          if (FLOAT_DTYPES.includes(t.dtype)) file.readF32Checked(name, t.shape);
          file.readNumbers(name);
        }
      },
    };
  },
};
