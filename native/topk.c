/*
 * The k largest entries of each row, most positive first, ties to the lower index (SAE TopK).
 * Long rows (n ≥ 4k, no NaN): the row is cut into chunks whose maxima are distinct entries, so the
 * k-th largest is at least τ = the k-th largest of (at least k) chunk maxima; only the entries ≥ τ
 * (typically one to four k) are ranked. With AVX-512 each candidate's rank (how many candidates beat
 * it: greater, or equal at a lower index) is counted 16 at a time with no data-dependent branches and
 * is its output position; elsewhere quickselect finds the k-th largest θ among them and the answer is
 * every candidate > θ plus the first ones == θ, sorted. Either way exactly the reference's result.
 * Other rows: the same insertion into a sorted list of k as the reference (so ties and NaN behave
 * identically), a vector compare against the current k-th value skipping most entries.
 */
#include "simd.h"
#include "tinymorph.h"

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


#if defined(__AVX512F__)
/*
 * AVX-512: no data-dependent branches. τ is the k-th largest of 2k chunk maxima (k when the row is
 * shorter than 8k), the candidates ≥ τ are compressed out in index order, and each candidate's
 * final position is its rank — how many candidates beat it (greater, or equal at a lower index) —
 * counted 16 at a time; ranks below k are the answer, already in order.
 */
static inline int rank_of(const float *v, int m, int i) {
  const __m512 vi = _mm512_set1_ps(v[i]);
  int r = 0;
  for (int j = 0; j < m; j += 16) {
    const int lanes = m - j < 16 ? m - j : 16;
    const __mmask16 live = (__mmask16)((1u << lanes) - 1u);
    const __m512 vj = _mm512_maskz_loadu_ps(live, v + j);
    const __mmask16 gt = _mm512_mask_cmp_ps_mask(live, vj, vi, _CMP_GT_OQ);
    /* equal values at lower candidate positions (j + lane < i) also come first */
    const int before = i - j <= 0 ? 0 : i - j >= 16 ? 16 : i - j;
    const __mmask16 eq = _mm512_mask_cmp_ps_mask((__mmask16)(live & ((1u << before) - 1u)), vj, vi, _CMP_EQ_OQ);
    r += __builtin_popcount((unsigned)gt) + __builtin_popcount((unsigned)eq);
  }
  return r;
}

