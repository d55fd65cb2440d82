/*
 * One vector type `vf` of VL fp32 lanes, so every kernel is written once: AVX-512 (16 lanes),
 * AVX2 + FMA (8 lanes), or plain C (1 lane) on any other machine (ARM, old x86). Tails use masked
 * loads and stores, so no kernel reads or writes past the elements it was given.
 */
#ifndef TINYMORPH_SIMD_H
#define TINYMORPH_SIMD_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#define TM_SIMD "avx512"
#define VL 16
typedef __m512 vf;

static inline __mmask16 vmask_(int n) { return (__mmask16)((1u << n) - 1u); }
static inline vf vzero(void) { return _mm512_setzero_ps(); }
static inline vf vset1(float a) { return _mm512_set1_ps(a); }
static inline vf vload(const float *p) { return _mm512_loadu_ps(p); }
static inline void vstore(float *p, vf v) { _mm512_storeu_ps(p, v); }
/* First n (0..VL) lanes from p, zeros after. */
static inline vf vload_n(const float *p, int n) { return _mm512_maskz_loadu_ps(vmask_(n), p); }
static inline void vstore_n(float *p, vf v, int n) { _mm512_mask_storeu_ps(p, vmask_(n), v); }
static inline vf vadd(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf vsub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf vmul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf vdiv(vf a, vf b) { return _mm512_div_ps(a, b); }
static inline vf vmax(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline vf vfma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline float vsum(vf v) { return _mm512_reduce_add_ps(v); }
static inline float vhmax(vf v) { return _mm512_reduce_max_ps(v); }
/* 16 int8 → fp32. */
static inline vf vload_i8(const int8_t *p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)p)));
}
/* Lane l = s[l / g] for a group size g < VL (a power of two); reads only the groups it needs. */
static inline vf vexpand_groups(const float *s, int g, int lanes) {
  const __m512i idx = _mm512_srli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), __builtin_ctz((unsigned)g));
  return _mm512_permutexvar_ps(idx, vload_n(s, (lanes + g - 1) / g));
}
/* Rotary step on interleaved pairs: (x0·c − x1·s, x0·s + x1·c) with t = interleaved (c, s). */
static inline vf vrope(vf x, vf t) {
  const vf c = _mm512_moveldup_ps(t), s = _mm512_movehdup_ps(t);
  const vf swapped = _mm512_permute_ps(x, 0xB1);
  return _mm512_fmaddsub_ps(x, c, _mm512_mul_ps(swapped, s));
}
/* Lane mask of v > t (false for NaN), as bits. */
static inline uint32_t vgt_bits(vf v, vf t) { return (uint32_t)_mm512_cmp_ps_mask(v, t, _CMP_GT_OQ); }
static inline uint32_t veq_bits(vf v, vf t) { return (uint32_t)_mm512_cmp_ps_mask(v, t, _CMP_EQ_OQ); }
/* 1 where a ≥ b (vgt_ones: a > b), else 0. */
static inline vf vge_ones(vf a, vf b) { return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(a, b, _CMP_GE_OQ), _mm512_set1_ps(1.0f)); }
static inline vf vgt_ones(vf a, vf b) { return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(a, b, _CMP_GT_OQ), _mm512_set1_ps(1.0f)); }
/* 1 where (a at position pa) ranks before (b at pb): a > b, or a == b and pa < pb; else 0. */
static inline vf vbeats_ones(vf a, vf pa, vf b, vf pb) {
  const __mmask16 m = _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ) | (_mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ) & _mm512_cmp_ps_mask(pa, pb, _CMP_LT_OQ));
  return _mm512_maskz_mov_ps(m, _mm512_set1_ps(1.0f));
}
static inline uint32_t vnonzero_bits(vf v) { return (uint32_t)_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NEQ_UQ); }
/* v where m ≠ 0 (or NaN), 0 elsewhere. */
static inline vf vkeep_nonzero(vf v, vf m) { return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(m, _mm512_setzero_ps(), _CMP_NEQ_UQ), v); }
static inline uint32_t vnan_bits(vf v) { return (uint32_t)_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q); }

/* Lane i = sum of v[i]'s lanes, for VL vectors at once (a transposing add tree: 45 shuffles and
   adds for 16 sums where 16 separate reductions take ~100). */
