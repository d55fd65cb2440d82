import { UsageError } from '../errors.js';
import type { Backend } from './backend.js';
import { nativeBackend, nativeStatus } from './native-backend.js';
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

export function backendByName(name: string): Backend {
  const b = backends.get(name);
  const native = nativeStatus();
  if (!b && name === 'native' && !native.available) throw new UsageError(`backend "native" is not available: ${native.reason}`);
  if (!b) throw new UsageError(`unknown backend "${name}" (available: ${availableBackends().join(', ')})`);
  return b;
}

/** The backend in use: the one set explicitly, else $TINYMORPH_BACKEND, else the fastest available. */
export function activeBackend(): Backend {
  current ??= backendByName(process.env.TINYMORPH_BACKEND || (nativeBackend ?? referenceBackend).name);
  return current;
}

export function setActiveBackend(name: string): Backend {
  current = backendByName(name);
  return current;
}
