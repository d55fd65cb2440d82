import { UsageError } from '../../errors.js';

/**
 * Seeded, deterministic pseudo-random numbers for sampling: xoshiro128** 1.1 (Blackman & Vigna,
 * "Scrambled linear pseudorandom number generators", ACM TOMS 2021; reference C at
 * https://prng.di.unimi.it/xoshiro128starstar.c). 128 bits of state, period 2^128 − 1, 32-bit
 * outputs that pass BigCrush — and cheap in JS, where every step is a 32-bit integer op.
 * One `Prng` per request makes a generation reproducible from its seed whatever else is batched.
 */

/** The Weyl increment of SplitMix: 2^32 / φ, odd, so the sequence visits every 32-bit value. */
const GOLDEN_GAMMA = 0x9e3779b9;

/**
 * MurmurHash3's 32-bit finaliser (Appleby, SMHasher): a bijection on 32-bit words with full
 * avalanche. It is SplitMix's output mix here, as Vigna suggests seeding xoshiro through a
 * SplitMix generator so that similar seeds give unrelated states.
 */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class Prng {
  // xoshiro128** state words s[0..3] (unsigned 32-bit, never all zero).
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /**
   * Seeds the state with four outputs of splitmix32 (Weyl sequence `seed + i·γ`, each word put
   * through `fmix32`). The four inputs differ and `fmix32` is a bijection, so at most one word is
   * zero and the all-zero state (a fixed point of xoshiro) cannot occur. Seeds in [0, 2^32) are
   * used as they are; any other safe integer is folded to 32 bits by XOR-ing in the hash of its
   * high word, so large seeds (timestamps, 53-bit ids) still spread over the whole state.
   */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) {
      throw new UsageError(`seed must be a safe integer, got ${seed}`);
    }
    const low = seed >>> 0;
    const high = Math.floor(seed / 0x1_0000_0000) >>> 0;
    const z = (low ^ fmix32(high)) >>> 0;
    this.s0 = fmix32(z + GOLDEN_GAMMA);
    this.s1 = fmix32(z + 2 * GOLDEN_GAMMA);
    this.s2 = fmix32(z + 3 * GOLDEN_GAMMA);
    this.s3 = fmix32(z + 4 * GOLDEN_GAMMA);
  }

  /** A generator with its state words given directly, as the reference C code's `s[4]`. */
  static fromState(s0: number, s1: number, s2: number, s3: number): Prng {
    const words = [s0, s1, s2, s3];
    if (!words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) {
      throw new UsageError(`xoshiro128** state must be four unsigned 32-bit integers, got [${words.join(', ')}]`);
    }
    if (s0 === 0 && s1 === 0 && s2 === 0 && s3 === 0) {
      throw new UsageError('xoshiro128** state must not be all zero');
    }
    const prng = new Prng(0);
    prng.s0 = s0;
    prng.s1 = s1;
    prng.s2 = s2;
    prng.s3 = s3;
    return prng;
  }

  /** The four state words, for checkpoints: `Prng.fromState(...prng.state())` continues the same sequence. */
  state(): [number, number, number, number] {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  /** The next 32-bit output, in [0, 2^32). */
  nextU32(): number {
    const s1 = this.s1;
    // The ** scrambler: rotl(s[1] * 5, 7) * 9.
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    const s2 = this.s2 ^ this.s0;
    const s3 = this.s3 ^ s1;
    this.s1 = (s1 ^ s2) >>> 0;
    this.s0 = (this.s0 ^ s3) >>> 0;
    this.s2 = (s2 ^ t) >>> 0;
    this.s3 = ((s3 << 11) | (s3 >>> 21)) >>> 0;
    return result;
  }

  /**
   * A float in [0, 1) from the top 24 bits (the best-mixed ones, per Vigna) of `nextU32`: every
   * value is a multiple of 2^−24, so it is exact in a Float32 as well as a double.
   */
  nextFloat(): number {
    return (this.nextU32() >>> 8) * 5.960464477539063e-8; // 2^-24
  }
}
