/**
 * Feature references as users type them: `blocks.2.hook_resid_post:123` (hook name, as in a
 * Neuronpedia/steering `source`), `2:123` (layer number: the shipped SAE on that layer's
 * hook_resid_post), or `123` alone (a feature of the SAE given separately, default the shipped
 * blocks.2 SAE).
 */
import { existsSync, readdirSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import { assetPath } from '../../util/package-root.js';

export const DEFAULT_SAE_HOOK = 'blocks.2.hook_resid_post';

/** The shipped SAE folder for a hook, or a UsageError listing the shipped ones. */
export function shippedSaeDir(hook: string): string {
  const dir = assetPath('saes', hook);
  if (!/^[\w.]+$/.test(hook) || !existsSync(dir)) {
    const shipped = readdirSync(assetPath('saes')).filter((n) => n.startsWith('blocks.'));
    throw new UsageError(`no shipped SAE for "${hook}" (shipped: ${shipped.join(', ')}); pass --sae <folder>`);
  }
  return dir;
}

export interface FeatureRef {
  saeDir: string;
  feature: number;
  /** Whether the reference or `saeDir` named the SAE (false: the default SAE was assumed). */
  named: boolean;
}

/** Resolves `ref`; `saeDir` is the --sae folder, used when the reference names no SAE. */
export function parseFeatureRef(ref: string, saeDir?: string): FeatureRef {
  const m = /^(?:(.+):)?(\d+)$/.exec(ref.trim());
  if (!m) throw new UsageError(`feature "${ref}" is not <hook>:<index>, <layer>:<index> or <index> (e.g. blocks.2.hook_resid_post:123, 2:123, 123)`);
  const feature = Number(m[2]);
  const source = m[1];
  if (source === undefined) return { saeDir: saeDir ?? shippedSaeDir(DEFAULT_SAE_HOOK), feature, named: saeDir !== undefined };
  if (saeDir !== undefined) throw new UsageError(`feature "${ref}" names its SAE; leave out --sae, or give the index alone`);
  return { saeDir: shippedSaeDir(/^\d+$/.test(source) ? `blocks.${source}.hook_resid_post` : source), feature, named: true };
}
