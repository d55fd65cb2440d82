/**
 * Gemma Scope params.npz (a zip of NPY arrays): a jumprelu SAE for the embedded model saved as
 * numpy.savez would (stored, and deflated as savez_compressed), in NPY versions 1 and 2. Most
 * inputs mutate one NPY member and zip it again — its header dict (shape, descr, fortran_order,
 * a ~200 KB header, deep nesting) or its bytes with the header length as the size field — the
 * rest mutate the zip bytes themselves. Read as `sae convert --from gemma-scope` does, then used.
 */
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { readGemmaScope } from '../../src/sae/gemma-scope-format.js';
import { npyBytes } from '../../test/sae/npy-test-helpers.js';
import { randomSae, v6Config } from '../../test/sae/sae-test-helpers.js';
import type { IntField } from '../byte-mutators.js';
import { mutateBytes } from '../byte-mutators.js';
import type { FuzzRng } from '../fuzz-rng.js';
import type { FuzzTarget } from '../fuzz-target.js';
import { embeddedConfig } from './saelens.js';
import { writeFile } from './seed-files.js';
import { useSae } from './sae-use.js';

interface Member {
  name: string;
  shape: number[];
  data: Float32Array;
}

/**
 * The size, count and offset fields of a zip (PKWARE APPNOTE 4.3): each local header's compressed
 * and uncompressed sizes and name length, each central directory entry's sizes, name/extra/comment
 * lengths and local header offset, and the end record's counts, directory size and offset.
 */
function zipFields(zip: Uint8Array): IntField[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const fields: IntField[] = [];
  for (let at = 0; at + 4 <= zip.length; at++) {
    const sig = view.getUint32(at, true);
    if (sig === 0x04034b50) fields.push({ at: at + 18, bytes: 4 }, { at: at + 22, bytes: 4 }, { at: at + 26, bytes: 2 }, { at: at + 28, bytes: 2 });
    else if (sig === 0x02014b50) for (const [off, bytes] of [[20, 4], [24, 4], [28, 2], [30, 2], [32, 2], [42, 4]] as const) fields.push({ at: at + off, bytes });
    else if (sig === 0x06054b50) for (const [off, bytes] of [[8, 2], [10, 2], [12, 4], [16, 4], [20, 2]] as const) fields.push({ at: at + off, bytes });
  }
  return fields.filter((f) => f.at + f.bytes <= zip.length);
}

function header(descr: string, fortran: string, shape: string): string {
  return `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
}

const tuple = (shape: number[]) => (shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`);

const dataBytes = (m: Member) => new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength);

/** An NPY member as numpy.save writes it. */
function validNpy(m: Member, version: number): Uint8Array {
  return npyBytes(header('<f4', 'False', tuple(m.shape)), dataBytes(m), version);
}

/** An NPY member with a hostile header field, or mutated as bytes (the header length as the size field). */
function hostileNpy(m: Member, rng: FuzzRng, version: number): { bytes: Uint8Array; how: string } {
  const data = dataBytes(m);
  let descr = '<f4';
  let fortran = 'False';
  let shape = tuple(m.shape);
  let pad = '';
  let how = '';
  if (rng.chance(0.6)) {
    switch (rng.int(6)) {
      case 0:
        shape = rng.pick([`(${2 ** 31},)`, '(-1,)', `(${2 ** 53}, 2)`, `(${m.shape[0]}, ${2 ** 40})`, '()', '(3.5,)', `(${m.shape.join(', ')}, 1)`, `(${'1, '.repeat(5000)})`]);
        how = `shape ${shape.slice(0, 40)}`;
        break;
      case 1:
        descr = rng.pick(['>f4', '<f8', '<f2', '<i8', '|u1', '<c8', 'O', '<U4', '']);
        how = `descr ${descr}`;
        break;
      case 2:
        fortran = rng.pick(['True', 'None', '1', "'False'"]);
        how = `fortran_order ${fortran}`;
        break;
      case 3:
        pad = ' '.repeat(rng.pick([70_000, 200_000]));
        how = `${pad.length}-byte header`;
        break;
      case 4: {
        const depth = rng.pick([1000, 3000, 5000, 50_000]);
        shape = '('.repeat(depth) + ')'.repeat(depth);
        how = `${depth}-deep shape`;
        break;
      }
      default:
        shape = `[${'{'.repeat(rng.pick([100, 10_000]))}`;
        how = 'broken dict';
    }
  }
  const h = header(descr, fortran, shape) + pad;
  const wide = version === 1 && h.length > 65_000 ? 2 : version;
  let bytes = npyBytes(h, data, wide);
  if (how === '') {
    const m2 = mutateBytes(bytes, rng, { fields: [{ at: 6, bytes: 1 }, { at: 8, bytes: wide === 1 ? 2 : 4 }], floatsFrom: bytes.length - data.length });
    bytes = m2.bytes;
    how = m2.how;
  }
  return { bytes, how };
}

export const gemmaScopeTarget: FuzzTarget = {
  name: 'gemma-scope-npz',
  prepare() {
    const model = embeddedConfig();
    const sae = randomSae(v6Config('jumprelu', 64, 32), 3);
    const w = sae.weights;
    const members: Member[] = [
      { name: 'W_enc', shape: [64, 32], data: w.W_enc },
      { name: 'W_dec', shape: [32, 64], data: w.W_dec },
      { name: 'b_enc', shape: [32], data: w.b_enc! },
      { name: 'b_dec', shape: [64], data: w.b_dec },
      { name: 'threshold', shape: [32], data: w.threshold! },
    ];
    return {
      write(rng, dir) {
        const version = rng.chance(0.8) ? 1 : 2;
        const level = rng.chance(0.5) ? 0 : 6;
        const victim = rng.int(members.length);
        const rawZip = rng.chance(0.25);
        let how = '';
        const files: Record<string, Uint8Array> = {};
        members.forEach((m, i) => {
          let bytes = validNpy(m, version);
          if (!rawZip && i === victim) {
            const hostile = hostileNpy(m, rng, version);
            bytes = hostile.bytes;
            how = `${m.name}.npy: ${hostile.how}`;
          }
          // Gemma Scope's own files name the weights w_enc and w_dec; the reader maps both spellings.
          files[`${rng.chance(0.1) ? m.name.toLowerCase() : m.name}.npy`] = bytes;
        });
        let zip: Uint8Array = zipSync(files, { level });
        if (rawZip) {
          const m = mutateBytes(zip, rng, { fields: zipFields(zip) });
          zip = m.bytes;
          how = `zip: ${m.how}`;
        }
        writeFile(dir, 'params.npz', zip);
        return `npy v${version}, level ${level}; ${how}`;
      },
      writeSeed: (dir) => writeFile(dir, 'params.npz', zipSync(Object.fromEntries(members.map((m) => [`${m.name}.npy`, validNpy(m, 1)])))),
      read(dir) {
        useSae(readGemmaScope(join(dir, 'params.npz'), { model, hookName: 'blocks.2.hook_resid_post' }));
      },
    };
  },
};
