/*
 * Causal grouped-query attention over one sequence's KV cache ([capacity, kvDim] keys and values).
 * Every (token, head) pair is one task: scores against keys 0..pos, softmax, weighted sum of
 * values. The fused kernel and the pattern/apply pair run the same two steps on the same data, so
 * a pattern hook that changes nothing leaves the output bit-identical.
 */
#include "simd.h"
#include "tinymorph.h"

static inline int min_i(int a, int b) { return a < b ? a : b; }

static inline float dot(const float *a, const float *b, int n) {
  vf s0 = vzero(), s1 = vzero();
  int i = 0;
  for (; i + 2 * VL <= n; i += 2 * VL) {
    s0 = vfma(vload(a + i), vload(b + i), s0);
    s1 = vfma(vload(a + i + VL), vload(b + i + VL), s1);
  }
  for (; i < n; i += VL) s0 = vfma(vload_n(a + i, min_i(VL, n - i)), vload_n(b + i, min_i(VL, n - i)), s0);
  return vsum(vadd(s0, s1));
}

/* dst[0..pos] = softmax(q · K[k, head] / √headSize) for k = 0..pos; VL keys at a time, their VL
   dot products reduced together. */
static void head_scores(float *dst, const float *q, const float *keys, int kv_dim, int head_size, int pos) {
  const float scale = 1.0f / sqrtf((float)head_size);
  int k = 0;
#if VL > 1
  for (; k + VL <= pos + 1; k += VL) {
    vf acc[VL];
    for (int j = 0; j < VL; j++) acc[j] = vzero();
    for (int i = 0; i < head_size; i += VL) {
      const int t = min_i(VL, head_size - i);
      const vf qv = vload_n(q + i, t);
      const float *kr = keys + (size_t)k * kv_dim + i;
#pragma GCC unroll 16
      for (int j = 0; j < VL; j++) acc[j] = vfma(qv, vload_n(kr + (size_t)j * kv_dim, t), acc[j]);
    }
    vstore(dst + k, vmul(vsum_many(acc), vset1(scale)));
  }
#endif
  for (; k <= pos; k++) dst[k] = dot(q, keys + (size_t)k * kv_dim, head_size) * scale;
  tm_softmax(dst, pos + 1);
}

/* out[0..headSize) = Σ_k w[k] · V[k, head], in ascending k; four vectors of the head at a time. */
static void weighted_values(float *out, const float *w, const float *values, int kv_dim, int head_size, int pos) {
  for (int i0 = 0; i0 < head_size; i0 += 4 * VL) {
    vf acc[4] = {vzero(), vzero(), vzero(), vzero()};
    int lanes[4];
    for (int v = 0; v < 4; v++) {
      const int left = head_size - i0 - v * VL;
      lanes[v] = left < 0 ? 0 : left > VL ? VL : left;
    }
    for (int k = 0; k <= pos; k++) {
      const vf wk = vset1(w[k]);
      const float *vrow = values + (size_t)k * kv_dim + i0;
      for (int v = 0; v < 4 && lanes[v]; v++) acc[v] = vfma(wk, lanes[v] == VL ? vload(vrow + v * VL) : vload_n(vrow + v * VL, lanes[v]), acc[v]);
    }
    for (int v = 0; v < 4 && lanes[v]; v++) vstore_n(out + i0 + v * VL, acc[v], lanes[v]);
  }
}

typedef struct {
  float *out, *pattern;
  const float *q, *keys, *values;
  const float *pattern_in;
  const tm_attn_args *a;
  int stride;
} attn_ctx;

/* Task t·nHeads + h: token t of the segment, query head h. */
#define TASK_SETUP                                                                          \
  const attn_ctx *c = p;                                                                    \
  const tm_attn_args *a = c->a;                                                             \
  const int hs = a->head_size, group = a->n_heads / a->n_kv_heads, kv_dim = a->n_kv_heads * hs; \
  (void)kv_dim

static void pattern_tasks(void *p, long lo, long hi) {
  TASK_SETUP;
  for (long task = lo; task < hi; task++) {
    const int t = (int)(task / a->n_heads), h = (int)(task % a->n_heads), pos = a->start_pos + t;
    const size_t at = (size_t)(a->token_offset + t) * a->n_heads + h;
    float *dst = c->pattern + at * c->stride;
    memset(dst + pos + 1, 0, (size_t)(c->stride - pos - 1) * sizeof(float));
    head_scores(dst, c->q + at * hs, c->keys + (size_t)(h / group) * hs, kv_dim, hs, pos);
  }
}

static void apply_tasks(void *p, long lo, long hi) {
  TASK_SETUP;
  for (long task = lo; task < hi; task++) {
    const int t = (int)(task / a->n_heads), h = (int)(task % a->n_heads), pos = a->start_pos + t;
    const size_t at = (size_t)(a->token_offset + t) * a->n_heads + h;
    weighted_values(c->out + at * hs, c->pattern_in + at * c->stride, c->values + (size_t)(h / group) * hs, kv_dim, hs, pos);
  }
}

