import { fmix32, Prng } from '../src/model/sampling/prng.js';

/**
 * The random choices of one fuzz input. Every input has its own generator, seeded from (run seed,
 * format, input index), so any input can be made again on its own (`--only format:index`) without
 * replaying the ones before it.
 */
export class FuzzRng {
  private readonly prng: Prng;

  constructor(seed: number, format: string, index: number) {
    let h = fmix32(seed >>> 0);
    for (let i = 0; i < format.length; i++) h = fmix32(h ^ format.charCodeAt(i));
    // fmix32 is a bijection, so distinct indices (below 2^32) get distinct seeds.
    this.prng = new Prng(fmix32(h ^ fmix32(index >>> 0)));
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.prng.nextFloat() * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.prng.nextFloat() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** A uniform float in [0, 1). */
  float(): number {
    return this.prng.nextFloat();
  }

  /** n random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.prng.nextU32() & 0xff;
    return out;
  }
}
