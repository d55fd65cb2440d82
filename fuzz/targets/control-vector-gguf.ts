/**
 * llama.cpp control vectors (GGUF): direction.1..3 for the embedded model written by our writer,
 * with string, integer and array metadata, and a well-formed one for another model (32 wide);
 * mutated with every count, length, dimension, type and
 * offset of the header as a size field; read as `steer --vector FILE.gguf` and
 * `vector import-gguf` read them, then steered with.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../src/model/load-model.js';
import { writeGguf } from '../../src/model/gguf/gguf-writer.js';
import { SteeringContext } from '../../src/steer/steering-context.js';
import { randomArray } from '../../test/sae/sae-test-helpers.js';
import type { IntField } from '../byte-mutators.js';
import { mutateBytes } from '../byte-mutators.js';
import type { FuzzTarget } from '../fuzz-target.js';
import { writeFile } from './seed-files.js';
import { steerWithVectorFile } from './vector-use.js';

/** Bytes of GGUF scalar value types, by type id (gguf-types.ts GGUF_VALUE_TYPES order; 8 string, 9 array). */
const SCALAR = [1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8];

/** The positions of every size-like field in a well-formed GGUF header (docs/gguf.md layout). */
export function ggufFields(bytes: Uint8Array): { fields: IntField[]; dataFrom: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields: IntField[] = [{ at: 4, bytes: 4 }, { at: 8, bytes: 8 }, { at: 16, bytes: 8 }];
  let at = 24;
  const u64 = () => {
    fields.push({ at, bytes: 8 });
    const v = Number(view.getBigUint64(at, true));
    at += 8;
    return v;
  };
  const u32 = () => {
    fields.push({ at, bytes: 4 });
    const v = view.getUint32(at, true);
    at += 4;
    return v;
  };
  // `const n = u64(); at += n`, not `at += u64()`: u64 moves `at`, and `+=` would add to its old value.
  const skipString = () => {
    const n = u64();
    at += n;
  };
  const value = (type: number): void => {
    if (type === 8) skipString();
    else if (type === 9) {
      const item = u32();
      const n = u64();
      for (let i = 0; i < n; i++) value(item);
    } else at += SCALAR[type];
  };
  const tensors = Number(view.getBigUint64(8, true));
  const kvs = Number(view.getBigUint64(16, true));
  for (let i = 0; i < kvs; i++) {
    skipString(); // key
    value(u32());
  }
  for (let i = 0; i < tensors; i++) {
    skipString(); // name
    const dims = u32();
    for (let d = 0; d < dims; d++) u64();
    u32(); // ggml type
    u64(); // offset
  }
  return { fields, dataFrom: Math.ceil(at / 32) * 32 };
}

export const controlVectorTarget: FuzzTarget = {
  name: 'control-vector-gguf',
  prepare(work) {
    const { model, tokenizer } = loadModel();
    const path = join(work, 'seed.gguf');
    writeGguf(
      path,
      [
        ['general.architecture', { type: 'string', value: 'controlvector' }],
        ['controlvector.model_hint', { type: 'string', value: 'llama' }],
        ['controlvector.layer_count', { type: 'uint32', value: 3 }],
        ['tinymorph.method', { type: 'string', value: 'caa' }],
        ['tinymorph.layers', { type: 'array', itemType: 'int32', items: [1, 2, 3].map((value) => ({ type: 'int32', value })) }],
      ],
      [1, 2, 3].map((l) => ({ name: `direction.${l}`, shape: [64], data: randomArray(64, l, 0.5) })),
    );
    // A well-formed control vector for another model: 32-wide directions.
    const other = join(work, 'other-model.gguf');
    writeGguf(other, [['general.architecture', { type: 'string', value: 'controlvector' }]], [{ name: 'direction.1', shape: [32], data: randomArray(32, 9, 0.5) }]);
    const seeds = [path, other].map((p) => {
      const bytes = new Uint8Array(readFileSync(p));
      return { bytes, ...ggufFields(bytes) };
    });
    return {
      write(rng, dir) {
        const seed = rng.chance(0.8) ? seeds[0] : seeds[1];
        const m = mutateBytes(seed.bytes, rng, { fields: seed.fields, floatsFrom: seed.dataFrom });
        writeFile(dir, 'vector.gguf', m.bytes);
        return m.how;
      },
      writeSeed: (dir) => writeFile(dir, 'vector.gguf', seeds[0].bytes),
      read(dir) {
        steerWithVectorFile(new SteeringContext(model, tokenizer), join(dir, 'vector.gguf'));
      },
    };
  },
};
