/*
 * Row-wise and element-wise kernels: RMSNorm, RoPE, SwiGLU, residual add, softmax. Each element
 * (or row) is computed by one thread whatever the team size, so results do not depend on it.
 */
#include "simd.h"
#include "tinymorph.h"

#define CHUNK 8192 /* elements per task of the element-wise kernels */

static inline long min_l(long a, long b) { return a < b ? a : b; }

/* ---- softmax ---- */

void tm_softmax(float *x, long len) {
  if (len <= 0) return;
  vf mv = vset1(-INFINITY);
  long i = 0;
  for (; i + VL <= len; i += VL) mv = vmax(mv, vload(x + i));
  float max = vhmax(mv);
  for (; i < len; i++) max = x[i] > max ? x[i] : max;
  const vf mx = vset1(max);
  vf sv = vzero();
  for (i = 0; i + VL <= len; i += VL) {
    const vf e = vexp(vsub(vload(x + i), mx));
    vstore(x + i, e);
    sv = vadd(sv, e);
  }
  if (i < len) {
    const int t = (int)(len - i);
    vstore_n(x + i, vexp(vsub(vload_n(x + i, t), mx)), t);
    sv = vadd(sv, vload_n(x + i, t));
  }
  const vf inv = vset1(1.0f / vsum(sv));
  for (i = 0; i + VL <= len; i += VL) vstore(x + i, vmul(vload(x + i), inv));
  if (i < len) vstore_n(x + i, vmul(vload_n(x + i, (int)(len - i)), inv), (int)(len - i));
}

/* ---- RMSNorm (Zhang & Sennrich 2019) ---- */

typedef struct {
  float *out;
  const float *x, *w;
  int size;
  float eps;
} norm_ctx;

static void norm_rows(void *p, long lo, long hi) {
  const norm_ctx *c = p;
  const int n = c->size;
  for (long r = lo; r < hi; r++) {
    const float *x = c->x + (size_t)r * n;
    float *out = c->out + (size_t)r * n;
    vf ss = vzero();
    int i = 0;
    for (; i + VL <= n; i += VL) ss = vfma(vload(x + i), vload(x + i), ss);
    if (i < n) ss = vfma(vload_n(x + i, n - i), vload_n(x + i, n - i), ss);
    const vf scale = vset1(1.0f / sqrtf(vsum(ss) / (float)n + c->eps));
    for (i = 0; i + VL <= n; i += VL) vstore(out + i, vmul(vload(c->w + i), vmul(scale, vload(x + i))));
    if (i < n) vstore_n(out + i, vmul(vload_n(c->w + i, n - i), vmul(scale, vload_n(x + i, n - i))), n - i);
  }
}

void tm_rmsnorm(float *out, const float *x, const float *weight, int rows, int size, float eps) {
  norm_ctx c = {.out = out, .x = x, .w = weight, .size = size, .eps = eps};
  tm_parallel(tm_team(4.0 * rows * size), rows, norm_rows, &c);
}

/* ---- RoPE (Su et al. 2021), pairs (2i, 2i+1) of each head as run.c ---- */

typedef struct {
  float *x;
  const int32_t *pos;
  const float *cs;
  int width, hs;
} rope_ctx;

static void rope_rows(void *p, long lo, long hi) {
  const rope_ctx *c = p;
  const int hs = c->hs;
  for (long r = lo; r < hi; r++) {
    const float *tab = c->cs + (size_t)c->pos[r] * hs; /* [headSize/2][cos, sin] */
    for (int h = 0; h < c->width; h += hs) {
      float *x = c->x + (size_t)r * c->width + h;
#if VL > 1
      for (int i = 0; i < hs; i += VL) {
        const int t = hs - i < VL ? hs - i : VL;
        vstore_n(x + i, vrope(vload_n(x + i, t), vload_n(tab + i, t)), t);
      }
#else
      for (int i = 0; i < hs; i += 2) {
        const float v0 = x[i], v1 = x[i + 1], co = tab[i], si = tab[i + 1];
        x[i] = v0 * co - v1 * si;
        x[i + 1] = v0 * si + v1 * co;
      }
#endif
    }
  }
}

void tm_rope(float *x, const int32_t *positions, int rows, int width, int head_size, const float *cos_sin) {
  rope_ctx c = {.x = x, .pos = positions, .cs = cos_sin, .width = width, .hs = head_size};
  tm_parallel(tm_team(3.0 * rows * width), rows, rope_rows, &c);
}

/* ---- SwiGLU (Shazeer 2020) and the residual add, in chunks of CHUNK elements ---- */

typedef struct {
  float *x;
  const float *y;
  long len;
} ew_ctx;

static void swiglu_chunks(void *p, long lo, long hi) {
  const ew_ctx *c = p;
  const vf one = vset1(1.0f), zero = vzero();
  for (long i = lo * CHUNK, end = min_l(hi * CHUNK, c->len); i < end; i += VL) {
    const int t = (int)min_l(VL, end - i);
    const vf g = vload_n(c->x + i, t);
    const vf silu = vdiv(g, vadd(one, vexp(vsub(zero, g))));
    vstore_n(c->x + i, vmul(silu, vload_n(c->y + i, t)), t);
  }
}

static void add_chunks(void *p, long lo, long hi) {
  const ew_ctx *c = p;
  for (long i = lo * CHUNK, end = min_l(hi * CHUNK, c->len); i < end; i += VL) {
    const int t = (int)min_l(VL, end - i);
    vstore_n(c->x + i, vadd(vload_n(c->x + i, t), vload_n(c->y + i, t)), t);
  }
}

void tm_swiglu(float *gate, const float *up, long len) {
  ew_ctx c = {.x = gate, .y = up, .len = len};
  tm_parallel(tm_team(20.0 * len), (len + CHUNK - 1) / CHUNK, swiglu_chunks, &c);
}

void tm_add(float *x, const float *y, long len) {
  ew_ctx c = {.x = x, .y = y, .len = len};
  tm_parallel(tm_team(2.0 * len), (len + CHUNK - 1) / CHUNK, add_chunks, &c);
}

/* transpose: out [cols, rows] = aᵀ for a [rows, cols], in 32 × 32 tiles (both sides stay in cache);
   threads take bands of 32 rows of a. */
#define TRANSPOSE_TILE 32

typedef struct {
  float *out;
  const float *a;
  int rows, cols;
} transpose_ctx;

static void transpose_bands(void *p, long lo, long hi) {
  const transpose_ctx *c = p;
  for (long band = lo; band < hi; band++) {
    const int r0 = (int)band * TRANSPOSE_TILE, r1 = r0 + TRANSPOSE_TILE < c->rows ? r0 + TRANSPOSE_TILE : c->rows;
    for (int c0 = 0; c0 < c->cols; c0 += TRANSPOSE_TILE) {
      const int c1 = c0 + TRANSPOSE_TILE < c->cols ? c0 + TRANSPOSE_TILE : c->cols;
      /* Writes in sequence, reads strided: the other way round, out's rows (rows·4 bytes apart, 4 KB
         for 1024 rows) fall into one L1 set and evict each other: 3× slower. */
      for (int j = c0; j < c1; j++)
        for (int r = r0; r < r1; r++) c->out[(size_t)j * c->rows + r] = c->a[(size_t)r * c->cols + j];
    }
  }
}

void tm_transpose(float *out, const float *a, int rows, int cols) {
  transpose_ctx c = {.out = out, .a = a, .rows = rows, .cols = cols};
  tm_parallel(tm_team((double)rows * cols), (rows + TRANSPOSE_TILE - 1) / TRANSPOSE_TILE, transpose_bands, &c);
}
