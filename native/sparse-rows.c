/*
 * Row gathers and scatters over an index list [rows, k]: the products of a TopK SAE's training
 * step, where each token touches only its k picked latents (Gao et al. 2024 §5.1: sparse kernels
 * for the decoder and the weight gradients). All three are rows·k·width multiply-adds instead of a
 * dense product's rows·d_sae·width, and none reads the [rows, d_sae] grid.
 *   gather:  out[r,:]     = Σ_j val[r,j] · table[idx[r,j], :]     (decode)
 *   dots:    out[r,j]     = a[r,:] · table[idx[r,j], :]            (gradient at the picks)
 *   scatter: table[i,:]  += Σ_{(r,j): idx[r,j]=i} val[r,j] · a[r,:] (weight gradients)
 * gather and dots split rows over threads; scatter splits the table's rows (each thread owns a
 * range of them and walks every pick in order), so no two threads write one element and results do
 * not depend on the thread count. A zero val adds nothing and is skipped.
 */
#include "simd.h"
#include "tinymorph.h"

/* Columns of a table row the row kernels hold in registers at once. */
#define SCATTER_PANEL (4 * VL)

/* Vector v of a panel whose first `cols` columns are real: a whole load, or a masked one at the edge. */
static inline vf panel_load(const float *p, int v, int cols) {
  return cols - v * VL >= VL ? vload(p + v * VL) : vload_n(p + v * VL, clamp_lanes(cols - v * VL));
}

typedef struct {
  float *out;
  const float *a, *val, *table;
  const int32_t *idx;
  int rows, k, width;
} sparse_ctx;

/* A row's SCATTER_PANEL columns at a time, the panel's sums in registers across the row's picks
   (a sum kept in memory waits on its own store every pick): the same FMAs in the same order. */
static void gather_rows(void *p, long lo, long hi) {
  const sparse_ctx *c = p;
  const int w = c->width, k = c->k;
  for (long r = lo; r < hi; r++) {
    float *o = c->out + (size_t)r * w;
    const float *val = c->val + (size_t)r * k;
    const int32_t *idx = c->idx + (size_t)r * k;
    for (int c0 = 0; c0 < w; c0 += SCATTER_PANEL) {
      const int cols = w - c0 < SCATTER_PANEL ? w - c0 : SCATTER_PANEL;
      vf acc[4] = {vzero(), vzero(), vzero(), vzero()};
      for (int j = 0; j < k; j++) {
        if (val[j] == 0.0f) continue;
        const float *t = c->table + (size_t)idx[j] * w + c0;
        const vf vv = vset1(val[j]);
#pragma GCC unroll 4
        for (int v = 0; v < 4; v++) acc[v] = vfma(vv, panel_load(t, v, cols), acc[v]);
      }
#pragma GCC unroll 4
      for (int v = 0; v < 4; v++) vstore_n(o + c0 + v * VL, acc[v], clamp_lanes(cols - v * VL));
    }
  }
}

static void gathered_dots(void *p, long lo, long hi) {
  const sparse_ctx *c = p;
  const int w = c->width;
  for (long r = lo; r < hi; r++) {
    const float *a = c->a + (size_t)r * w;
    for (int j = 0; j < c->k; j++) {
      const float *t = c->table + (size_t)c->idx[(size_t)r * c->k + j] * w;
      vf s0 = vzero(), s1 = vzero();
      int i = 0;
      for (; i + 2 * VL <= w; i += 2 * VL) {
        s0 = vfma(vload(a + i), vload(t + i), s0);
        s1 = vfma(vload(a + i + VL), vload(t + i + VL), s1);
      }
      for (; i + VL <= w; i += VL) s0 = vfma(vload(a + i), vload(t + i), s0);
      if (i < w) s1 = vfma(vload_n(a + i, w - i), vload_n(t + i, w - i), s1);
      c->out[(size_t)r * c->k + j] = vsum(vadd(s0, s1));
    }
  }
}

/* Row t of a table += Σ over the sorted picks e0..e1 of val[e] · a[token[e]]: the row's
   SCATTER_PANEL columns held in registers across its picks, so each element gets one FMA per pick in
   pick order but the row is loaded and stored once, not once per pick. */
