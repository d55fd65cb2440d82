import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../src/tensor/half-float.js';

const decodeF16 = (bits: number) => f16ToF32(Uint16Array.of(bits))[0];
const decodeBf16 = (bits: number) => bf16ToF32(Uint16Array.of(bits))[0];
const encodeF16 = (x: number) => f32ToF16(Float32Array.of(x))[0];
const encodeBf16 = (x: number) => f32ToBf16(Float32Array.of(x))[0];
const isF16NaN = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
const isBf16NaN = (h: number) => (h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0;

test('f16 decodes known bit patterns (IEEE 754 binary16)', () => {
  assert.equal(decodeF16(0x3c00), 1);
  assert.equal(decodeF16(0xc000), -2);
  assert.equal(decodeF16(0x7bff), 65504);
  assert.equal(decodeF16(0x0001), 2 ** -24);
  assert.equal(decodeF16(0x03ff), 1023 * 2 ** -24); // largest subnormal
  assert.equal(decodeF16(0x0400), 2 ** -14); // smallest normal
  assert.equal(decodeF16(0x3555), 0.333251953125);
  assert.equal(decodeF16(0x7c00), Infinity);
  assert.equal(decodeF16(0xfc00), -Infinity);
  assert.ok(Number.isNaN(decodeF16(0x7e00)));
  assert.ok(Object.is(decodeF16(0x8000), -0));
});

test('bf16 decodes known bit patterns (top half of binary32)', () => {
  assert.equal(decodeBf16(0x3f80), 1);
  assert.equal(decodeBf16(0x4049), 3.140625);
  assert.equal(decodeBf16(0xc000), -2);
  assert.equal(decodeBf16(0x7f80), Infinity);
  assert.ok(Number.isNaN(decodeBf16(0x7fc0)));
  assert.ok(Object.is(decodeBf16(0x8000), -0));
});

test('f32 → f16 rounds to nearest even, overflows to Inf, keeps NaN', () => {
  // 1 + 2^-11 is halfway between 1 (0x3c00, even) and 1 + 2^-10 (0x3c01): tie goes to even.
  assert.equal(encodeF16(1 + 2 ** -11), 0x3c00);
  // 1 + 3·2^-11 is halfway between 0x3c01 (odd) and 0x3c02 (even).
  assert.equal(encodeF16(1 + 3 * 2 ** -11), 0x3c02);
  assert.equal(encodeF16(1 + 2 ** -11 + 2 ** -20), 0x3c01); // just above the tie
  assert.equal(encodeF16(65504), 0x7bff);
  assert.equal(encodeF16(65519), 0x7bff); // below the midpoint to 2^16
  assert.equal(encodeF16(65520), 0x7c00); // the midpoint: ties to the even "next" value, Inf
  assert.equal(encodeF16(-1e10), 0xfc00);
  assert.equal(encodeF16(Infinity), 0x7c00);
  assert.equal(encodeF16(-Infinity), 0xfc00);
  assert.ok(isF16NaN(encodeF16(NaN)));
  // NaN whose payload lies only in the low 13 bits must not become Inf.
  const lowPayloadNaN = new Float32Array(new Uint32Array([0x7f800001]).buffer);
  assert.ok(isF16NaN(f32ToF16(lowPayloadNaN)[0]));
  // Subnormals: 2^-24 is the smallest; 2^-25 is the tie between 0 and it (ties to 0).
  assert.equal(encodeF16(2 ** -24), 0x0001);
  assert.equal(encodeF16(2 ** -25), 0x0000);
  assert.equal(encodeF16(2 ** -25 * 1.0001), 0x0001);
  assert.equal(encodeF16(3 * 2 ** -25), 0x0002); // tie between 1 and 2 units: even
  assert.equal(encodeF16(1023.5 * 2 ** -24), 0x0400); // rounds up out of the subnormals
  assert.equal(encodeF16(-(2 ** -30)), 0x8000);
  assert.equal(encodeF16(1e-45), 0x0000); // binary32 subnormal
});

test('f32 → bf16 rounds to nearest even, keeps NaN', () => {
  assert.equal(encodeBf16(Math.PI), 0x4049);
  assert.equal(encodeBf16(1), 0x3f80);
  // 1 + 2^-8 is halfway between 0x3f80 (even) and 0x3f81: tie goes to even.
  assert.equal(encodeBf16(1 + 2 ** -8), 0x3f80);
  assert.equal(encodeBf16(1 + 3 * 2 ** -8), 0x3f82);
  assert.equal(encodeBf16(3.4028234663852886e38), 0x7f80); // max binary32 rounds up to Inf
  assert.equal(encodeBf16(-Infinity), 0xff80);
  assert.ok(isBf16NaN(encodeBf16(NaN)));
  const lowPayloadNaN = new Float32Array(new Uint32Array([0x7fffffff]).buffer);
  assert.ok(isBf16NaN(f32ToBf16(lowPayloadNaN)[0]));
});

test('every f16 and bf16 bit pattern round-trips through f32 unchanged (NaN stays NaN)', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const f16Back = f32ToF16(f16ToF32(all));
  const bf16Back = f32ToBf16(bf16ToF32(all));
  for (let h = 0; h < 65536; h++) {
    if (isF16NaN(h)) assert.ok(isF16NaN(f16Back[h]), `f16 ${h.toString(16)}`);
    else if (f16Back[h] !== h) assert.fail(`f16 0x${h.toString(16)} came back as 0x${f16Back[h].toString(16)}`);
    if (isBf16NaN(h)) assert.ok(isBf16NaN(bf16Back[h]), `bf16 ${h.toString(16)}`);
    else if (bf16Back[h] !== h) assert.fail(`bf16 0x${h.toString(16)} came back as 0x${bf16Back[h].toString(16)}`);
  }
});