static inline __m512 vsum4_lanes_(__m512 a, __m512 b, __m512 c, __m512 d) {
  const __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
  const __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
  return _mm512_add_ps(_mm512_shuffle_ps(ab, cd, 0x44), _mm512_shuffle_ps(ab, cd, 0xEE)); /* 128-bit lane k: partial sums of a, b, c, d */
}
static inline vf vsum_many(const vf *v) {
  const __m512 a = vsum4_lanes_(v[0], v[1], v[2], v[3]), b = vsum4_lanes_(v[4], v[5], v[6], v[7]);
  const __m512 c = vsum4_lanes_(v[8], v[9], v[10], v[11]), d = vsum4_lanes_(v[12], v[13], v[14], v[15]);
  const __m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
  const __m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(c, d, 0x44), _mm512_shuffle_f32x4(c, d, 0xEE));
  return _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, 0x88), _mm512_shuffle_f32x4(ab, cd, 0xDD));
}

/* e^x: Cephes expf's range reduction and polynomial (≈1 ulp), 2^n applied with scalef. */
static inline vf vexp(vf x) {
  x = _mm512_max_ps(_mm512_set1_ps(-104.0f), _mm512_min_ps(_mm512_set1_ps(89.0f), x)); /* NaN passes */
  const vf n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  vf r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  vf y = _mm512_set1_ps(1.9875691500e-4f);
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.3981999507e-3f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(8.3334519073e-3f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(4.1665795894e-2f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.6666665459e-1f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(5.0000001201e-1f));
  y = _mm512_fmadd_ps(y, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(y, n);
}

#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define TM_SIMD "avx2"
#define VL 8
typedef __m256 vf;

static inline __m256i vmask_(int n) {
  static const int32_t m[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256((const __m256i *)(m + 8 - n));
}
static inline vf vzero(void) { return _mm256_setzero_ps(); }
static inline vf vset1(float a) { return _mm256_set1_ps(a); }
static inline vf vload(const float *p) { return _mm256_loadu_ps(p); }
static inline void vstore(float *p, vf v) { _mm256_storeu_ps(p, v); }
static inline vf vload_n(const float *p, int n) { return _mm256_maskload_ps(p, vmask_(n)); }
static inline void vstore_n(float *p, vf v, int n) { _mm256_maskstore_ps(p, vmask_(n), v); }
static inline vf vadd(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf vsub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf vmul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf vdiv(vf a, vf b) { return _mm256_div_ps(a, b); }
static inline vf vmax(vf a, vf b) { return _mm256_max_ps(a, b); }
static inline vf vfma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
static inline float vsum(vf v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
static inline float vhmax(vf v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
static inline vf vload_i8(const int8_t *p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p)));
}
static inline vf vexpand_groups(const float *s, int g, int lanes) {
  const __m256i idx = _mm256_srli_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), __builtin_ctz((unsigned)g));
  return _mm256_permutevar8x32_ps(vload_n(s, (lanes + g - 1) / g), idx);
}
static inline vf vrope(vf x, vf t) {
  const vf c = _mm256_moveldup_ps(t), s = _mm256_movehdup_ps(t);
  const vf swapped = _mm256_permute_ps(x, 0xB1);
  return _mm256_fmaddsub_ps(x, c, _mm256_mul_ps(swapped, s));
}
static inline uint32_t vgt_bits(vf v, vf t) { return (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(v, t, _CMP_GT_OQ)); }
static inline uint32_t veq_bits(vf v, vf t) { return (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(v, t, _CMP_EQ_OQ)); }
static inline vf vge_ones(vf a, vf b) { return _mm256_and_ps(_mm256_cmp_ps(a, b, _CMP_GE_OQ), _mm256_set1_ps(1.0f)); }
static inline vf vgt_ones(vf a, vf b) { return _mm256_and_ps(_mm256_cmp_ps(a, b, _CMP_GT_OQ), _mm256_set1_ps(1.0f)); }
static inline vf vbeats_ones(vf a, vf pa, vf b, vf pb) {
  const __m256 m = _mm256_or_ps(_mm256_cmp_ps(a, b, _CMP_GT_OQ), _mm256_and_ps(_mm256_cmp_ps(a, b, _CMP_EQ_OQ), _mm256_cmp_ps(pa, pb, _CMP_LT_OQ)));
  return _mm256_and_ps(m, _mm256_set1_ps(1.0f));
}
static inline uint32_t vnonzero_bits(vf v) { return (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_NEQ_UQ)); }
static inline vf vkeep_nonzero(vf v, vf m) { return _mm256_and_ps(v, _mm256_cmp_ps(m, _mm256_setzero_ps(), _CMP_NEQ_UQ)); }
static inline uint32_t vnan_bits(vf v) { return (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)); }

