/*
 * Q8_0 decode (few input rows, groups of 32) with int16 activations. Converting every int8 weight
 * to fp32 and scaling it costs more than streaming it, so decode was compute-bound at ≈ 25 GFLOP/s
 * per core. Here each group of 32 activations is quantized once per call to int16 with its own
 * scale (relative error ≤ 2^-16 of the group's largest value; runq.c's int8 activations err ~1e-3,
 * outside the backend's 1e-4 contract), and a group's 32 int8·int16 products are summed exactly
 * in integers by vpmaddwd before one fp32 FMA with the two scales:
 *   Σ_g sw[g]·sx[g]·Σ_i q[g,i]·xq[g,i].
 * |q·xq| ≤ 127·32767, so the pairwise int32 sums (< 2^24) convert to fp32 exactly.
 */
#include "simd.h"
#include "tinymorph.h"

#if defined(__AVX512F__) && defined(__AVX512BW__)
#define Q80_I16 1
#elif defined(__AVX2__) && defined(__FMA__)
#define Q80_I16 1
#else
#define Q80_I16 0
#endif

int tm_q80_i16_applies(int group_size) { return Q80_I16 && group_size == 32; }

#if Q80_I16

/* xq [n] int16 and sx [n/32] scales, per group of 32: x ≈ xq · sx. */
void tm_q80_quantize_x(const float *x, int n, int16_t *xq, float *sx) {
  for (int g = 0; g < n / 32; g++) {
    const float *xg = x + g * 32;
    float max = 0.0f;
    int finite = 1;
    for (int i = 0; i < 32; i++) {
      const float a = fabsf(xg[i]);
      finite &= a <= 3.4028235e38f; /* false for NaN and ±∞ */
      max = fmaxf(max, a);
    }
    /* A NaN or ∞ activation makes the group's scale NaN, so the outputs turn NaN as in fp32. */
    sx[g] = finite ? max / 32767.0f : NAN;
    const float inv = finite && max > 0.0f ? 32767.0f / max : 0.0f;
#if defined(__AVX512F__)
    const __m512 iv = _mm512_set1_ps(inv);
    _mm256_storeu_si256((__m256i *)(xq + g * 32), _mm512_cvtsepi32_epi16(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(xg), iv))));
    _mm256_storeu_si256((__m256i *)(xq + g * 32 + 16), _mm512_cvtsepi32_epi16(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(xg + 16), iv))));
#else
    for (int i = 0; i < 32; i++) xq[g * 32 + i] = (int16_t)lrintf(xg[i] * inv);
#endif
  }
}

#if !defined(__AVX512F__)
/* One group's 32 int8·int16 products as eight exact int32 partial sums (|each| ≤ 4·127·32767 < 2^24). */
static inline __m256i q80_group_i32(const int8_t *q, const int16_t *x) {
  const __m256i lo = _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)q)), _mm256_loadu_si256((const __m256i *)x));
  const __m256i hi = _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(q + 16))), _mm256_loadu_si256((const __m256i *)(x + 16)));
  return _mm256_add_epi32(lo, hi);
}

/* Lane j = Σ of v[j]'s eight lanes (unpack/add transposes: 21 operations for eight sums). */
static inline __m256i hsum8_epi32(const __m256i *v) {
  __m256i t[4], u[2];
  for (int i = 0; i < 4; i++) t[i] = _mm256_add_epi32(_mm256_unpacklo_epi32(v[2 * i], v[2 * i + 1]), _mm256_unpackhi_epi32(v[2 * i], v[2 * i + 1]));
  for (int i = 0; i < 2; i++) u[i] = _mm256_add_epi32(_mm256_unpacklo_epi64(t[2 * i], t[2 * i + 1]), _mm256_unpackhi_epi64(t[2 * i], t[2 * i + 1]));
  /* u[i]'s 128-bit halves hold the low-half and high-half sums of v[4i..4i+4): add the halves across. */
  return _mm256_add_epi32(_mm256_permute2x128_si256(u[0], u[1], 0x20), _mm256_permute2x128_si256(u[0], u[1], 0x31));
}
#endif

/* One weight row (groups × 32 int8, scales sw) against quantized activations. */
float tm_q80_dot_i16(const int16_t *xq, const float *sx, const int8_t *q, const float *sw, int groups) {
#if defined(__AVX512F__)
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  int g = 0;
  for (; g + 2 <= groups; g += 2) {
    const __m512i p0 = _mm512_madd_epi16(_mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(q + g * 32))), _mm512_loadu_si512(xq + g * 32));
    const __m512i p1 = _mm512_madd_epi16(_mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(q + g * 32 + 32))), _mm512_loadu_si512(xq + g * 32 + 32));
    a0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p0), _mm512_set1_ps(sw[g] * sx[g]), a0);
    a1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p1), _mm512_set1_ps(sw[g + 1] * sx[g + 1]), a1);
  }
  if (g < groups) {
    const __m512i p0 = _mm512_madd_epi16(_mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(q + g * 32))), _mm512_loadu_si512(xq + g * 32));
    a0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p0), _mm512_set1_ps(sw[g] * sx[g]), a0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
#else
  /* Eight groups at a time: their exact int32 sums land in one vector's lanes by a transposing add
     tree, so the scales are one contiguous multiply and one FMA per eight groups (a broadcast, a
     conversion and an FMA per group, as the AVX-512 path does, was compute-bound here at ≈ 5 MACs
     per cycle on Zen 3). */
  vf acc = vzero();
  int g = 0;
  for (; g + 8 <= groups; g += 8) {
    __m256i p[8];
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) p[j] = q80_group_i32(q + (g + j) * 32, xq + (g + j) * 32);
    const vf sums = _mm256_cvtepi32_ps(hsum8_epi32(p));
    acc = vfma(sums, _mm256_mul_ps(_mm256_loadu_ps(sw + g), _mm256_loadu_ps(sx + g)), acc);
  }
  float tail = 0.0f;
  for (; g < groups; g++) {
    const __m256i v = q80_group_i32(q + g * 32, xq + g * 32);
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xB1));
    tail = fmaf((float)_mm_cvtsi128_si32(h), sw[g] * sx[g], tail);
  }
  return vsum(acc) + tail;
#endif
}

#else

void tm_q80_quantize_x(const float *x, int n, int16_t *xq, float *sx) { (void)x, (void)n, (void)xq, (void)sx; }
float tm_q80_dot_i16(const int16_t *xq, const float *sx, const int8_t *q, const float *sw, int groups) {
  (void)xq, (void)sx, (void)q, (void)sw, (void)groups;
  return 0.0f;
}

#endif