/**
 * An independent f16 rounding oracle in float64 arithmetic: find the binary16 step (ulp) for |x|,
 * divide (exact: a power of two), round half to even, multiply back.
 */
function nearestF16(x: number): number {
  const a = Math.abs(x);
  if (a >= 65520) return Math.sign(x) * Infinity;
  let e = Math.max(Math.floor(Math.log2(a)), -14);
  while (e > -14 && 2 ** e > a) e--;
  while (2 ** (e + 1) <= a) e++;
  const ulp = 2 ** (e - 10);
  const q = a / ulp;
  const floor = Math.floor(q);
  const r = q - floor > 0.5 || (q - floor === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
  return (x < 0 ? -1 : 1) * r * ulp;
}

test('f32 → f16 agrees with a float64 rounding oracle on random values and on every tie', () => {
  const values: number[] = [];
  // Deterministic LCG so a failure can be reproduced; magnitudes from 2^-31 (rounds to 0) to 2^18 (Inf).
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 20000; i++) values.push((rand() - 0.5) * 2 ** Math.floor(rand() * 50 - 30));
  // Midpoints between consecutive positive finite f16 values are exact ties (exact in binary32).
  const positives = f16ToF32(new Uint16Array(0x7c00).map((_, i) => i));
  for (let i = 0; i + 1 < positives.length; i++) values.push((positives[i] + positives[i + 1]) / 2);
  const input = Float32Array.from(values);
  const decoded = f16ToF32(f32ToF16(input));
  for (let i = 0; i < input.length; i++) {
    const expected = nearestF16(input[i]);
    if (!Object.is(decoded[i], expected)) {
      assert.fail(`f32 ${input[i]} encoded as ${decoded[i]}, expected ${expected}`);
    }
  }
});

test('mismatched output length is a ShapeError', () => {
  assert.throws(() => f16ToF32(new Uint16Array(3), new Float32Array(2)), { name: 'ShapeError', message: /output has 2 elements, input has 3/ });
});
