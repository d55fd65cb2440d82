/*
 * The k largest entries of each row, most positive first, ties to the lower index (SAE TopK).
 * Long rows (n ≥ 4k, no NaN): the row is cut into chunks whose maxima are distinct entries, so the
 * k-th largest is at least τ = the k-th largest of (at least k) chunk maxima; only the entries ≥ τ
 * (typically one to four k) are ranked. With AVX-512 each candidate's rank (how many candidates beat
 * it: greater, or equal at a lower index) is counted 16 at a time with no data-dependent branches and
 * is its output position (VL at a time elsewhere, τ found by quickselect). Either way exactly the
 * reference's result.
 * Other rows: the same insertion into a sorted list of k as the reference (so ties and NaN behave
 * identically), a vector compare against the current k-th value skipping most entries.
 */
#include "simd.h"
#include "tinymorph.h"

/* Ranks are counted in int32 lanes with AVX-512 and in float lanes without. */
#if defined(__AVX512F__)
#define RANK_T int32_t
#else
#define RANK_T float
#endif

typedef struct {
  int32_t *idx;
  float *val;
  const float *x;
  int n, k;
} topk_ctx;

static inline void insert(int32_t *idx, float *val, int *filled, int k, float v, int i) {
  int at = *filled < k ? (*filled)++ : k - 1;
  while (at > 0 && v > val[at - 1]) {
    val[at] = val[at - 1];
    idx[at] = idx[at - 1];
    at--;
  }
  val[at] = v;
  idx[at] = i;
}


/* val/idx[rank[q]] = cv/ci[q] for the candidates ranked below k, the rest stored into a spare slot
   past them (a branch on rank < k mispredicted on most rows: a quarter of the candidates miss).
   spare: room for 2(k + 1) floats, free once the ranks are known (the chunk maxima's buffer). */
static void place_ranked(const float *cv, const int32_t *ci, const RANK_T *rank, int m, int k, float *spare, int32_t *idx, float *val) {
  float *pv = spare;
  int32_t *pi = (int32_t *)(spare + k + 1);
  for (int q = 0; q < m; q++) {
    const int r = (int)rank[q] < k ? (int)rank[q] : k;
    pv[r] = cv[q];
    pi[r] = ci[q];
  }
  memcpy(val, pv, (size_t)k * sizeof(float));
  memcpy(idx, pi, (size_t)k * sizeof(int32_t));
}

#if defined(__AVX512F__)
/*
 * AVX-512: no data-dependent branches. The "chunks" are lane-strided groups of whole vectors, as in
 * the path below (their lane-wise maxima need no horizontal reductions: 64 _mm512_reduce_max_ps per
 * 1024-wide row cost more than the rest of the selection). τ is the maximum of rank k − 1, the
 * candidates ≥ τ are compressed out in index order, and each candidate's final position is its
 * rank — how many candidates beat it (greater, or equal at a lower index) — counted for 16
 * candidates at once; ranks below k are the answer, already in order.
 */

/*
 * rank[i] for v[0..m) (v padded with −∞ to whole vectors): a permutation of 0..m−1. Entry j beats
 * the 16 entries of block i0 where v[j] > v[i], or v[j] = v[i] and j < i: so one compare per j
 * (≥ for j before the block, > after it) and a mask of the lanes past j inside it.
 */
