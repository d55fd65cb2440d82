/*
 * out = x · wᵀ for fp32 and Q8_0 weights (w row-major [d, n], out × in, as in the model files).
 *
 * Few input rows (decode): memory-bound, so one weight row at a time is streamed once and dotted
 * with each input row (four lane-wise partial sums hide the FMA latency), threads splitting the
 * weight rows. 4–32 rows (batched decode): each group of NW weight rows is read from memory once
 * and stays in L1 while the MR×NW register tile runs over every input-row group (small_batch_tasks),
 * threads taking contiguous halves of the weight rows. More rows (prefill): compute-bound, so a register tile of MR input
 * rows × NW weight rows reuses every load MR or NW times, over tiles of RB input rows × OB weight rows
 * that keep a weight block in L2 while the input rows stream past. Q8_0 blocks are dequantized
 * once per weight block into per-thread scratch and then run the fp32 tile.
 *
 * Q8_0 prefill (and decode where q80-decode.c does not apply): w = q · scale in fp32 registers, then
 * FMA with the fp32 activations, so a Q8_0 dot equals the fp32 dot of the dequantized row bit for
 * bit. Q8_0 decode with groups of 32 uses int16 activations instead (q80-decode.c).
 */
#include "simd.h"
#include "tinymorph.h"

#define MR 4 /* input rows per register tile */
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h> /* _mm_prefetch, also when simd.h took its scalar path */
#ifndef SB_HINT
#define SB_HINT _MM_HINT_T0
#endif
#define TM_PREFETCH(p) _mm_prefetch((const char *)(p), SB_HINT)
#else
#define TM_PREFETCH(p) __builtin_prefetch(p)
#endif
#if VL >= 16
#define NW 4 /* weight rows per register tile: 16 accumulators of 32 zmm */
#else
#ifndef NW
#define NW 3 /* 12 accumulators + 3 weight vectors + 1 input vector fill AVX2's 16 ymm (NW 2 left FMA latency exposed: 3 was 1.15-1.4x faster at prefill and 1.5x at 16 rows on Zen 3) */
#endif
#endif
#define RB 64 /* input rows per task */

static inline int min_i(int a, int b) { return a < b ? a : b; }

/* Σ_i x[i]·w[i] in four lane-wise partial sums (the decode kernel). */
static inline float dot_f32(const float *x, const float *w, int n) {
  vf a0 = vzero(), a1 = vzero(), a2 = vzero(), a3 = vzero();
  int i = 0;
  for (; i + 4 * VL <= n; i += 4 * VL) {
    a0 = vfma(vload(x + i), vload(w + i), a0);
    a1 = vfma(vload(x + i + VL), vload(w + i + VL), a1);
    a2 = vfma(vload(x + i + 2 * VL), vload(w + i + 2 * VL), a2);
    a3 = vfma(vload(x + i + 3 * VL), vload(w + i + 3 * VL), a3);
  }
  for (; i + VL <= n; i += VL) a0 = vfma(vload(x + i), vload(w + i), a0);
  if (i < n) a1 = vfma(vload_n(x + i, n - i), vload_n(w + i, n - i), a1);
  return vsum(vadd(vadd(a0, a1), vadd(a2, a3)));
}

/* Lanes [i, i + lanes) of one Q8_0 row as fp32: q · scale, the scale of each lane's group. */
static inline vf q8_lanes(const int8_t *q, const float *s, int gshift, int i, int lanes) {
  const vf x = lanes == VL ? vload_i8(q + i) : vload_i8_n(q + i, lanes);
  const int g = 1 << gshift;
  return vmul(x, g >= VL ? vset1(s[i >> gshift]) : vexpand_groups(s + (i >> gshift), g, lanes));
}

/* dot_f32 of x with a Q8_0 row dequantized in registers (same partial sums, same result as dot_f32 on the dequantized row). */
static inline float dot_q80(const float *x, const int8_t *q, const float *s, int gshift, int n) {
  vf a0 = vzero(), a1 = vzero(), a2 = vzero(), a3 = vzero();
  int i = 0;
  for (; i + 4 * VL <= n; i += 4 * VL) {
    a0 = vfma(vload(x + i), q8_lanes(q, s, gshift, i, VL), a0);
    a1 = vfma(vload(x + i + VL), q8_lanes(q, s, gshift, i + VL, VL), a1);
    a2 = vfma(vload(x + i + 2 * VL), q8_lanes(q, s, gshift, i + 2 * VL, VL), a2);
    a3 = vfma(vload(x + i + 3 * VL), q8_lanes(q, s, gshift, i + 3 * VL, VL), a3);
  }
  for (; i + VL <= n; i += VL) a0 = vfma(vload(x + i), q8_lanes(q, s, gshift, i, VL), a0);
  if (i < n) a1 = vfma(vload_n(x + i, n - i), q8_lanes(q, s, gshift, i, n - i), a1);
  return vsum(vadd(vadd(a0, a1), vadd(a2, a3)));
}