/* Lane i = sum of v[i]'s lanes, for VL vectors at once. */
static inline vf vsum_many(const vf *v) {
  const __m256 a = _mm256_hadd_ps(_mm256_hadd_ps(v[0], v[1]), _mm256_hadd_ps(v[2], v[3]));
  const __m256 b = _mm256_hadd_ps(_mm256_hadd_ps(v[4], v[5]), _mm256_hadd_ps(v[6], v[7]));
  return _mm256_add_ps(_mm256_permute2f128_ps(a, b, 0x20), _mm256_permute2f128_ps(a, b, 0x31));
}

/* e^x as the AVX-512 version; 2^n built in the exponent bits (inputs clamped to expf's range). */
static inline vf vexp(vf x) {
  x = _mm256_max_ps(_mm256_set1_ps(-87.3365f), _mm256_min_ps(_mm256_set1_ps(88.7228f), x));
  const vf n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  vf r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  vf y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  /* n = 128 (x ≥ 88.7) gives exponent 255: +inf, as expf overflows. */
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

#else
#define TM_SIMD "scalar"
#define VL 1
typedef float vf;

static inline vf vzero(void) { return 0.0f; }
static inline vf vset1(float a) { return a; }
static inline vf vload(const float *p) { return *p; }
static inline void vstore(float *p, vf v) { *p = v; }
static inline vf vload_n(const float *p, int n) { return n > 0 ? *p : 0.0f; }
static inline void vstore_n(float *p, vf v, int n) { if (n > 0) *p = v; }
static inline vf vadd(vf a, vf b) { return a + b; }
static inline vf vsub(vf a, vf b) { return a - b; }
static inline vf vmul(vf a, vf b) { return a * b; }
static inline vf vdiv(vf a, vf b) { return a / b; }
static inline vf vmax(vf a, vf b) { return a > b ? a : b; }
static inline vf vfma(vf a, vf b, vf c) { return fmaf(a, b, c); }
static inline float vsum(vf v) { return v; }
static inline vf vsum_many(const vf *v) { return v[0]; }
static inline float vhmax(vf v) { return v; }
static inline vf vload_i8(const int8_t *p) { return (float)*p; }
static inline vf vexpand_groups(const float *s, int g, int lanes) { (void)g; (void)lanes; return *s; }
static inline uint32_t vgt_bits(vf v, vf t) { return v > t; }
static inline uint32_t veq_bits(vf v, vf t) { return v == t; }
static inline vf vge_ones(vf a, vf b) { return a >= b ? 1.0f : 0.0f; }
static inline vf vgt_ones(vf a, vf b) { return a > b ? 1.0f : 0.0f; }
static inline vf vbeats_ones(vf a, vf pa, vf b, vf pb) { return a > b || (a == b && pa < pb) ? 1.0f : 0.0f; }
static inline uint32_t vnonzero_bits(vf v) { return v != 0.0f || v != v; }
static inline vf vkeep_nonzero(vf v, vf m) { return m != 0.0f || m != m ? v : 0.0f; }
static inline uint32_t vnan_bits(vf v) { return v != v; }
static inline vf vexp(vf x) { return expf(x); }
#endif

/* Keeps v in a register: stops the compiler from re-loading it as a memory operand of every FMA
   that uses it (GCC does, and a tile kernel then becomes load-bound). */
#if VL > 1
#define vkeep(v) __asm__("" : "+v"(v))
#else
#define vkeep(v) ((void)0)
#endif

/* Lanes of a vector that hold elements when x elements remain (0..VL), for vload_n / vstore_n. */
static inline int clamp_lanes(int x) { return x < 0 ? 0 : x > VL ? VL : x; }

/* Up to VL int8 → fp32 without reading past p[n-1]. */
static inline vf vload_i8_n(const int8_t *p, int n) {
  int8_t tmp[VL > 16 ? VL : 16] = {0};
  memcpy(tmp, p, (size_t)n);
  return vload_i8(tmp);
}

#endif