void tm_scatter_row(float *t, const float *a, const float *val, const int32_t *token, long e0, long e1, int w) {
  for (int c0 = 0; c0 < w; c0 += SCATTER_PANEL) {
    const int cols = w - c0 < SCATTER_PANEL ? w - c0 : SCATTER_PANEL;
    vf acc[4];
#pragma GCC unroll 4
    for (int v = 0; v < 4; v++) acc[v] = panel_load(t + c0, v, cols);
    for (long e = e0; e < e1; e++) {
      const float *x = a + (size_t)token[e] * w + c0;
      const vf vv = vset1(val[e]);
#pragma GCC unroll 4
      for (int v = 0; v < 4; v++) acc[v] = vfma(vv, panel_load(x, v, cols), acc[v]);
    }
#pragma GCC unroll 4
    for (int v = 0; v < 4; v++) vstore_n(t + c0 + v * VL, acc[v], clamp_lanes(cols - v * VL));
  }
}

/* Scatter: task t owns table rows [t·span, (t+1)·span). It first lists the picks (r, j) that land
   in its rows, in order and without branches (a test per pick mispredicts on half of them when two
   threads split the rows), then sorts that list by table row (a stable counting sort, so each
   row's picks keep their order) and walks it a row at a time (tm_scatter_row). With a second table
   (scatterRowsPair) the one sorted list serves both: the sort was half of a single scatter's time.
   Splitting the columns instead (each thread a range of every row) ran slower on two cores than on
   one, even at 128-byte granularity: the cores' prefetchers keep pulling the lines the other core
   is writing. */
typedef struct {
  const tm_scatter_job *job;
  long span; /* table rows per task */
} scatter_ctx;

static void scatter_rows(void *p, long lo, long hi) {
  const scatter_ctx *c = p;
  const tm_scatter_job *s = c->job;
  const int w = s->width, k = s->k;
  const long r0 = lo * c->span, r1 = hi * c->span < s->table_rows ? hi * c->span : s->table_rows;
  const size_t picks = (size_t)s->rows * k;
  const long span = r1 - r0;
  int32_t *restrict mine = tm_scratch(TM_SCRATCH_A, (5 * picks + (size_t)span + 1) * sizeof(int32_t));
  int32_t *listed_token = mine + picks, *token = listed_token + picks, *start = token + picks;
  /* The picks' values in sorted order, so the walk reads them in sequence (a random read per pick
     into val was a tenth of the walk). */
  float *sorted_val = (float *)(start + span + 1), *sorted_val2 = sorted_val + picks;
  /* Local restrict copies: otherwise every store to the lists makes the compiler reload s->idx and s->val. */
  const int32_t *restrict idx = s->idx;
  const float *restrict val = s->val, *restrict val2 = s->val2;
  size_t m = 0;
  for (int r = 0; r < s->rows; r++)
    for (int j = 0; j < k; j++) {
      const size_t q = (size_t)r * k + j;
      const uint32_t off = (uint32_t)(idx[q] - r0); /* < span exactly when the row is this task's */
      mine[m] = (int32_t)q;
      listed_token[m] = r;
      m += (off < (uint32_t)span) & ((val[q] != 0.0f) | (val2 != NULL && val2[q] != 0.0f));
    }
  memset(start, 0, ((size_t)span + 1) * sizeof(int32_t));
  for (size_t e = 0; e < m; e++) start[idx[mine[e]] - r0 + 1]++;
  for (long i = 0; i < span; i++) start[i + 1] += start[i];
  for (size_t e = 0; e < m; e++) {
    const int32_t q = mine[e];
    const int32_t at = start[idx[q] - r0]++;
    sorted_val[at] = val[q];
    if (val2) sorted_val2[at] = val2[q];
    token[at] = listed_token[e];
  }
  /* start[i] is now the end of row r0 + i's picks, the start of row r0 + i + 1's. */
  for (long i = 0, e0 = 0; i < span; e0 = start[i++]) tm_scatter_row(s->table + (size_t)(r0 + i) * w, s->a, sorted_val, token, e0, start[i], w);
  /* The second table in a pass of its own: walking both at once keeps two [rows, width] inputs and
     two tables live, which at 4096 × 64 outgrows L2 (the pass took 3.5× one table's). */
  if (val2)
    for (long i = 0, e0 = 0; i < span; e0 = start[i++]) tm_scatter_row(s->table2 + (size_t)(r0 + i) * w, s->a2, sorted_val2, token, e0, start[i], w);
}

