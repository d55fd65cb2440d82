/**
 * Half-precision conversions for model files: IEEE 754 binary16 ("F16": 1 sign, 5 exponent,
 * 10 mantissa bits) and bfloat16 ("BF16": the top 16 bits of a binary32). Decoding is exact;
 * encoding rounds to nearest, ties to even, as IEEE 754 (and numpy, PyTorch) do.
 * All functions work in bulk on typed arrays; `out` may be passed to avoid an allocation.
 */
import { ShapeError } from '../errors.js';

let f16Table: Float32Array | undefined;

/** Decode binary16 bit patterns. */
export function f16ToF32(src: Uint16Array, out: Float32Array = new Float32Array(src.length)): Float32Array {
  checkLengths('f16ToF32', src.length, out.length);
  const table = (f16Table ??= buildF16Table());
  for (let i = 0; i < src.length; i++) out[i] = table[src[i]];
  return out;
}

/** Decode bfloat16 bit patterns: each is the high half of the binary32 with the same value. */
export function bf16ToF32(src: Uint16Array, out: Float32Array = new Float32Array(src.length)): Float32Array {
  checkLengths('bf16ToF32', src.length, out.length);
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
  return out;
}

/** Encode as binary16, rounding to nearest even; out of range gives ±Inf, NaN stays NaN. */
export function f32ToF16(src: Float32Array, out: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  checkLengths('f32ToF16', src.length, out.length);
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) {
    const x = bits[i];
    const sign = (x >>> 16) & 0x8000;
    const exp32 = (x >>> 23) & 0xff;
    const mant = x & 0x7fffff;
    // Exponent re-biased from binary32 (bias 127) to binary16 (bias 15).
    const exp = exp32 - 112;
    if (exp32 === 0xff) {
      // Inf, or NaN kept quiet (0x200) so a payload whose top bits are zero does not become Inf.
      out[i] = sign | 0x7c00 | (mant === 0 ? 0 : 0x200 | (mant >>> 13));
    } else if (exp >= 0x1f) {
      out[i] = sign | 0x7c00;
    } else if (exp > 0) {
      // Normal: drop 13 mantissa bits, rounding half to even. A carry out of the mantissa moves
      // into the exponent, which is exactly right (up to 0x7c00 = Inf for values ≥ 65520).
      const rest = mant & 0x1fff;
      const h = (exp << 10) | (mant >>> 13);
      out[i] = sign | (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1) ? h + 1 : h);
    } else if (exp >= -10) {
      // Subnormal result: the value is (mant | implicit bit) · 2^(exp32 − 150), counted in units of
      // the binary16 subnormal step 2^−24, i.e. shifted right by 14 − exp (14 to 24 bits).
      const m = mant | 0x800000;
      const shift = 14 - exp;
      const half = 1 << (shift - 1);
      const rest = m & ((1 << shift) - 1);
      const h = m >>> shift;
      out[i] = sign | (rest > half || (rest === half && (h & 1) === 1) ? h + 1 : h);
    } else {
      // Below half the smallest subnormal (2^−25): rounds to a signed zero.
      out[i] = sign;
    }
  }
  return out;
}

/** Encode as bfloat16, rounding to nearest even; NaN stays NaN. */
export function f32ToBf16(src: Float32Array, out: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  checkLengths('f32ToBf16', src.length, out.length);
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) {
    const x = bits[i];
    if ((x & 0x7fffffff) > 0x7f800000) {
      // NaN: truncate and force the quiet bit, since rounding could carry a NaN into Inf.
      out[i] = (x >>> 16) | 0x40;
    } else {
      // Adding 0x7fff plus the lowest kept bit rounds half to even; a carry into the exponent
      // gives the next binade or Inf, as it should.
      out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
    }
  }
  return out;
}

/** All 65536 binary16 values, indexed by bit pattern, built once on first use (256 KiB). */
function buildF16Table(): Float32Array {
  const bits = new Uint32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0x1f) {
      bits[h] = sign | 0x7f800000 | (mant << 13);
    } else if (exp !== 0) {
      bits[h] = sign | ((exp + 112) << 23) | (mant << 13);
    } else if (mant === 0) {
      bits[h] = sign;
    } else {
      // Subnormal mant · 2^−24: shift until the leading bit reaches the implicit-bit position,
      // lowering the binary32 exponent (bias 127, so 2^−14 is 113) once per shift.
      let m = mant;
      let e = 113;
      while ((m & 0x400) === 0) {
        m <<= 1;
        e--;
      }
      bits[h] = sign | (e << 23) | ((m & 0x3ff) << 13);
    }
  }
  return new Float32Array(bits.buffer);
}

function checkLengths(fn: string, srcLength: number, outLength: number): void {
  if (srcLength !== outLength) {
    throw new ShapeError(`${fn}: output has ${outLength} elements, input has ${srcLength}`);
  }
}
