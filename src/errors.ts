/**
 * Typed errors. Every failure a user can cause (a bad file, a bad flag, a bad request) is one of
 * these classes: a stable `code`, and a message that names the file/field and the values that
 * were wrong. The CLI prints `message` as one line; the server maps them to OpenAI's error JSON.
 */
import { describeValue } from './util/describe-value.js';

export class TinymorphError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A model file (llama2.c .bin, safetensors, …) that is truncated, inconsistent or not what it claims. */
export class ModelFileError extends TinymorphError {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super('model_file', `${file}: ${problem}`);
  }
}

/** A tokenizer file that cannot be read. */
export class TokenizerFileError extends TinymorphError {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super('tokenizer_file', `${file}: ${problem}`);
  }
}

/** Tensor shapes that do not agree. */
export class ShapeError extends TinymorphError {
  constructor(message: string) {
    super('shape', message);
  }
}

/** A hook name that the model does not have. */
export class UnknownHookError extends TinymorphError {
  constructor(name: string, hint: string) {
    super('unknown_hook', `unknown hook point ${describeValue(name)} (${hint})`);
  }
}

/** A bad argument to a library call or CLI command (out-of-range value, missing input). */
export class UsageError extends TinymorphError {
  constructor(message: string) {
    super('usage', message);
  }
}

/** An SAE file or folder (cfg.json, sae_weights.safetensors, …) that is missing, inconsistent or does not fit the model. */
export class SaeFileError extends TinymorphError {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super('sae_file', `${file}: ${problem}`);
  }
}

/** An activation cache folder (manifest.json, shard files) that is missing, corrupt, or was made with other settings. */
export class ActivationCacheError extends TinymorphError {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super('activation_cache', `${file}: ${problem}`);
  }
}

/** A steering spec or steering-vector file that is malformed or does not fit the model (names the field or file). */
export class SteeringError extends TinymorphError {
  constructor(message: string) {
    super('steering', message);
  }
}

/** A feature index database (features.sqlite) that is missing, corrupt, from another SAE or schema, or a feature it lacks. */
export class FeatureIndexError extends TinymorphError {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super('feature_index', `${file}: ${problem}`);
  }
}

/** Numbers that came out NaN or infinite where a result needs finite ones (NaN weights, an overflow), with where they were found. */
export class NumericError extends TinymorphError {
  constructor(message: string) {
    super('non_finite', message);
  }
}

/** Why a vault operation was refused; the HTTP layer maps each to one status code. */
export type VaultProblem = 'bad_path' | 'outside_vault' | 'not_found' | 'exists' | 'too_large' | 'conflict' | 'bad_file';

/** A vault request that names a bad, escaping, missing or existing path, a note that is too large, or a vault file (settings) that is malformed. */
export class VaultError extends TinymorphError {
  constructor(
    readonly problem: VaultProblem,
    readonly path: string,
    detail: string,
  ) {
    super(`vault_${problem}`, `${describeValue(path)}: ${detail}`);
  }
}

/** A save whose base version is no longer the one on disk: someone else changed the note since it was read. */
export class NoteConflictError extends VaultError {
  constructor(
    path: string,
    readonly disk: { text: string; hash: string },
    readonly yours: { text: string },
    readonly baseHash: string | null,
  ) {
    super('conflict', path, `changed on disk since it was opened (edited from ${baseHash ?? 'a new note'}, disk has ${disk.hash})`);
  }
}
