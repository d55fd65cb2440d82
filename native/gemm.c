/*
 * The SAE-training products: out = a · b (NN, a [m, k]) and out = aᵀ · b (TN, a [k, m]), b [k, n].
 *
 * Dense: the BLIS layout (Van Zee & van de Geijn 2015). Tasks are blocks of out (dense_tasks); for
 * each KC slice of k a task packs its slice of b into GNR-column micro-panels ([p][GNR]) and, MC
 * rows at a time, of a into GMR-row micro-panels ([p][GMR]), then a GMR × GNR register tile of accumulators takes one
 * broadcast of a and GNV vector loads of b per FMA row. The same packed kernel serves NN and TN;
 * only the packing of a differs.
 *
 * Sparse (SAE activations, most entries 0): out rows are sums of the b rows where a is non-zero,
 * as the reference does. Both routes add each out element's terms in ascending k with one FMA per
 * term, so they agree bit for bit (a zero term adds exactly nothing) and the route may follow the
 * data's density.
 */
#include "simd.h"
#include "tinymorph.h"

#if VL >= 16
#define GMR 8 /* a rows per register tile */
#define GNV 2 /* vectors of b per register tile row: 16 accumulators */
#elif VL == 8
#define GMR 6
#define GNV 2
#else
#define GMR 4
#define GNV 4
#endif
#define GNR (GNV * VL)
#define KC 256
#define MC (12 * GMR)
#define NC_MAX (128 * GNR) /* columns of b one task packs per KC slice: 4096 floats (a 4 MB panel, in L3) on AVX-512 */
/* Below this fraction of non-zero entries in a, the sparse route is faster (measured at SAE shapes). */
#define SPARSE_DENSITY (1.0 / 16)

static inline int min_i(int a, int b) { return a < b ? a : b; }

typedef struct {
  float *out;
  const float *a, *b;
  int m, k, n, trans_a;
  int rows_per, cols_per, col_groups; /* a task's block of out: rows_per (a multiple of MC) × cols_per (of GNR) */
} gemm_ctx;

/* ap [kc][GMR] from rows i0.. of A (zero past m). */
static void pack_a(float *ap, const gemm_ctx *c, int i0, int rows, int p0, int kc) {
  for (int p = 0; p < kc; p++) {
    float *dst = ap + (size_t)p * GMR;
    for (int r = 0; r < GMR; r++) {
      const size_t at = c->trans_a ? (size_t)(p0 + p) * c->m + i0 + r : (size_t)(i0 + r) * c->k + p0 + p;
      dst[r] = r < rows ? c->a[at] : 0.0f;
    }
  }
}

/* bp [kc][GNR] from columns j0.. of b (zero past n). */
static void pack_b(float *bp, const gemm_ctx *c, int j0, int cols, int p0, int kc) {
  for (int p = 0; p < kc; p++) {
    const float *src = c->b + (size_t)(p0 + p) * c->n + j0;
    float *dst = bp + (size_t)p * GNR;
    for (int v = 0; v < GNV; v++) vstore(dst + v * VL, vload_n(src + v * VL, clamp_lanes(cols - v * VL)));
  }
}

