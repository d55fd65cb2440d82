/**
 * Feature index databases (SQLite): an index built by `buildFeatureIndex` for a small random SAE
 * over validation text; mutated with the SQLite header's fields (page size, page count, freelist,
 * schema cookie, version-valid-for) and every b-tree page header's cell count, content offset and
 * right pointer as the size fields; opened as the `features` commands open it and queried.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validationTextPath } from '../../src/model/embedded.js';
import { loadModel } from '../../src/model/load-model.js';
import { buildFeatureIndex } from '../../src/sae/feature-index/build-feature-index.js';
import { FeatureIndex } from '../../src/sae/feature-index/feature-index.js';
import { randomSae, v6Config } from '../../test/sae/sae-test-helpers.js';
import type { IntField } from '../byte-mutators.js';
import { mutateBytes } from '../byte-mutators.js';
import type { FuzzTarget } from '../fuzz-target.js';
import { writeFile } from './seed-files.js';

/** The database header's integer fields (sqlite.org/fileformat.html §1.3, big-endian) and each page's b-tree header (§1.6). */
function sqliteFields(bytes: Uint8Array): IntField[] {
  const be = true;
  const fields: IntField[] = [16, 18, 19, 20, 21, 22, 23].map((at) => ({ at, bytes: at === 16 ? 2 : 1, be }));
  for (const at of [24, 28, 32, 36, 40, 44, 48, 52, 56, 60, 64, 68, 92, 96]) fields.push({ at, bytes: 4, be });
  const pageSize = ((bytes[16] << 8) | bytes[17]) === 1 ? 65536 : (bytes[16] << 8) | bytes[17];
  for (let page = 0; page * pageSize < bytes.length; page++) {
    const h = page * pageSize + (page === 0 ? 100 : 0);
    fields.push({ at: h, bytes: 1 }, { at: h + 1, bytes: 2, be }, { at: h + 3, bytes: 2, be }, { at: h + 5, bytes: 2, be }, { at: h + 8, bytes: 4, be });
  }
  return fields;
}

/** The SAE the seed index is built for (the CLI fuzz writes it as a folder for `--sae`). */
export const featureIndexSae = () => randomSae(v6Config('topk', 64, 32, { k: 4 }), 5);

export const featureIndexTarget: FuzzTarget = {
  name: 'feature-index',
  prepare(work) {
    const { model, tokenizer } = loadModel();
    const sae = featureIndexSae();
    const db = join(work, 'features.sqlite');
    buildFeatureIndex(model, tokenizer, sae, validationTextPath(), { db, tokens: 2048, contextSize: 64, batchContexts: 8, topContexts: 5 });
    const seed = new Uint8Array(readFileSync(db));
    const fields = sqliteFields(seed);
    return {
      write(rng, dir) {
        const m = mutateBytes(seed, rng, { fields });
        const writable = rng.chance(0.3);
        writeFile(dir, writable ? 'writable.sqlite' : 'features.sqlite', m.bytes);
        return `${writable ? 'writable; ' : ''}${m.how}`;
      },
      writeSeed: (dir) => writeFile(dir, 'features.sqlite', seed),
      read(dir) {
        const writable = existsSync(join(dir, 'writable.sqlite'));
        const index = FeatureIndex.open(join(dir, writable ? 'writable.sqlite' : 'features.sqlite'), { writable, sae });
        try {
          index.search('the');
          index.show(0);
          index.show(index.dSae - 1);
          index.labels([0, 1, 2]);
          if (writable) index.setLabel(1, 'fuzz label');
        } finally {
          index.close();
        }
      },
    };
  },
};