static void ranks16(const float *v, int m, int32_t *rank) {
  const __m512i one = _mm512_set1_epi32(1);
  for (int i0 = 0; i0 < m; i0 += 16) {
    const __m512 vi = _mm512_loadu_ps(v + i0);
    __m512i r0 = _mm512_setzero_si512(), r1 = _mm512_setzero_si512();
    const int d0 = i0 < m ? i0 : m, d1 = i0 + 16 < m ? i0 + 16 : m;
    int j = 0;
    for (; j + 1 < d0; j += 2) {
      r0 = _mm512_mask_add_epi32(r0, _mm512_cmp_ps_mask(_mm512_set1_ps(v[j]), vi, _CMP_GE_OQ), r0, one);
      r1 = _mm512_mask_add_epi32(r1, _mm512_cmp_ps_mask(_mm512_set1_ps(v[j + 1]), vi, _CMP_GE_OQ), r1, one);
    }
    for (; j < d0; j++) r0 = _mm512_mask_add_epi32(r0, _mm512_cmp_ps_mask(_mm512_set1_ps(v[j]), vi, _CMP_GE_OQ), r0, one);
    for (; j < d1; j++) {
      const __m512 vj = _mm512_set1_ps(v[j]);
      const __mmask16 after = (__mmask16)(0xFFFFu << (j - i0 + 1)); /* lanes i > j */
      const __mmask16 beats = _mm512_cmp_ps_mask(vj, vi, _CMP_GT_OQ) | _mm512_mask_cmp_ps_mask(after, vj, vi, _CMP_EQ_OQ);
      r0 = _mm512_mask_add_epi32(r0, beats, r0, one);
    }
    for (; j + 1 < m; j += 2) {
      r0 = _mm512_mask_add_epi32(r0, _mm512_cmp_ps_mask(_mm512_set1_ps(v[j]), vi, _CMP_GT_OQ), r0, one);
      r1 = _mm512_mask_add_epi32(r1, _mm512_cmp_ps_mask(_mm512_set1_ps(v[j + 1]), vi, _CMP_GT_OQ), r1, one);
    }
    for (; j < m; j++) r0 = _mm512_mask_add_epi32(r0, _mm512_cmp_ps_mask(_mm512_set1_ps(v[j]), vi, _CMP_GT_OQ), r0, one);
    _mm512_storeu_si512(rank + i0, _mm512_add_epi32(r0, r1));
  }
}

/*
 * The k-th largest of v[0..16·nvec) for nvec = 1, 2, 4 or 8 (1 ≤ k ≤ 16·nvec, no NaN): the vectors
 * bitonic-sorted in registers, descending (Batcher 1968; the in-register layout of Chhugani et al.
 * 2008). τ from ranks16 over 64 chunk maxima — 256 compares, each on the one port that writes mask
 * registers — was a third of the selection; the network is 4·10 permutes and 150 min/max.
 */
/* The lanes i (of 16) with i & b ≠ 0, for b a power of two (0 for b ≥ 16). */
static inline unsigned lanes_with_bit(int b) { return b == 1 ? 0xAAAAu : b == 2 ? 0xCCCCu : b == 4 ? 0xF0F0u : b == 8 ? 0xFF00u : 0u; }

static inline __attribute__((always_inline)) __m512 bitonic_step(__m512 v, int j, int s) {
  /* Lanes i and i ^ j compare; in blocks of s lanes the lower index keeps the larger (descending). */
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512 p = _mm512_permutexvar_ps(_mm512_xor_si512(lane, _mm512_set1_epi32(j)), v);
  const __mmask16 take_min = (__mmask16)(lanes_with_bit(j) ^ lanes_with_bit(s)); /* (i & j) ≠ 0 exactly when (i & s) = 0 fails to differ */
  return _mm512_mask_blend_ps(take_min, _mm512_max_ps(v, p), _mm512_min_ps(v, p));
}

/* A bitonic run of nvec vectors, sorted descending in place (half-cleaners, strides nvec·8 … 1). */
static inline __attribute__((always_inline)) void bitonic_clean(__m512 *v, int nvec) {
#pragma GCC unroll 8
  for (int st = nvec / 2; st >= 1; st /= 2)
#pragma GCC unroll 8
    for (int a0 = 0; a0 < nvec; a0 += 2 * st)
#pragma GCC unroll 4
      for (int a = a0; a < a0 + st; a++) {
        const __m512 hi = _mm512_max_ps(v[a], v[a + st]), lo = _mm512_min_ps(v[a], v[a + st]);
        v[a] = hi;
        v[a + st] = lo;
      }
#pragma GCC unroll 4
  for (int j = 8; j >= 1; j /= 2)
#pragma GCC unroll 8
    for (int a = 0; a < nvec; a++) v[a] = bitonic_step(v[a], j, 32); /* s = 32: every lane pair descending */
}

/* Inlined per vector count (a constant there), so the loops unroll and the vectors stay in
   registers, and the vectors' steps interleave (each step waits on a permute's latency). */