/* out[r..r+MR, o..o+NW] for x rows r.. and weight rows w[0..NW) (w points at row o). */
static inline void tile_mr_nw_pf(float *out, const float *x, const float *w, int n, int d, int r, int o, const float *pf, int pf_rows) {
  vf acc[MR][NW];
#pragma GCC unroll 8
  for (int a = 0; a < MR; a++)
#pragma GCC unroll 8
    for (int b = 0; b < NW; b++) acc[a][b] = vzero();
  int i = 0;
  for (; i + VL <= n; i += VL) {
    vf wv[NW];
    for (int b = 0; b < pf_rows; b++) TM_PREFETCH(pf + (size_t)b * n + i);
#pragma GCC unroll 8
    for (int b = 0; b < NW; b++) {
      wv[b] = vload(w + (size_t)b * n + i);
      vkeep(wv[b]);
    }
#pragma GCC unroll 8
    for (int a = 0; a < MR; a++) {
      vf xv = vload(x + (size_t)(r + a) * n + i);
      vkeep(xv);
#pragma GCC unroll 8
      for (int b = 0; b < NW; b++) acc[a][b] = vfma(xv, wv[b], acc[a][b]);
    }
  }
  if (i < n) {
    const int t = n - i;
    vf wv[NW];
#pragma GCC unroll 8
    for (int b = 0; b < NW; b++) wv[b] = vload_n(w + (size_t)b * n + i, t);
#pragma GCC unroll 8
    for (int a = 0; a < MR; a++) {
      const vf xv = vload_n(x + (size_t)(r + a) * n + i, t);
#pragma GCC unroll 8
      for (int b = 0; b < NW; b++) acc[a][b] = vfma(xv, wv[b], acc[a][b]);
    }
  }
#if MR * NW == VL
  float sums[VL];
  vstore(sums, vsum_many(&acc[0][0]));
#pragma GCC unroll 8
  for (int a = 0; a < MR; a++)
#pragma GCC unroll 8
    for (int b = 0; b < NW; b++) out[(size_t)(r + a) * d + o + b] = sums[a * NW + b];
#else
#pragma GCC unroll 8
  for (int a = 0; a < MR; a++)
#pragma GCC unroll 8
    for (int b = 0; b < NW; b++) out[(size_t)(r + a) * d + o + b] = vsum(acc[a][b]);
#endif
}

static inline void tile_mr_nw(float *out, const float *x, const float *w, int n, int d, int r, int o) { tile_mr_nw_pf(out, x, w, n, d, r, o, NULL, 0); }

typedef struct {
  float *out;
  const float *x, *w;
  const int8_t *q;
  const float *scales;
  int gshift, rows, n, d;
  int ob, nrb;       /* weight rows per task, input-row blocks */
  const int16_t *xq; /* Q8_0 decode: activations as int16 per group of 32, and their scales */
  const float *sx;
} mm_ctx;

#ifndef MV_PF_BYTES
#define MV_PF_BYTES 3072
#endif
/* Decode streams one weight row at a time, and one core's hardware prefetcher alone keeps too few
   misses in flight: prefetching the row about MV_PF_BYTES ahead took a cold Q8_0 matvec from ≈ 10
   to ≈ 13 GB/s on one Zen 3 core (≈ 20 → 25 GB/s on two). Prefetches never fault or change results. */
static inline void prefetch_row(const void *row, size_t bytes) {
  for (size_t b = 0; b < bytes; b += 64) TM_PREFETCH((const char *)row + b);
}
/* Rows ahead to prefetch (0: none, MV_PF_BYTES 0 turns it off for tuning). */
static inline long rows_ahead(size_t row_bytes) { return MV_PF_BYTES == 0 ? 0 : row_bytes >= MV_PF_BYTES ? 1 : (long)(MV_PF_BYTES / row_bytes); }

/* Decode: tasks are weight rows; each is read once and dotted with every input row. */
static void rows_f32(void *p, long lo, long hi) {
  const mm_ctx *c = p;
  const long ahead = rows_ahead((size_t)c->n * sizeof(float));
  for (long o = lo; o < hi; o++) {
    const float *w = c->w + (size_t)o * c->n;
    if (ahead && o + ahead < c->d) prefetch_row(w + (size_t)ahead * c->n, (size_t)c->n * sizeof(float));
    for (int r = 0; r < c->rows; r++) c->out[(size_t)r * c->d + o] = dot_f32(c->x + (size_t)r * c->n, w, c->n);
  }
}

