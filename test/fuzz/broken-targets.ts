/**
 * Fuzz targets that fail on purpose, one way each, for the harness's own test: a reader that
 * crashes, hangs, allocates without bound, kills its process or words its error badly must each
 * be reported as its own crash class, and a well-behaved one as valid or rejected.
 */
import { UsageError } from '../../src/errors.js';
import type { FuzzTarget } from '../../fuzz/fuzz-target.js';

function target(name: string, read: () => void): FuzzTarget {
  return { name, prepare: () => ({ write: () => 'nothing', writeSeed: () => undefined, read }) };
}

const kept: unknown[] = [];

const BROKEN: FuzzTarget[] = [
  target('valid', () => undefined),
  target('typed', () => {
    throw new UsageError('one clear line');
  }),
  target('type-error', () => {
    (JSON.parse('null') as { x: number }).x.toFixed();
  }),
  target('long-message', () => {
    throw new UsageError(`value ${'['.repeat(3000)}`);
  }),
  target('hang', () => {
    for (;;);
  }),
  target('allocates', () => {
    kept.push(new Float32Array(2 ** 27)); // 512 MB for an empty input
  }),
  target('heap', () => {
    for (;;) kept.push({ a: [kept.length] });
  }),
  target('exits', () => process.exit(3)),
];

export function targetByName(name: string): FuzzTarget {
  return BROKEN.find((t) => t.name === name)!;
}