static inline __attribute__((always_inline)) float kth_largest_sorted(const float *x, int nvec, int k) {
  __m512 v[8];
  const __m512i reverse = _mm512_setr_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
#pragma GCC unroll 8
  for (int a = 0; a < nvec; a++) v[a] = _mm512_loadu_ps(x + 16 * a);
#pragma GCC unroll 4
  for (int s = 2; s <= 16; s *= 2)
#pragma GCC unroll 4
    for (int j = s / 2; j >= 1; j /= 2)
#pragma GCC unroll 8
      for (int a = 0; a < nvec; a++) v[a] = bitonic_step(v[a], j, s);
  /* Merge sorted runs of r vectors pairwise: the second run reversed, the elementwise max of the two
     is a bitonic run holding the top half and the min one holding the bottom half. */
#pragma GCC unroll 4
  for (int r = 1; r < nvec; r *= 2)
#pragma GCC unroll 4
    for (int a = 0; a < nvec; a += 2 * r) {
#pragma GCC unroll 4
      for (int q = 0; q < r; q++) {
        const __m512 b = _mm512_permutexvar_ps(reverse, v[a + 2 * r - 1 - q]);
        const __m512 hi = _mm512_max_ps(v[a + q], b), lo = _mm512_min_ps(v[a + q], b);
        v[a + q] = hi;
        v[a + 2 * r - 1 - q] = lo;
      }
      /* The lower half landed reversed across vectors: put it back in order before cleaning. */
#pragma GCC unroll 2
      for (int q = 0; q < r / 2; q++) {
        const __m512 t = v[a + r + q];
        v[a + r + q] = v[a + 2 * r - 1 - q];
        v[a + 2 * r - 1 - q] = t;
      }
      bitonic_clean(v + a, r);
      bitonic_clean(v + a + r, r);
    }
  float out[128];
#pragma GCC unroll 8
  for (int a = 0; a < nvec; a++) _mm512_storeu_ps(out + 16 * a, v[a]);
  return out[k - 1];
}

static int topk_row_select(const float *x, int n, int k, int32_t *idx, float *val) {
  const int nv = n / 16, wanted = n >= 8 * k ? 2 * k : k;
  const int groups = (wanted + 15) / 16 <= nv ? (wanted + 15) / 16 : nv;
  if (groups == 0) return 0; /* shorter than a vector: the insertion path */
  const int per = nv / groups;
  float *cv = tm_scratch(TM_SCRATCH_A, (size_t)(n + 32) * (2 * sizeof(float) + 2 * sizeof(int32_t)));
  float *maxima = cv + n + 32;
  int32_t *ci = (int32_t *)(maxima + n + 32), *rank = ci + n + 32;
  __mmask16 nan = 0;
  for (int g = 0; g < groups; g++) {
    const int v0 = g * per, v1 = g == groups - 1 ? nv : v0 + per;
    __m512 mv = _mm512_set1_ps(-INFINITY);
    for (int v = v0; v < v1; v++) {
      const __m512 e = _mm512_loadu_ps(x + (size_t)v * 16);
      nan |= _mm512_cmp_ps_mask(e, e, _CMP_UNORD_Q);
      mv = _mm512_max_ps(mv, e);
    }
    _mm512_storeu_ps(maxima + g * 16, mv);
  }
  int nm = groups * 16;
  const int tail = n - nv * 16;
  if (tail) {
    const __mmask16 live = (__mmask16)((1u << tail) - 1u);
    const __m512 e = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), live, x + nv * 16);
    nan |= _mm512_cmp_ps_mask(e, e, _CMP_UNORD_Q);
    _mm512_storeu_ps(maxima + nm, e);
    nm += tail;
  }
  if (nan) return 0;
  float tau = -INFINITY;
  if (!tail && (groups == 1 || groups == 2 || groups == 4 || groups == 8)) {
    tau = groups == 1 ? kth_largest_sorted(maxima, 1, k) : groups == 2 ? kth_largest_sorted(maxima, 2, k) : groups == 4 ? kth_largest_sorted(maxima, 4, k) : kth_largest_sorted(maxima, 8, k);
  } else {
    _mm512_storeu_ps(maxima + nm, _mm512_set1_ps(-INFINITY));
    ranks16(maxima, nm, rank);
    for (int q = 0; q < nm; q++) tau = rank[q] == k - 1 ? maxima[q] : tau;
  }
  int m = 0;
  const __m512 t = _mm512_set1_ps(tau);
  const __m512i step = _mm512_set1_epi32(16);
  __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (int i = 0; i < n; i += 16) {
    const int lanes = n - i < 16 ? n - i : 16;
    const __mmask16 live = (__mmask16)((1u << lanes) - 1u);
    const __m512 v = _mm512_maskz_loadu_ps(live, x + i);
    const __mmask16 keep = _mm512_mask_cmp_ps_mask(live, v, t, _CMP_GE_OQ);
    /* Compress the positions in registers and store whole vectors (the buffers have a vector of
       slack): on Zen 4 a compress straight to memory costs over a hundred cycles. The values are
       gathered after: compressing them too doubled this loop's shuffles, its bottleneck. */
    _mm512_storeu_si512(ci + m, _mm512_maskz_compress_epi32(keep, lane));
    m += __builtin_popcount((unsigned)keep);
    lane = _mm512_add_epi32(lane, step);
  }
  for (int q = 0; q < m; q += 16) {
    const __mmask16 live = (__mmask16)(m - q >= 16 ? 0xFFFFu : (1u << (m - q)) - 1u);
    _mm512_storeu_ps(cv + q, _mm512_mask_i32gather_ps(_mm512_set1_ps(-INFINITY), live, _mm512_loadu_si512(ci + q), x, 4));
  }
  _mm512_storeu_ps(cv + m, _mm512_set1_ps(-INFINITY));
  ranks16(cv, m, rank);
  place_ranked(cv, ci, rank, m, k, maxima, idx, val);
  return 1;
}
#else
/* Lane l = l as a float (positions of VL consecutive entries, offset by vset1 of the first). */
static inline vf lane_positions(void) {
  float p[VL];
  for (int l = 0; l < VL; l++) p[l] = (float)l;
  return vload(p);
}

