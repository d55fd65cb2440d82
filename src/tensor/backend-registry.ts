import { UsageError } from '../errors.js';
import type { Backend } from './backend.js';
import { referenceBackend } from './reference-backend.js';

/**
 * The one piece of global state the design allows: which kernel backend runs. Chosen by
 * `--backend` / TINYMORPH_BACKEND, else the fastest available.
 */
const backends = new Map<string, Backend>([[referenceBackend.name, referenceBackend]]);
let current: Backend | undefined;

export function availableBackends(): string[] {
  return [...backends.keys()];
}

export function backendByName(name: string): Backend {
  const b = backends.get(name);
  if (!b) throw new UsageError(`unknown backend "${name}" (available: ${availableBackends().join(', ')})`);
  return b;
}

/** The backend in use: the one set explicitly, else $TINYMORPH_BACKEND, else the reference kernels. */
export function activeBackend(): Backend {
  current ??= backendByName(process.env.TINYMORPH_BACKEND || referenceBackend.name);
  return current;
}

export function setActiveBackend(name: string): Backend {
  current = backendByName(name);
  return current;
}