/* FLOPs of scores and weighted sums over all tasks: Σ_t (startPos + t + 1) · headSize · 4 per head. */
static double attn_work(const tm_attn_args *a) {
  const double keys = (double)a->count * a->start_pos + (double)a->count * (a->count + 1) / 2;
  return 4.0 * keys * a->head_size * a->n_heads;
}

/* Several sequences (a batched decode step), each over its own [capacity, kvDim] row of the layer's
   cache: task i is (segment, token, head) in segment order, so the threads share every row's heads
   instead of each row being one call on one thread (at 16 rows of 15m, 96 calls of ≈ 18 µs each
   per step, mostly waiting on their row's KV cache). */
typedef struct {
  float *out;
  const float *q, *keys, *values;
  const tm_attn_seg *segs;
  const long *first; /* first[s]: task index of segment s's first (token, head); first[n_seg] = all tasks */
  int n_seg, capacity, n_heads, n_kv_heads, head_size;
  int max_len; /* the longest segment's startPos + count: the scores each task needs */
} rows_ctx;

static void rows_tasks(void *p, long lo, long hi) {
  const rows_ctx *c = p;
  const int hs = c->head_size, group = c->n_heads / c->n_kv_heads, kv_dim = c->n_kv_heads * hs;
  int lo_s = 0, hi_s = c->n_seg - 1; /* the segment holding task lo: the last s with first[s] ≤ lo */
  while (lo_s < hi_s) {
    const int mid = (lo_s + hi_s + 1) / 2;
    if (c->first[mid] <= lo) lo_s = mid;
    else hi_s = mid - 1;
  }
  int seg = lo_s;
  float *scores = tm_scratch(TM_SCRATCH_SCORES, (size_t)c->max_len * sizeof(float));
  for (long task = lo; task < hi; task++) {
    while (task >= c->first[seg + 1]) seg++;
    const tm_attn_seg *g = &c->segs[seg];
    const long i = task - c->first[seg];
    const int t = (int)(i / c->n_heads), h = (int)(i % c->n_heads), pos = g->start_pos + t;
    const size_t row = ((size_t)(g->token_offset + t) * c->n_heads + h) * hs;
    const size_t kv_off = (size_t)g->cache_row * c->capacity * kv_dim + (size_t)(h / group) * hs;
    head_scores(scores, c->q + row, c->keys + kv_off, kv_dim, hs, pos);
    weighted_values(c->out + row, scores, c->values + kv_off, kv_dim, hs, pos);
  }
}

void tm_attention_rows(float *out, const float *q, const float *keys, const float *values, const tm_attn_seg *segs, int n_seg, int capacity, int n_heads, int n_kv_heads, int head_size) {
  long *first = tm_scratch(TM_SCRATCH_SEGMENTS, ((size_t)n_seg + 1) * sizeof(long));
  double work = 0;
  int max_len = 0;
  first[0] = 0;
  for (int s = 0; s < n_seg; s++) {
    const tm_attn_args a = {.count = segs[s].count, .start_pos = segs[s].start_pos, .n_heads = n_heads, .head_size = head_size};
    work += attn_work(&a);
    first[s + 1] = first[s] + (long)segs[s].count * n_heads;
    max_len = a.start_pos + a.count > max_len ? a.start_pos + a.count : max_len;
  }
  rows_ctx c = {.out = out, .q = q, .keys = keys, .values = values, .segs = segs, .first = first, .n_seg = n_seg, .capacity = capacity, .n_heads = n_heads, .n_kv_heads = n_kv_heads, .head_size = head_size, .max_len = max_len};
  tm_parallel(tm_team(work), first[n_seg], rows_tasks, &c);
}

void tm_attention(float *out, const float *q, const float *keys, const float *values, const tm_attn_args *a) {
  const tm_attn_seg seg = {.token_offset = a->token_offset, .count = a->count, .start_pos = a->start_pos, .cache_row = 0};
  tm_attention_rows(out, q, keys, values, &seg, 1, a->start_pos + a->count, a->n_heads, a->n_kv_heads, a->head_size);
}

void tm_attention_pattern(float *pattern, const float *q, const float *keys, const tm_attn_args *a, int stride) {
  attn_ctx c = {.pattern = pattern, .q = q, .keys = keys, .a = a, .stride = stride};
  tm_parallel(tm_team(attn_work(a) / 2), (long)a->count * a->n_heads, pattern_tasks, &c);
}

void tm_attention_apply(float *out, const float *pattern, const float *values, const tm_attn_args *a, int stride) {
  attn_ctx c = {.out = out, .pattern_in = pattern, .values = values, .a = a, .stride = stride};
  tm_parallel(tm_team(attn_work(a) / 2), (long)a->count * a->n_heads, apply_tasks, &c);
}