/*
 * rank[i] = how many of v[0..m) beat v[i] (greater, or equal at a lower position): a permutation of
 * 0..m−1. VL entries are ranked at once against each entry of v broadcast, with no data-dependent
 * branches: entries before the block beat where ≥, entries after it where >, and only the block's
 * own entries need the position test (two running sums, so the adds' latency overlaps). v has room
 * for m rounded up to an even number of whole vectors; its padding is −∞ at positions ≥ m, which
 * beats no real entry.
 */
static void ranks(const float *v, int m, float *rank) {
  const vf lanes = lane_positions();
  for (int i0 = 0; i0 < m; i0 += VL) {
    const vf vi = vload(v + i0), pi = vadd(lanes, vset1((float)i0));
    vf r0 = vzero(), r1 = vzero();
    int j = 0;
    for (; j + 1 < i0; j += 2) {
      r0 = vadd(r0, vge_ones(vset1(v[j]), vi));
      r1 = vadd(r1, vge_ones(vset1(v[j + 1]), vi));
    }
    for (; j < i0; j++) r0 = vadd(r0, vge_ones(vset1(v[j]), vi));
    for (; j < i0 + VL; j++) r0 = vadd(r0, vbeats_ones(vset1(v[j]), vset1((float)j), vi, pi));
    for (; j + 1 < m; j += 2) {
      r0 = vadd(r0, vgt_ones(vset1(v[j]), vi));
      r1 = vadd(r1, vgt_ones(vset1(v[j + 1]), vi));
    }
    for (; j < m; j++) r0 = vadd(r0, vgt_ones(vset1(v[j]), vi));
    vstore(rank + i0, vadd(r0, r1));
  }
}

/* The k-th largest of v[0..m) (1 ≤ k ≤ m, no NaN): the largest v[i] that at least k entries are ≥;
   count[] is scratch, v padded as for ranks. */
