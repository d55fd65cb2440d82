import { UsageError } from '../errors.js';
import type { Backend } from './backend.js';
import { nativeBackend, nativeConfigError, nativeStatus } from './native-backend.js';
import { referenceBackend } from './reference-backend.js';

/**
 * The one piece of global state the design allows: which kernel backend runs. Chosen by
 * `--backend` / TINYMORPH_BACKEND, else the fastest available: `native` when its addon loaded
 * (see nativeStatus() for why it did not), else `reference`.
 */
const backends = new Map<string, Backend>([[referenceBackend.name, referenceBackend]]);
if (nativeBackend) backends.set(nativeBackend.name, nativeBackend);
let current: Backend | undefined;

export function availableBackends(): string[] {
  return [...backends.keys()];
}

/** The backend called `name`; `via` names where the name came from (an environment variable) in errors. */
export function backendByName(name: string, via?: string): Backend {
  const b = backends.get(name);
  const native = nativeStatus();
  const from = via ? `${via}: ` : '';
  if (!b && name === 'native' && !native.available) throw new UsageError(`${from}backend "native" is not available: ${native.reason}`);
  if (!b) throw new UsageError(`${from}unknown backend "${name}" (available: ${availableBackends().join(', ')})`);
  const configError = b === nativeBackend ? nativeConfigError() : undefined;
  if (configError) throw configError;
  return b;
}

/** The backend in use: the one set explicitly, else $TINYMORPH_BACKEND, else the fastest available. */
export function activeBackend(): Backend {
  const env = process.env.TINYMORPH_BACKEND;
  current ??= env ? backendByName(env, 'TINYMORPH_BACKEND') : backendByName((nativeBackend ?? referenceBackend).name);
  return current;
}

export function setActiveBackend(name: string): Backend {
  current = backendByName(name);
  return current;
}
