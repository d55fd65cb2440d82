/**
 * The SAEs a client may name: the shipped ones (assets/saes/<hook>), by hook name or by layer
 * number (that layer's hook_resid_post SAE), as steering specs and Neuronpedia name them. A name
 * that looks like a path is never one of them, so a request cannot make the server open folders
 * of the client's choosing.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { assetPath } from '../util/package-root.js';
import { shippedSaeDir } from '../steer/steering-context.js';

/** The shipped SAE folder that `source` names, or undefined when it names none. */
export function shippedSaeFolder(source: string): string | undefined {
  // As SteeringContext.sae resolves it, so that what passes here is what gets loaded.
  const hook = /^\d+$/.test(source) ? `blocks.${source}.hook_resid_post` : source;
  if (!/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/.test(hook)) return undefined;
  const dir = shippedSaeDir(hook);
  return existsSync(join(dir, 'cfg.json')) ? dir : undefined;
}

/** The hook names of the shipped SAEs, for messages. */
export function shippedSaeHooks(): string[] {
  return readdirSync(assetPath('saes')).filter((n) => existsSync(join(assetPath('saes'), n, 'cfg.json'))).sort();
}