static float kth_largest(const float *v, int m, int k, float *count) {
  for (int i0 = 0; i0 < m; i0 += VL) {
    const vf vi = vload(v + i0);
    vf c0 = vzero(), c1 = vzero();
    for (int j = 0; j < m; j += 2) {
      c0 = vadd(c0, vge_ones(vset1(v[j]), vi));
      c1 = vadd(c1, vge_ones(vset1(v[j + 1]), vi));
    }
    vstore(count + i0, vadd(c0, c1));
  }
  float t = -INFINITY;
  for (int i = 0; i < m; i++) t = count[i] >= (float)k && v[i] > t ? v[i] : t;
  return t;
}

#if VL == 8
/* left_pack[mask]: the set lanes of an 8-lane mask in order, one per nibble (lane of the first in the
   low nibble), for _mm256_permutevar8x32. */
static const uint32_t left_pack[256] = {
    0x00000000, 0x00000000, 0x00000001, 0x00000010, 0x00000002, 0x00000020, 0x00000021, 0x00000210,
    0x00000003, 0x00000030, 0x00000031, 0x00000310, 0x00000032, 0x00000320, 0x00000321, 0x00003210,
    0x00000004, 0x00000040, 0x00000041, 0x00000410, 0x00000042, 0x00000420, 0x00000421, 0x00004210,
    0x00000043, 0x00000430, 0x00000431, 0x00004310, 0x00000432, 0x00004320, 0x00004321, 0x00043210,
    0x00000005, 0x00000050, 0x00000051, 0x00000510, 0x00000052, 0x00000520, 0x00000521, 0x00005210,
    0x00000053, 0x00000530, 0x00000531, 0x00005310, 0x00000532, 0x00005320, 0x00005321, 0x00053210,
    0x00000054, 0x00000540, 0x00000541, 0x00005410, 0x00000542, 0x00005420, 0x00005421, 0x00054210,
    0x00000543, 0x00005430, 0x00005431, 0x00054310, 0x00005432, 0x00054320, 0x00054321, 0x00543210,
    0x00000006, 0x00000060, 0x00000061, 0x00000610, 0x00000062, 0x00000620, 0x00000621, 0x00006210,
    0x00000063, 0x00000630, 0x00000631, 0x00006310, 0x00000632, 0x00006320, 0x00006321, 0x00063210,
    0x00000064, 0x00000640, 0x00000641, 0x00006410, 0x00000642, 0x00006420, 0x00006421, 0x00064210,
    0x00000643, 0x00006430, 0x00006431, 0x00064310, 0x00006432, 0x00064320, 0x00064321, 0x00643210,
    0x00000065, 0x00000650, 0x00000651, 0x00006510, 0x00000652, 0x00006520, 0x00006521, 0x00065210,
    0x00000653, 0x00006530, 0x00006531, 0x00065310, 0x00006532, 0x00065320, 0x00065321, 0x00653210,
    0x00000654, 0x00006540, 0x00006541, 0x00065410, 0x00006542, 0x00065420, 0x00065421, 0x00654210,
    0x00006543, 0x00065430, 0x00065431, 0x00654310, 0x00065432, 0x00654320, 0x00654321, 0x06543210,
    0x00000007, 0x00000070, 0x00000071, 0x00000710, 0x00000072, 0x00000720, 0x00000721, 0x00007210,
    0x00000073, 0x00000730, 0x00000731, 0x00007310, 0x00000732, 0x00007320, 0x00007321, 0x00073210,
    0x00000074, 0x00000740, 0x00000741, 0x00007410, 0x00000742, 0x00007420, 0x00007421, 0x00074210,
    0x00000743, 0x00007430, 0x00007431, 0x00074310, 0x00007432, 0x00074320, 0x00074321, 0x00743210,
    0x00000075, 0x00000750, 0x00000751, 0x00007510, 0x00000752, 0x00007520, 0x00007521, 0x00075210,
    0x00000753, 0x00007530, 0x00007531, 0x00075310, 0x00007532, 0x00075320, 0x00075321, 0x00753210,
    0x00000754, 0x00007540, 0x00007541, 0x00075410, 0x00007542, 0x00075420, 0x00075421, 0x00754210,
    0x00007543, 0x00075430, 0x00075431, 0x00754310, 0x00075432, 0x00754320, 0x00754321, 0x07543210,
    0x00000076, 0x00000760, 0x00000761, 0x00007610, 0x00000762, 0x00007620, 0x00007621, 0x00076210,
    0x00000763, 0x00007630, 0x00007631, 0x00076310, 0x00007632, 0x00076320, 0x00076321, 0x00763210,
    0x00000764, 0x00007640, 0x00007641, 0x00076410, 0x00007642, 0x00076420, 0x00076421, 0x00764210,
    0x00007643, 0x00076430, 0x00076431, 0x00764310, 0x00076432, 0x00764320, 0x00764321, 0x07643210,
    0x00000765, 0x00007650, 0x00007651, 0x00076510, 0x00007652, 0x00076520, 0x00076521, 0x00765210,
    0x00007653, 0x00076530, 0x00076531, 0x00765310, 0x00076532, 0x00765320, 0x00765321, 0x07653210,
    0x00007654, 0x00076540, 0x00076541, 0x00765410, 0x00076542, 0x00765420, 0x00765421, 0x07654210,
    0x00076543, 0x00765430, 0x00765431, 0x07654310, 0x00765432, 0x07654320, 0x07654321, 0x76543210,
};
#endif

