import type { FuzzRng } from './fuzz-rng.js';

/** One format under fuzzing, ready to make inputs: its valid seed files exist. */
export interface PreparedTarget {
  /** Writes one input (files mutated from a valid seed) into the empty folder `dir`; returns what was done. */
  write(rng: FuzzRng, dir: string): string;
  /** Writes a valid seed, unchanged, into the empty folder `dir` (what `read` must accept). */
  writeSeed(dir: string): void;
  /** Reads the input in `dir` as the program does, and uses what it read; throws when it is bad. */
  read(dir: string): void;
}

/** A file format we read: how to make valid seeds of it with our own writers, mutate them and read them. */
export interface FuzzTarget {
  name: string;
  /** Makes the valid seed files in `work` (a private folder, kept for the whole run). */
  prepare(work: string): PreparedTarget;
}