void tm_gather_rows(float *out, const int32_t *idx, const float *val, int rows, int k, const float *table, int width) {
  sparse_ctx c = {.out = out, .val = val, .table = table, .idx = idx, .rows = rows, .k = k, .width = width};
  tm_parallel(tm_team(2.0 * rows * k * width), rows, gather_rows, &c);
}

void tm_gathered_dots(float *out, const float *a, const int32_t *idx, int rows, int k, const float *table, int width) {
  sparse_ctx c = {.out = out, .a = a, .table = table, .idx = idx, .rows = rows, .k = k, .width = width};
  tm_parallel(tm_team(2.0 * rows * k * width), rows, gathered_dots, &c);
}

void tm_scatter(const tm_scatter_job *job) {
  if (job->table_rows <= 0) return; /* no index can name a row */
  const int threads = tm_team((job->val2 ? 4.0 : 2.0) * job->rows * job->k * job->width);
  scatter_ctx c = {.job = job, .span = (job->table_rows + threads - 1) / threads};
  tm_parallel_chunk(threads, (job->table_rows + c.span - 1) / c.span, 1, scatter_rows, &c);
}

/* positiveEntries: rows' counts of x > 0 (so k, the padded stride, is known), then each row's list. */
typedef struct {
  int32_t *idx, *counts;
  float *val;
  const float *x;
  int n, k;
} positive_ctx;

static void count_positive(void *p, long lo, long hi) {
  const positive_ctx *c = p;
  for (long r = lo; r < hi; r++) {
    const float *x = c->x + (size_t)r * c->n;
    int count = 0;
    for (int i = 0; i < c->n; i += VL) count += __builtin_popcount(vgt_bits(vload_n(x + i, clamp_lanes(c->n - i)), vzero()));
    c->counts[r] = count;
  }
}

int tm_positive_row(const float *x, int n, int32_t *idx, float *val) {
  int at = 0;
  for (int i = 0; i < n; i += VL)
    for (uint32_t bits = vgt_bits(vload_n(x + i, clamp_lanes(n - i)), vzero()); bits; bits &= bits - 1) {
      const int j = i + __builtin_ctz(bits);
      idx[at] = j;
      val[at++] = x[j];
    }
  return at;
}

static void list_positive(void *p, long lo, long hi) {
  const positive_ctx *c = p;
  for (long r = lo; r < hi; r++) {
    int32_t *idx = c->idx + (size_t)r * c->k;
    float *val = c->val + (size_t)r * c->k;
    const int at = tm_positive_row(c->x + (size_t)r * c->n, c->n, idx, val);
    memset(idx + at, 0, (size_t)(c->k - at) * sizeof(int32_t));
    memset(val + at, 0, (size_t)(c->k - at) * sizeof(float));
  }
}

int tm_positive_entries(int32_t *idx, float *val, const float *x, int rows, int n) {
  positive_ctx c = {.idx = idx, .val = val, .x = x, .n = n, .k = 1};
  if (rows <= 0 || n <= 0) return 1;
  c.counts = tm_scratch(TM_SCRATCH_X, (size_t)rows * sizeof(int32_t));
  const int threads = tm_team((double)rows * n);
  tm_parallel(threads, rows, count_positive, &c);
  for (int r = 0; r < rows; r++) c.k = c.counts[r] > c.k ? c.counts[r] : c.k;
  tm_parallel(threads, rows, list_positive, &c);
  return c.k;
}

/* x[r,:] += v for every row (a bias added to a batch). */
typedef struct {
  float *x;
  const float *v;
  int n;
} bias_ctx;

static void add_rows(void *p, long lo, long hi) {
  const bias_ctx *c = p;
  const int n = c->n;
  for (long r = lo; r < hi; r++) {
    float *x = c->x + (size_t)r * n;
    int i = 0;
    for (; i + VL <= n; i += VL) vstore(x + i, vadd(vload(x + i), vload(c->v + i)));
    if (i < n) vstore_n(x + i, vadd(vload_n(x + i, n - i), vload_n(c->v + i, n - i)), n - i);
  }
}

void tm_add_row_vector(float *x, const float *v, int rows, int n) {
  bias_ctx c = {.x = x, .v = v, .n = n};
  tm_parallel(tm_team((double)rows * n), rows, add_rows, &c);
}
