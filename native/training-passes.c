/*
 * The element-wise passes of an SAE training step (scaling the batch, sae_in = x − b_dec, the squared
 * error and its gradient, column sums, the batch's centred sum of squares, Adam), computed exactly as
 * the reference backend's JavaScript computes them: in float64, operation for operation, rounded to
 * float32 where JavaScript stores into a Float32Array, summing in the same order on one thread (the
 * passes without sums split their elements over threads). So they agree bit for bit, and a trained
 * SAE does not depend on the backend. In V8 each of these passes
 * over a [4096, 64] batch took ≈ 0.5 ms; together they were a third of a 64 × 1024 topk step.
 *
 * No fused multiply-adds here: JavaScript rounds every product.
 */
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include "tinymorph.h"

#include <math.h>

/* The element-wise passes split their elements over threads, in blocks of this many or by rows (each
   element's arithmetic is the same wherever it runs, so results do not depend on the thread count). */
#define PASS_BLOCK 4096

typedef struct {
  float *out, *p, *m, *v;
  const float *x, *g, *vec;
  double s;
  long len;
  int n;
  const tm_adam_step *h;
} pass_ctx;

static long block_end(const pass_ctx *c, long b) { return (b + 1) * PASS_BLOCK < c->len ? (b + 1) * PASS_BLOCK : c->len; }

static void run_blocks(long len, tm_range_fn fn, pass_ctx *c) {
  c->len = len;
  tm_parallel(tm_team((double)len * 4), (len + PASS_BLOCK - 1) / PASS_BLOCK, fn, c);
}

static void scale_blocks(void *p, long lo, long hi) {
  const pass_ctx *c = p;
  for (long i = lo * PASS_BLOCK; i < block_end(c, hi - 1); i++) c->out[i] = (float)((double)c->x[i] * c->s);
}

void tm_scale_into(float *out, const float *x, double s, long len) {
  pass_ctx c = {.out = out, .x = x, .s = s};
  run_blocks(len, scale_blocks, &c);
}

static void sub_rows(void *p, long lo, long hi) {
  const pass_ctx *c = p;
  const int n = c->n;
  for (long r = lo; r < hi; r++)
    for (int i = 0; i < n; i++) c->out[r * n + i] = (float)((double)c->x[r * n + i] - (double)c->vec[i]);
}

void tm_sub_row_vector(float *out, const float *x, const float *v, int rows, int n) {
  pass_ctx c = {.out = out, .x = x, .vec = v, .n = n};
  tm_parallel(tm_team((double)rows * n * 4), rows, sub_rows, &c);
}

/* Sums of squares: entry i goes into partial sum i mod 8, combined in the reference's fixed order
   (reference-backend.ts laneSum): eight independent float64 chains the compiler may keep in one
   vector, where a single running sum waited on every add. */
static double lane_sum(const double s[8]) { return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])); }

double tm_squared_error(float *d_out, const float *out, const float *x, long len, double batch) {
  double s[8] = {0};
  long i = 0;
  for (; i + 8 <= len; i += 8)
    for (int l = 0; l < 8; l++) {
      const double e = (double)out[i + l] - (double)x[i + l];
      s[l] += e * e;
      d_out[i + l] = (float)((2 * e) / batch);
    }
  for (; i < len; i++) {
    const double e = (double)out[i] - (double)x[i];
    s[i & 7] += e * e;
    d_out[i] = (float)((2 * e) / batch);
  }
  return lane_sum(s);
}

int tm_relu_picks(float *val, const int32_t *idx, long len, int32_t *counts) {
  int active = 0;
  for (long i = 0; i < len; i++) {
    if (val[i] > 0) {
      counts[idx[i]]++;
      active++;
    } else {
      val[i] = 0;
    }
  }
  return active;
}

void tm_scatter_add_picks(float *out, const int32_t *idx, float *val, long len, const float *gate) {
  for (long i = 0; i < len; i++) {
    if (gate && gate[i] == 0) val[i] = 0;
    else out[idx[i]] = (float)((double)out[idx[i]] + (double)val[i]);
  }
}

void tm_column_sums(float *out, const float *m, int rows, int width) {
  for (int j = 0; j < width; j++) out[j] = 0.0f;
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < width; j++) out[j] = (float)((double)out[j] + (double)m[(size_t)r * width + j]);
}

