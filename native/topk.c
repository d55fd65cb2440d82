/*
 * The k largest entries of each row, most positive first, ties to the lower index (SAE TopK).
 * The same insertion into a sorted list of k as the reference, so ties and NaN behave identically;
 * after the first k entries a vector compare against the current k-th value skips the entries
 * that cannot enter, which is almost all of them.
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

static void topk_rows(void *p, long lo, long hi) {
  const topk_ctx *c = p;
  const int n = c->n, k = c->k;
  for (long r = lo; r < hi; r++) {
    const float *x = c->x + (size_t)r * n;
    int32_t *idx = c->idx + (size_t)r * k;
    float *val = c->val + (size_t)r * k;
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
