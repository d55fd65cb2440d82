import { cacheLineOffset } from './native-backend.js';

const LINE = 64;

/**
 * A zeroed Float32Array of n values whose first element starts a 64-byte cache line. The SIMD
 * kernels load a whole 512-bit vector at a time; from a typed array as V8 allocates it (16-byte
 * aligned) every such load straddles two lines, and the batched-decode matmuls ran about 20%
 * slower for it. Without the native addon alignment buys nothing, so a plain array is returned.
 */
export function alignedFloat32Array(n: number): Float32Array<ArrayBuffer> {
  if (!cacheLineOffset) return new Float32Array(n);
  const buffer = new ArrayBuffer(4 * n + LINE);
  // Backing stores never move and are at least 8-byte aligned, so the shift is a whole number of floats.
  const shift = (LINE - cacheLineOffset(buffer)) % LINE;
  return new Float32Array(buffer, shift, n);
}