static void rows_q80(void *p, long lo, long hi) {
  const mm_ctx *c = p;
  const int groups = c->n >> c->gshift;
  for (long o = lo; o < hi; o++) {
    const int8_t *q = c->q + (size_t)o * c->n;
    const float *s = c->scales + (size_t)o * groups;
    for (int r = 0; r < c->rows; r++) c->out[(size_t)r * c->d + o] = dot_q80(c->x + (size_t)r * c->n, q, s, c->gshift, c->n);
  }
}

static void rows_q80_i16(void *p, long lo, long hi) {
  const mm_ctx *c = p;
  const int groups = c->n / 32;
  const long ahead = rows_ahead((size_t)c->n + (size_t)groups * sizeof(float));
  for (long o = lo; o < hi; o++) {
    const int8_t *q = c->q + (size_t)o * c->n;
    const float *s = c->scales + (size_t)o * groups;
    if (ahead && o + ahead < c->d) {
      prefetch_row(q + (size_t)ahead * c->n, (size_t)c->n);
      prefetch_row(s + (size_t)ahead * groups, (size_t)groups * sizeof(float));
    }
    for (int r = 0; r < c->rows; r++) c->out[(size_t)r * c->d + o] = tm_q80_dot_i16(c->xq + (size_t)r * c->n, c->sx + (size_t)r * groups, q, s, groups);
  }
}

/* Input rows [r0, r1) × weight rows [o0, o1), w pointing at weight row o0. */
static void gemm_tile(const mm_ctx *c, const float *w, int r0, int r1, int o0, int o1) {
  const int n = c->n, d = c->d;
  int r = r0;
  for (; r + MR <= r1; r += MR) {
    int o = o0;
    for (; o + NW <= o1; o += NW) tile_mr_nw(c->out, c->x, w + (size_t)(o - o0) * n, n, d, r, o);
    for (; o < o1; o++)
      for (int a = 0; a < MR; a++) c->out[(size_t)(r + a) * d + o] = dot_f32(c->x + (size_t)(r + a) * n, w + (size_t)(o - o0) * n, n);
  }
  for (; r < r1; r++)
    for (int o = o0; o < o1; o++) c->out[(size_t)r * d + o] = dot_f32(c->x + (size_t)r * n, w + (size_t)(o - o0) * n, n);
}

#ifndef SB_PD
#define SB_PD 2 /* small-batch kernel: weight blocks (NW rows) prefetched ahead */
#endif

/* Few input rows (MR..SMALL_ROWS): task g is the NW weight rows [g·NW, g·NW + NW), read once from
   memory and kept in L1 while every group of MR input rows runs the register tile over them; the
   block SB_PD ahead is prefetched meanwhile, so the weight stream overlaps the FMAs. Each element
   is computed exactly as gemm_tile computes it (same tiles, same remainders). */
static void small_batch_tasks(void *p, long lo, long hi) {
  const mm_ctx *c = p;
  const int n = c->n, d = c->d, rows = c->rows;
  for (long g = lo; g < hi; g++) {
    const int o0 = (int)g * NW;
    const float *w = c->w + (size_t)o0 * n;
    if (o0 + NW <= d) {
      /* The block SB_PD ahead: its NW rows are split over the MR-row groups, one line per row per k step. */
      const int pf = o0 + SB_PD * NW, pf_all = SB_PD ? min_i(NW, d - pf) : 0;
      const int groups = rows / MR, per = pf_all > 0 ? (pf_all + groups - 1) / groups : 0;
      int r = 0;
      for (int j = 0; r + MR <= rows; r += MR, j++) {
        const int b0 = min_i(j * per, pf_all > 0 ? pf_all : 0), nb = min_i(per, (pf_all > 0 ? pf_all : 0) - b0);
        tile_mr_nw_pf(c->out, c->x, w, n, d, r, o0, nb > 0 ? w + (size_t)(SB_PD * NW + b0) * n : NULL, nb > 0 ? nb : 0);
      }
      for (; r < rows; r++)
        for (int b = 0; b < NW; b++) c->out[(size_t)r * d + o0 + b] = dot_f32(c->x + (size_t)r * n, w + (size_t)b * n, n);
    } else {
      for (int r = 0; r < rows; r++)
        for (int o = o0; o < d; o++) c->out[(size_t)r * d + o] = dot_f32(c->x + (size_t)r * n, c->w + (size_t)o * n, n);
    }
  }
}