/* out[rows, cols] at c (row stride ldc) += ap · bp over kc, starting from 0 when `first`. */
static inline void micro(float *c, int ldc, const float *ap, const float *bp, int kc, int rows, int cols, int first) {
  vf acc[GMR][GNV];
#pragma GCC unroll 16
  for (int r = 0; r < GMR; r++)
#pragma GCC unroll 4
    for (int v = 0; v < GNV; v++) acc[r][v] = first || r >= rows ? vzero() : vload_n(c + (size_t)r * ldc + v * VL, clamp_lanes(cols - v * VL));
  for (int p = 0; p < kc; p++) {
    vf bv[GNV];
#pragma GCC unroll 4
    for (int v = 0; v < GNV; v++) bv[v] = vload(bp + (size_t)p * GNR + v * VL);
#pragma GCC unroll 16
    for (int r = 0; r < GMR; r++) {
      const vf av = vset1(ap[(size_t)p * GMR + r]);
#pragma GCC unroll 4
      for (int v = 0; v < GNV; v++) acc[r][v] = vfma(av, bv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < GMR; r++) {
    if (r >= rows) break;
#pragma GCC unroll 4
    for (int v = 0; v < GNV; v++) vstore_n(c + (size_t)r * ldc + v * VL, acc[r][v], clamp_lanes(cols - v * VL));
  }
}

/* Task t is a rows_per × cols_per block of out. For each KC slice it packs its columns of b once
   and then, MC rows at a time, its rows of a, and runs the register tile over them with each
   GNR-column micro-panel of b held in L1 while the MC rows' micro-panels of a (in L2) pass it (the
   loop order of BLIS, Van Zee & van de Geijn 2015). Tasks used to be MC × 256 tiles, each packing
   its own b panel: b was repacked m / MC times (43 at 4096 tokens), reading a [768, 24576] b with a
   96 KB stride, and packing took 40% of an SAE-shape GEMM. Every element still gets its k terms in
   ascending order from one micro call per KC slice, so the blocking does not change results. */
static void dense_tasks(void *p, long lo, long hi) {
  const gemm_ctx *c = p;
  float *ap = tm_scratch(TM_SCRATCH_A, (size_t)MC * KC * sizeof(float));
  float *bp = tm_scratch(TM_SCRATCH_B, (size_t)KC * c->cols_per * sizeof(float));
  for (long t = lo; t < hi; t++) {
    const int i_lo = (int)(t / c->col_groups) * c->rows_per, j_lo = (int)(t % c->col_groups) * c->cols_per;
    const int i_hi = min_i(c->m, i_lo + c->rows_per), nc = min_i(c->cols_per, c->n - j_lo);
    for (int p0 = 0; p0 < c->k; p0 += KC) {
      const int kc = min_i(KC, c->k - p0);
      for (int jr = 0; jr < nc; jr += GNR) pack_b(bp + (size_t)jr * kc, c, j_lo + jr, min_i(GNR, nc - jr), p0, kc);
      for (int i0 = i_lo; i0 < i_hi; i0 += MC) {
        const int mc = min_i(MC, i_hi - i0);
        for (int ir = 0; ir < mc; ir += GMR) pack_a(ap + (size_t)ir * kc, c, i0 + ir, min_i(GMR, mc - ir), p0, kc);
        for (int jr = 0; jr < nc; jr += GNR)
          for (int ir = 0; ir < mc; ir += GMR)
            micro(c->out + (size_t)(i0 + ir) * c->n + j_lo + jr, c->n, ap + (size_t)ir * kc, bp + (size_t)jr * kc, kc, min_i(GMR, mc - ir),
                  min_i(GNR, nc - jr), p0 == 0);
      }
    }
  }
}

/* Panels of all of b: KC slices in order, each slice's GNR-column panels [kc][GNR] side by side
   (the layout dense_tasks packs per tile, here for every column at once). */
static inline size_t padded_cols(int n) { return (size_t)((n + GNR - 1) / GNR) * GNR; }

int tm_nn_row_tile(void) { return GMR; }

size_t tm_nn_packed_floats(int k, int n) { return (size_t)k * padded_cols(n); }

void tm_nn_pack(float *bp, const float *b, int k, int n) {
  const gemm_ctx c = {.b = b, .k = k, .n = n};
  for (int p0 = 0; p0 < k; p0 += KC) {
    const int kc = min_i(KC, k - p0);
    float *slice = bp + (size_t)p0 * padded_cols(n);
    for (int jr = 0; jr < n; jr += GNR) pack_b(slice + (size_t)jr * kc, &c, jr, min_i(GNR, n - jr), p0, kc);
  }
}

void tm_nn_rows(float *out, const float *a, const float *bp, int rows, int k, int n) {
  const gemm_ctx c = {.a = a, .m = rows, .k = k, .n = n};
  float *ap = tm_scratch(TM_SCRATCH_A, (size_t)(rows + GMR) * min_i(KC, k) * sizeof(float));
  for (int p0 = 0; p0 < k; p0 += KC) {
    const int kc = min_i(KC, k - p0);
    const float *slice = bp + (size_t)p0 * padded_cols(n);
    for (int ir = 0; ir < rows; ir += GMR) pack_a(ap + (size_t)ir * kc, &c, ir, min_i(GMR, rows - ir), p0, kc);
    for (int ir = 0; ir < rows; ir += GMR)
      for (int jr = 0; jr < n; jr += GNR)
        micro(out + (size_t)ir * n + jr, n, ap + (size_t)ir * kc, slice + (size_t)jr * kc, kc, min_i(GMR, rows - ir), min_i(GNR, n - jr), p0 == 0);
  }
}

/* out_row += s · b_row over n. */
static inline void axpy(float *out, float s, const float *b, int n) {
  const vf sv = vset1(s);
  int j = 0;
  for (; j + VL <= n; j += VL) vstore(out + j, vfma(sv, vload(b + j), vload(out + j)));
  if (j < n) vstore_n(out + j, vfma(sv, vload_n(b + j, n - j), vload_n(out + j, n - j)), n - j);
}

static void zero_rows(float *out, long rows, int n) { memset(out, 0, (size_t)rows * n * sizeof(float)); }

/* NN sparse: tasks are out rows; row i sums b rows p where a[i, p] ≠ 0 (NaN counts as non-zero). */
static void sparse_nn_rows(void *p, long lo, long hi) {
  const gemm_ctx *c = p;
  zero_rows(c->out + (size_t)lo * c->n, hi - lo, c->n);
  for (long i = lo; i < hi; i++) {
    const float *arow = c->a + (size_t)i * c->k;
    float *orow = c->out + (size_t)i * c->n;
    for (int p0 = 0; p0 < c->k; p0 += VL) {
      const int lanes = min_i(VL, c->k - p0);
      for (uint32_t bits = vnonzero_bits(vload_n(arow + p0, lanes)); bits; bits &= bits - 1) {
        const int pp = p0 + __builtin_ctz(bits);
        axpy(orow, arow[pp], c->b + (size_t)pp * c->n, c->n);
      }
    }
  }
}

/* TN sparse: tasks are out rows i; for each k row p of a, the non-zero a[p, i] in this task's range. */
static void sparse_tn_rows(void *p, long lo, long hi) {
  const gemm_ctx *c = p;
  zero_rows(c->out + (size_t)lo * c->n, hi - lo, c->n);
  for (int pp = 0; pp < c->k; pp++) {
    const float *arow = c->a + (size_t)pp * c->m;
    const float *brow = c->b + (size_t)pp * c->n;
    for (long i0 = lo; i0 < hi; i0 += VL) {
      const int lanes = (int)(hi - i0 < VL ? hi - i0 : VL);
      for (uint32_t bits = vnonzero_bits(vload_n(arow + i0, lanes)); bits; bits &= bits - 1) {
        const long i = i0 + __builtin_ctz(bits);
        axpy(c->out + (size_t)i * c->n, arow[i], brow, c->n);
      }
    }
  }
}

/* Fraction of non-zero entries of a [rows, cols] (storage order), from up to 64 evenly spaced rows. */
static double density(const float *a, int rows, int cols) {
  const int step = rows > 64 ? rows / 64 : 1;
  long nz = 0, seen = 0;
  for (int r = 0; r < rows; r += step) {
    const float *row = a + (size_t)r * cols;
    for (int j = 0; j < cols; j += VL) nz += __builtin_popcount(vnonzero_bits(vload_n(row + j, min_i(VL, cols - j))));
    seen += cols;
  }
  return seen ? (double)nz / (double)seen : 1.0;
}

static void gemm(gemm_ctx *c) {
  const int m = c->m, k = c->k, n = c->n;
  if (m == 0 || n == 0) return;
  if (k == 0) {
    zero_rows(c->out, m, n);
    return;
  }
  const double dens = c->trans_a ? density(c->a, k, m) : density(c->a, m, k);
  if (dens < SPARSE_DENSITY) {
    const int threads = tm_team(2.0 * dens * m * k * n + (double)m * k);
    tm_parallel(threads, m, c->trans_a ? sparse_tn_rows : sparse_nn_rows, c);
    return;
  }
  /* Column groups of at most NC_MAX, then as many row groups (whole MC tiles) as give the team
     about four tasks per thread: fewer groups mean fewer repacks of a (once per column group) and
     of b (once per row group). */
  const int threads = tm_team(2.0 * m * k * n);
  const int col_tiles = (n + GNR - 1) / GNR, row_tiles = (m + MC - 1) / MC;
  const int cg = (col_tiles + NC_MAX / GNR - 1) / (NC_MAX / GNR);
  c->cols_per = (col_tiles + cg - 1) / cg * GNR;
  c->col_groups = (n + c->cols_per - 1) / c->cols_per;
  const int want_rg = (4 * threads + c->col_groups - 1) / c->col_groups;
  const int rg = want_rg < row_tiles ? want_rg : row_tiles;
  c->rows_per = (row_tiles + rg - 1) / rg * MC;
  const long tasks = (long)((m + c->rows_per - 1) / c->rows_per) * c->col_groups;
  tm_parallel(threads, tasks, dense_tasks, c);
}

void tm_matmul_nn(float *out, const float *a, const float *b, int m, int k, int n) {
  gemm_ctx c = {.out = out, .a = a, .b = b, .m = m, .k = k, .n = n, .trans_a = 0};
  gemm(&c);
}

void tm_matmul_tn(float *out, const float *a, const float *b, int m, int k, int n) {
  gemm_ctx c = {.out = out, .a = a, .b = b, .m = m, .k = k, .n = n, .trans_a = 1};
  gemm(&c);
}