/*
 * The long-row path without AVX-512. The "chunks" are lane-strided rather than contiguous: G groups
 * of whole vectors, where lane ℓ of group g's lane-wise maximum is the largest of the entries at
 * lane ℓ of g's vectors (any disjoint sets serve, and these need no horizontal reductions). The
 * entries past the last whole vector are chunks of one. τ is the k-th largest maximum; the
 * candidates ≥ τ are taken out in index order and each is placed at its rank. (Contiguous chunks
 * reduced one by one, quickselect for τ and an insertion sort over the candidates took 4.4 µs per
 * 1024-wide row at k = 32 on Zen 3; this takes ≈ 1.) Returns 0
 * (nothing written) when the row holds a NaN.
 */
static int topk_row_select(const float *x, int n, int k, int32_t *idx, float *val) {
  const int nv = n / VL, wanted = n >= 8 * k ? 2 * k : k;
  const int groups = (wanted + VL - 1) / VL <= nv ? (wanted + VL - 1) / VL : nv;
  if (groups == 0) return 0; /* shorter than a vector: the insertion path */
  const int per = nv / groups;
  float *cv = tm_scratch(TM_SCRATCH_A, (size_t)(n + 3 * VL) * (3 * sizeof(float) + sizeof(int32_t)));
  float *maxima = cv + n + 3 * VL, *rank = maxima + n + 3 * VL;
  int32_t *ci = (int32_t *)(rank + n + 3 * VL);
  uint32_t nan = 0;
  for (int g = 0; g < groups; g++) {
    const int v0 = g * per, v1 = g == groups - 1 ? nv : v0 + per;
    vf mv = vset1(-INFINITY);
    for (int v = v0; v < v1; v++) {
      const vf e = vload(x + (size_t)v * VL);
      nan |= vnan_bits(e);
      mv = vmax(mv, e);
    }
    vstore(maxima + g * VL, mv);
  }
  int nm = groups * VL;
  for (int i = nv * VL; i < n; i++) {
    nan |= x[i] != x[i];
    maxima[nm++] = x[i];
  }
  if (nan) return 0;
  for (int q = nm; q < nm + 2 * VL; q++) maxima[q] = -INFINITY;
  const float tau = kth_largest(maxima, nm, k, rank);
  int m = 0;
  const vf t = vset1(tau);
  int i = 0;
#if VL == 8
  /* Left-pack each vector's candidates (lanes x ≥ τ) with one permutation from a table, storing
     whole vectors (the buffers have slack): a bit loop mispredicts on most candidates. */
  const __m256i shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28), seven = _mm256_set1_epi32(7);
  __m256i pos = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (; i + VL <= n; i += VL, pos = _mm256_add_epi32(pos, _mm256_set1_epi32(VL))) {
    const vf v = vload(x + i);
    const uint32_t bits = ~vgt_bits(t, v) & 0xFFu; /* x ≥ τ */
    const __m256i perm = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)left_pack[bits]), shifts), seven);
    _mm256_storeu_ps(cv + m, _mm256_permutevar8x32_ps(v, perm));
    _mm256_storeu_si256((__m256i *)(ci + m), _mm256_permutevar8x32_epi32(pos, perm));
    m += __builtin_popcount(bits);
  }