/* Prefill: tasks are (weight block, input-row block) tiles, weight-block major so a thread's consecutive tiles share the block. */
static void gemm_tasks(void *p, long lo, long hi) {
  const mm_ctx *c = p;
  const int n = c->n;
  long deq = -1; /* weight block now dequantized in scratch */
  float *buf = c->q ? tm_scratch(TM_SCRATCH_A, (size_t)c->ob * n * sizeof(float)) : NULL;
  for (long t = lo; t < hi; t++) {
    const int bi = (int)(t / c->nrb), ri = (int)(t % c->nrb);
    const int o0 = bi * c->ob, o1 = min_i(o0 + c->ob, c->d);
    const int r0 = ri * RB, r1 = min_i(r0 + RB, c->rows);
    const float *w;
    if (c->q) {
      if (deq != bi) {
        const int groups = n >> c->gshift;
        for (int o = o0; o < o1; o++) {
          const int8_t *q = c->q + (size_t)o * n;
          const float *s = c->scales + (size_t)o * groups;
          float *dst = buf + (size_t)(o - o0) * n;
          int i = 0;
          for (; i + VL <= n; i += VL) vstore(dst + i, q8_lanes(q, s, c->gshift, i, VL));
          if (i < n) vstore_n(dst + i, q8_lanes(q, s, c->gshift, i, n - i), n - i);
        }
        deq = bi;
      }
      w = buf;
    } else {
      w = c->w + (size_t)o0 * n;
    }
    gemm_tile(c, w, r0, r1, o0, o1);
  }
}

#ifndef SMALL_ROWS
#define SMALL_ROWS 32
#endif
#ifndef MV_SPLIT
#define MV_SPLIT 0 /* decode chunks per thread (1: one contiguous stream per thread; 0: tm_parallel's default of 4; 1 was not measurably faster, see bench/README.md "Tuning") */
#endif
#ifndef SB_SPLIT
#define SB_SPLIT 1
#endif
/* Chunk sizes (which thread computes an element never changes how it is computed). */
#define MV_CHUNK(count, threads) (MV_SPLIT ? (((count) + (long)MV_SPLIT * (threads) - 1) / ((long)MV_SPLIT * (threads))) : 0)
#define SB_CHUNK(count, threads) (SB_SPLIT ? (((count) + (long)SB_SPLIT * (threads) - 1) / ((long)SB_SPLIT * (threads))) : 0)

static void matmul(mm_ctx *c) {
  const double work = 2.0 * c->rows * c->n * c->d;
  const int threads = tm_team(work);
  if (c->rows < MR) {
    if (c->q && tm_q80_i16_applies(1 << c->gshift)) {
      const size_t nx = (size_t)c->rows * c->n, groups = nx / 32;
      int16_t *xq = tm_scratch(TM_SCRATCH_X, nx * sizeof(int16_t) + groups * sizeof(float));
      float *sx = (float *)(xq + nx);
      for (int r = 0; r < c->rows; r++) tm_q80_quantize_x(c->x + (size_t)r * c->n, c->n, xq + (size_t)r * c->n, sx + (size_t)r * (c->n / 32));
      c->xq = xq;
      c->sx = sx;
      tm_parallel_chunk(threads, c->d, MV_CHUNK(c->d, threads), rows_q80_i16, c);
      return;
    }
    tm_parallel_chunk(threads, c->d, MV_CHUNK(c->d, threads), c->q ? rows_q80 : rows_f32, c);
    return;
  }
  if (!c->q && c->rows <= SMALL_ROWS) {
    const long tasks = (c->d + NW - 1) / NW;
    tm_parallel_chunk(threads, tasks, SB_CHUNK(tasks, threads), small_batch_tasks, c);
    return;
  }
  /* Tile layout does not change which kernel computes an element (MR/NW groups stay aligned to 0),
     so the block size can follow the thread count for balance without changing results. */
  c->nrb = (c->rows + RB - 1) / RB;
  c->ob = 16 * NW; /* a multiple of NW at every halving (64, 32, 16 for NW 4; 48, 24, 12 for NW 3), so tiles stay aligned */
  while (c->ob > 4 * NW && (long)((c->d + c->ob - 1) / c->ob) * c->nrb < 4L * threads) c->ob /= 2;
  const long tasks = (long)((c->d + c->ob - 1) / c->ob) * c->nrb;
  tm_parallel(threads, tasks, gemm_tasks, c);
}

void tm_matmul_f32(float *out, const float *x, const float *w, int rows, int n, int d) {
  mm_ctx c = {.out = out, .x = x, .w = w, .rows = rows, .n = n, .d = d};
  matmul(&c);
}

void tm_matmul_q80(float *out, const float *x, const int8_t *q, const float *scales, int gs, int rows, int n, int d) {
  mm_ctx c = {.out = out, .x = x, .q = q, .scales = scales, .gshift = __builtin_ctz((unsigned)gs), .rows = rows, .n = n, .d = d};
  matmul(&c);
}