static int topk_row_select(const float *x, int n, int k, int32_t *idx, float *val) {
  const int chunks = n >= 8 * k ? 2 * k : k;
  const int chunk = n / chunks;
  float *cv = tm_scratch(TM_SCRATCH_A, (size_t)(n + 16) * (2 * sizeof(float) + sizeof(int32_t)));
  float *maxima = cv + n + 16;
  int32_t *ci = (int32_t *)(maxima + n + 16);
  __mmask16 nan = 0;
  for (int c = 0; c < chunks; c++) {
    const int a = c * chunk, b = c == chunks - 1 ? n : a + chunk;
    __m512 mv = _mm512_set1_ps(-INFINITY);
    for (int i = a; i < b; i += 16) {
      const int lanes = b - i < 16 ? b - i : 16;
      const __mmask16 live = (__mmask16)((1u << lanes) - 1u);
      const __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), live, x + i);
      nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
      mv = _mm512_max_ps(mv, v);
    }
    maxima[c] = _mm512_reduce_max_ps(mv);
  }
  if (nan) return 0;
  float tau = -INFINITY;
  for (int c = 0; c < chunks; c++) if (rank_of(maxima, chunks, c) == k - 1) tau = maxima[c];
  int m = 0;
  const __m512 t = _mm512_set1_ps(tau);
  const __m512i step = _mm512_set1_epi32(16);
  __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (int i = 0; i < n; i += 16) {
    const int lanes = n - i < 16 ? n - i : 16;
    const __mmask16 live = (__mmask16)((1u << lanes) - 1u);
    const __m512 v = _mm512_maskz_loadu_ps(live, x + i);
    const __mmask16 keep = _mm512_mask_cmp_ps_mask(live, v, t, _CMP_GE_OQ);
    /* Compress in registers and store whole vectors (the buffers have a vector of slack): on Zen 4 a
       compress straight to memory costs over a hundred cycles. */
    _mm512_storeu_ps(cv + m, _mm512_maskz_compress_ps(keep, v));
    _mm512_storeu_si512(ci + m, _mm512_maskz_compress_epi32(keep, lane));
    m += __builtin_popcount((unsigned)keep);
    lane = _mm512_add_epi32(lane, step);
  }
  for (int i = 0; i < m; i++) {
    const int r = rank_of(cv, m, i);
    if (r < k) {
      val[r] = cv[i];
      idx[r] = ci[i];
    }
  }
  return 1;
}
#else
/* θ: the k-th largest of v[0..m) (1 ≤ k ≤ m), by quickselect on v (reordered). */
static float kth_largest(float *v, int m, int k) {
  int lo = 0, hi = m - 1;
  const int want = k - 1;
  while (lo < hi) {
    const float pivot = v[lo + (hi - lo) / 2];
    int i = lo, j = hi;
    while (i <= j) {
      while (v[i] > pivot) i++;
      while (v[j] < pivot) j--;
      if (i <= j) {
        const float t = v[i];
        v[i++] = v[j];
        v[j--] = t;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else return v[want];
  }
  return v[want];
}

/* The long-row path above; returns 0 (nothing written) when the row holds a NaN. */
static int topk_row_select(const float *x, int n, int k, int32_t *idx, float *val) {
  const int chunk = n / k;
  float tau = INFINITY;
  int nan = 0;
  for (int c = 0; c < k; c++) {
    const int a = c * chunk, b = c == k - 1 ? n : a + chunk;
    vf mv = vset1(-INFINITY);
    int i = a;
    for (; i + VL <= b; i += VL) {
      const vf v = vload(x + i);
      nan |= vnan_bits(v) != 0;
      mv = vmax(mv, v);
    }
    float m = vhmax(mv);
    for (; i < b; i++) {
      nan |= x[i] != x[i];
      m = x[i] > m ? x[i] : m;
    }
    tau = m < tau ? m : tau;
  }
  if (nan) return 0;
  float *cv = tm_scratch(TM_SCRATCH_A, (size_t)n * (2 * sizeof(float) + sizeof(int32_t)));
  float *tmp = cv + n;
  int32_t *ci = (int32_t *)(tmp + n);
  int m = 0;
  const vf t = vset1(tau);
  int i = 0;
  for (; i + VL <= n; i += VL) {
    uint32_t bits = ~vgt_bits(t, vload(x + i)) & (VL == 32 ? 0xFFFFFFFFu : (1u << VL) - 1u); /* x ≥ τ */
    while (bits) {
      const int j = i + __builtin_ctz(bits);
      cv[m] = x[j];
      ci[m++] = j;
      bits &= bits - 1;
    }
  }
  for (; i < n; i++)
    if (x[i] >= tau) {
      cv[m] = x[i];
      ci[m++] = i;
    }
  for (int q = 0; q < m; q++) tmp[q] = cv[q];
  const float theta = kth_largest(tmp, m, k);
  int filled = 0;
  for (int q = 0; q < m; q++)
    if (cv[q] > theta) {
      val[filled] = cv[q];
      idx[filled++] = ci[q];
    }
  for (int q = 0; q < m && filled < k; q++)
    if (cv[q] == theta) {
      val[filled] = cv[q];
      idx[filled++] = ci[q];
    }
  /* Sort by value desc, then index asc (candidates were taken in index order; keep that on ties). */
  for (int a = 1; a < k; a++) {
    const float v = val[a];
    const int32_t j = idx[a];
    int b = a;
    while (b > 0 && (v > val[b - 1] || (v == val[b - 1] && j < idx[b - 1]))) {
      val[b] = val[b - 1];
      idx[b] = idx[b - 1];
      b--;
    }
    val[b] = v;
    idx[b] = j;
  }
  return 1;
}

#endif

static void topk_rows(void *p, long lo, long hi) {
  const topk_ctx *c = p;
  const int n = c->n, k = c->k;
  for (long r = lo; r < hi; r++) {
    const float *x = c->x + (size_t)r * n;
    int32_t *idx = c->idx + (size_t)r * k;
    float *val = c->val + (size_t)r * k;
    if (n >= 4 * k && topk_row_select(x, n, k, idx, val)) continue;
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
}

void tm_topk_rows(int32_t *out_idx, float *out_val, const float *x, int rows, int n, int k) {
  if (k <= 0) return;
  topk_ctx c = {.idx = out_idx, .val = out_val, .x = x, .n = n, .k = k};
  tm_parallel(tm_team(2.0 * rows * n), rows, topk_rows, &c);
}
