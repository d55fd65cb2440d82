import { createHash } from 'node:crypto';
import type { Sae } from '../sae.js';
import { SAE_TENSOR_NAMES } from '../sae.js';

/**
 * SHA-256 of an SAE's architecture and weights, stored in its feature index: an index is only
 * meaningful for the exact weights it was built from, whatever folder they now live in, so queries
 * compare this rather than a path.
 */
export function saeFingerprint(sae: Sae): string {
  const h = createHash('sha256');
  h.update(`${sae.config.architecture} ${sae.config.d_in} ${sae.config.d_sae}\n`);
  for (const name of SAE_TENSOR_NAMES) {
    const w = sae.weights[name];
    if (w) h.update(name).update(new Uint8Array(w.buffer, w.byteOffset, w.byteLength));
  }
  return h.digest('hex');
}