/* centeredSquares: column means (each summed over the rows in order), then Σ (x − mean)² in blocks
   of CENTERED_BLOCK_ROWS rows, each block's eight lane sums combined in block order
   (reference-backend.ts does the same), so blocks can run on any thread. */
#define CENTERED_BLOCK_ROWS 256

typedef struct {
  const float *x;
  double *mean, *block_sums; /* [width], [blocks][8] */
  int rows, width;
} centered_ctx;

static void column_means(void *p, long lo, long hi) {
  const centered_ctx *c = p;
  double *restrict m = c->mean;
  for (long j = lo; j < hi; j++) m[j] = 0;
  for (int r = 0; r < c->rows; r++)
    for (long j = lo; j < hi; j++) m[j] += c->x[(size_t)r * c->width + j];
  for (long j = lo; j < hi; j++) m[j] /= c->rows;
}

static void centered_blocks(void *p, long lo, long hi) {
  const centered_ctx *c = p;
  const double *restrict mean = c->mean;
  const float *restrict x = c->x;
  for (long b = lo; b < hi; b++) {
    double s[8] = {0}; /* in registers: block_sums shares its type with mean */
    const int r0 = (int)b * CENTERED_BLOCK_ROWS, r1 = r0 + CENTERED_BLOCK_ROWS < c->rows ? r0 + CENTERED_BLOCK_ROWS : c->rows;
    if (c->width % 8 == 0) {
      /* Entry (r, j) is lane j mod 8: whole groups of eight, which the compiler keeps in one vector. */
      for (int r = r0; r < r1; r++)
        for (int j = 0; j < c->width; j += 8)
          for (int l = 0; l < 8; l++) {
            const double d = (double)x[(size_t)r * c->width + j + l] - mean[j + l];
            s[l] += d * d;
          }
    } else {
      for (int r = r0; r < r1; r++)
        for (int j = 0; j < c->width; j++) {
          const size_t i = (size_t)r * c->width + j;
          const double d = (double)x[i] - mean[j];
          s[i & 7] += d * d;
        }
    }
    for (int l = 0; l < 8; l++) c->block_sums[8 * b + l] = s[l];
  }
}

size_t tm_centered_scratch(int rows, int width) { return (size_t)width + 8 * (((size_t)rows + CENTERED_BLOCK_ROWS - 1) / CENTERED_BLOCK_ROWS); }

double tm_centered_squares(const float *x, int rows, int width, double *scratch) {
  const long blocks = (rows + CENTERED_BLOCK_ROWS - 1) / CENTERED_BLOCK_ROWS;
  centered_ctx c = {.x = x, .mean = scratch, .block_sums = scratch + width, .rows = rows, .width = width};
  const int threads = tm_team(4.0 * rows * width);
  column_means(&c, 0, width); /* on two threads this ran slower: it is one stream through x */
  tm_parallel(threads, blocks, centered_blocks, &c);
  double s[8] = {0};
  for (long b = 0; b < blocks; b++)
    for (int l = 0; l < 8; l++) s[l] += c.block_sums[8 * b + l];
  return lane_sum(s);
}

static void adam_blocks(void *ctx, long lo, long hi) {
  const pass_ctx *c = ctx;
  const tm_adam_step *h = c->h;
  float *restrict p = c->p, *restrict m = c->m, *restrict v = c->v;
  const float *restrict g = c->g;
  for (long i = lo * PASS_BLOCK; i < block_end(c, hi - 1); i++) {
    const double gi = g[i];
    const double mi = h->beta1 * m[i] + (1 - h->beta1) * gi;
    const double vi = h->beta2 * v[i] + (1 - h->beta2) * gi * gi;
    m[i] = (float)mi;
    v[i] = (float)vi;
    p[i] = (float)((double)p[i] - (h->step_size * mi) / (sqrt(vi) / h->sqrt_c2 + h->eps));
  }
}

void tm_adam_update(float *p, const float *g, float *m, float *v, long len, const tm_adam_step *h) {
  pass_ctx c = {.p = p, .g = g, .m = m, .v = v, .h = h};
  run_blocks(len, adam_blocks, &c);
}
