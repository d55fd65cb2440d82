/*
 * The k largest entries of each row, most positive first, ties to the lower index (SAE TopK).
 * Long rows (n ≥ 4k, no NaN): the row is cut into k chunks whose maxima are k distinct entries, so
 * the k-th largest is at least τ = the smallest chunk maximum; the entries ≥ τ (typically a few k)
 * are collected in index order, the k-th largest θ among them found by quickselect, and the
 * answer is every candidate > θ plus the first candidates == θ, sorted by (value desc, index asc) —
 * exactly the reference's result, in O(n) instead of O(n + k² log(n/k)) branchy insertions.
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