#else
  for (; i + VL <= n; i += VL) {
    uint32_t bits = ~vgt_bits(t, vload(x + i)) & (VL == 32 ? 0xFFFFFFFFu : (1u << VL) - 1u); /* x ≥ τ */
    while (bits) {
      const int j = i + __builtin_ctz(bits);
      cv[m] = x[j];
      ci[m++] = j;
      bits &= bits - 1;
    }
  }
#endif
  for (; i < n; i++)
    if (x[i] >= tau) {
      cv[m] = x[i];
      ci[m++] = i;
    }
  for (int q = m; q < m + 2 * VL; q++) cv[q] = -INFINITY;
  ranks(cv, m, rank);
  place_ranked(cv, ci, rank, m, k, maxima, idx, val);
  return 1;
}

#endif

/* k = 1 (greedy decoding's argmax over a vocabulary): the maximum in four independent max chains (one
   chain waits on max's latency every vector), then the first entry equal to it, which is the first
   maximum as the other paths rank ties. A NaN anywhere returns 0 and the insertion path decides. */
static int argmax_row(const float *x, int n, int32_t *idx, float *val) {
  vf m0 = vset1(-INFINITY), m1 = m0, m2 = m0, m3 = m0;
  uint32_t nan = 0;
  int i = 0;
  for (; i + 4 * VL <= n; i += 4 * VL) {
    const vf a = vload(x + i), b = vload(x + i + VL), c = vload(x + i + 2 * VL), d = vload(x + i + 3 * VL);
    nan |= vnan_bits(a) | vnan_bits(b) | vnan_bits(c) | vnan_bits(d);
    m0 = vmax(m0, a);
    m1 = vmax(m1, b);
    m2 = vmax(m2, c);
    m3 = vmax(m3, d);
  }
  float best = vhmax(vmax(vmax(m0, m1), vmax(m2, m3)));
  for (; i < n; i++) {
    if (x[i] != x[i]) return 0;
    best = x[i] > best ? x[i] : best;
  }
  if (nan) return 0;
  const vf b = vset1(best);
  for (i = 0; i + VL <= n; i += VL) {
    const uint32_t eq = veq_bits(vload(x + i), b);
    if (eq) {
      *idx = i + __builtin_ctz(eq);
      *val = best;
      return 1;
    }
  }
  for (; x[i] != best; i++) {
  }
  *idx = i;
  *val = best;
  return 1;
}

void tm_topk_row(const float *x, int n, int k, int32_t *idx, float *val) {
  if (k == 1 && argmax_row(x, n, idx, val)) return;
  if (n >= 4 * k && topk_row_select(x, n, k, idx, val)) return;
  int filled = 0, i = 0;
  for (; i < n && filled < k; i++) insert(idx, val, &filled, k, x[i], i);
  while (i < n) {
    const int lanes = n - i < VL ? n - i : VL;
    const uint32_t live = lanes == 32 ? 0xFFFFFFFFu : (1u << lanes) - 1u;
    if (vgt_bits(vload_n(x + i, lanes), vset1(val[k - 1])) & live) {
      for (int j = i; j < i + lanes; j++)
        if (x[j] > val[k - 1]) insert(idx, val, &filled, k, x[j], j);
    }
    i += lanes;
  }
}

static void topk_rows(void *p, long lo, long hi) {
  const topk_ctx *c = p;
  for (long r = lo; r < hi; r++) tm_topk_row(c->x + (size_t)r * c->n, c->n, c->k, c->idx + (size_t)r * c->k, c->val + (size_t)r * c->k);
}

void tm_topk_rows(int32_t *out_idx, float *out_val, const float *x, int rows, int n, int k) {
  if (k <= 0) return;
  topk_ctx c = {.idx = out_idx, .val = out_val, .x = x, .n = n, .k = k};
  tm_parallel(tm_team(2.0 * rows * n), rows, topk_rows, &c);
}
