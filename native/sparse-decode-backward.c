/*
 * The decoder half of a TopK or ReLU SAE training step over its pick list (SaeKernels.sparseDecodeBackward),
 * in one pass instead of seven kernels. Separately, ReLU at the picks, the decode x̂ = f·W_dec + b_dec,
 * the squared error with its gradient, d loss / d pre at the picks, b_enc's gradient and the two
 * weight-gradient scatters each streamed the batch's [rows, width] arrays through memory again (and
 * the scatters sorted the picks twice); together they were half of a 64 × 1024 step.
 *
 * The batch is cut into TOKEN_CHUNKS = 2 halves, one task each (four ran slower: more partial sums). Per token: ReLU its picks, decode its row,
 * the error e = x̂ − x, d loss / d x̂ = 2e / batch, the token's Σ e², and d loss / d pre =
 * (d loss / d x̂)·W_dec_j at each active pick (the picked W_dec rows still in L1 from the decode).
 * Then the half's active picks are sorted by latent (a counting sort) and each latent's gradient
 * rows are summed in registers over its picks (tm_scatter_row), into the outputs for the first half
 * and into partial sums for the second, which are added at the end. Splitting by latents instead
 * (each thread owning a range of gradient rows, reading every token) ran 1.7× slower: half the
 * token rows it reads were just written by the other core, and each thread scanned all the picks.
 *
 * Every output element is computed in an order fixed by the picks and the halves (the error sum adds
 * the tokens' sums in token order on the calling thread), so results do not depend on the thread
 * count; with more than TOKEN_CHUNKS threads the rest wait.
 */
#include "simd.h"
#include "tinymorph.h"

/* Columns of a row held in registers at once. */
#define PANEL (4 * VL)
#define TOKEN_CHUNKS 2

typedef struct {
  const tm_sparse_decode *s;
  double *sse;    /* [rows] each token's Σ e² */
  int32_t *fired; /* [rows] each token's active picks */
  int32_t *used;  /* [rows] past each token's last active pick */
  /* Chunk c ≥ 1's sums at part + (c − 1)·part_stride floats: [d_sae, width] of W_dec's gradient and
     of the transposed W_enc's, [d_sae] each of b_enc's gradient, the activation sums and (int32) the
     firing counts; added to the outputs at the end. */
  float *part;
  size_t part_stride;
} sdb_ctx;

/* Row r of x̂ (bias added after the picks, as gatherRows then addRowVector), its error's gradient,
   and the returned Σ e². */
static float decode_row(const tm_sparse_decode *s, long r, const float *f, const int32_t *idx, int k) {
  const int w = s->width;
  const vf two_over_batch = vset1((float)(2.0 / s->batch));
  float *out = s->out + (size_t)r * w, *d_out = s->d_out + (size_t)r * w;
  const float *x = s->x + (size_t)r * w;
  vf sq = vzero();
  for (int c0 = 0; c0 < w; c0 += PANEL) {
    const int cols = w - c0 < PANEL ? w - c0 : PANEL;
    vf acc[4] = {vzero(), vzero(), vzero(), vzero()};
    for (int j = 0; j < k; j++) {
      if (f[j] == 0.0f) continue;
      const float *t = s->w_dec + (size_t)idx[j] * w + c0;
      const vf fv = vset1(f[j]);
#pragma GCC unroll 4
      for (int v = 0; v < 4; v++) acc[v] = vfma(fv, vload_n(t + v * VL, clamp_lanes(cols - v * VL)), acc[v]);
    }
#pragma GCC unroll 4
    for (int v = 0; v < 4; v++) {
      const int lanes = clamp_lanes(cols - v * VL), at = c0 + v * VL;
      const vf o = vadd(acc[v], vload_n(s->b_dec + at, lanes)); /* lanes past the row: 0 − 0 */
      vstore_n(out + at, o, lanes);
      const vf e = vsub(o, vload_n(x + at, lanes));
      sq = vfma(e, e, sq);
      vstore_n(d_out + at, vmul(e, two_over_batch), lanes);
    }
  }
  return vsum(sq);
}

/* d_pre[j] = d_out · W_dec[idx[j]] where f[j] ≠ 0, else 0: VL picks at a time, each pick's products
   summed lane-wise into one vector and the VL vectors reduced together (vsum_many), where one
   horizontal reduction per pick cost as much as its multiply-adds; inactive picks are computed too
   and masked (a branch per pick cost more). A row of width ≤ PANEL stays in registers. */
static void pick_dots(const tm_sparse_decode *s, const float *d_out, const float *f, const int32_t *idx, float *d_pre, int k) {
  const int w = s->width;
  if (w <= PANEL) {
    const int l0 = clamp_lanes(w), l1 = clamp_lanes(w - VL), l2 = clamp_lanes(w - 2 * VL), l3 = clamp_lanes(w - 3 * VL);
    const vf d0 = vload_n(d_out, l0), d1 = vload_n(d_out + VL, l1), d2 = vload_n(d_out + 2 * VL, l2), d3 = vload_n(d_out + 3 * VL, l3);
    for (int j0 = 0; j0 < k; j0 += VL) {
      const int n = k - j0 < VL ? k - j0 : VL;
      vf part[VL];
      for (int j = 0; j < VL; j++) {
        const float *t = s->w_dec + (size_t)idx[j0 + (j < n ? j : 0)] * w;
        part[j] = vfma(d3, vload_n(t + 3 * VL, l3), vfma(d2, vload_n(t + 2 * VL, l2), vfma(d1, vload_n(t + VL, l1), vmul(d0, vload_n(t, l0)))));
      }
      vstore_n(d_pre + j0, vkeep_nonzero(vsum_many(part), vload_n(f + j0, n)), n);
    }
    return;
  }
  for (int j0 = 0; j0 < k; j0 += VL) {
    const int n = k - j0 < VL ? k - j0 : VL;
    vf part[VL];
    for (int j = 0; j < VL; j++) {
      const float *t = s->w_dec + (size_t)idx[j0 + (j < n ? j : 0)] * w;
      vf acc = vzero();
      int i = 0;
      for (; i + VL <= w; i += VL) acc = vfma(vload(d_out + i), vload(t + i), acc);
      if (i < w) acc = vfma(vload_n(d_out + i, w - i), vload_n(t + i, w - i), acc);
      part[j] = acc;
    }
    vstore_n(d_pre + j0, vkeep_nonzero(vsum_many(part), vload_n(f + j0, n)), n);
  }
}

/* Task: one chunk of tokens, decoded and then scattered into its gradients. */
static void decode_chunk(void *p, long lo, long hi) {
  const sdb_ctx *c = p;
  const tm_sparse_decode *s = c->s;
  const int k = s->k, w = s->width, n = s->d_sae;
  for (long ch = lo; ch < hi; ch++) {
    const long t0 = ch * s->rows / TOKEN_CHUNKS, t1 = (ch + 1) * s->rows / TOKEN_CHUNKS;
    for (long r = t0; r < t1; r++) {
      float *f = s->act + (size_t)r * k;
      const int32_t *idx = s->idx + (size_t)r * k;
      int fired = 0, used = 0; /* used: past the last active pick (ReLU lists pad their rows at the end) */
      for (int j = 0; j < k; j++) {
        const int on = f[j] > 0.0f; /* false for NaN, as reluPicks */
        f[j] = on ? f[j] : 0.0f;
        fired += on;
        used = on ? j + 1 : used;
      }
      c->sse[r] = decode_row(s, r, f, idx, used);
      c->fired[r] = fired;
      c->used[r] = used;
      float *d_pre = s->d_pre + (size_t)r * k;
      pick_dots(s, s->d_out + (size_t)r * w, f, idx, d_pre, used);
      memset(d_pre + used, 0, (size_t)(k - used) * sizeof(float));
      if (s->d_pre_addend)
        for (int j = 0; j < used; j++) d_pre[j] += f[j] != 0.0f ? s->d_pre_addend[idx[j]] : 0.0f;
    }
    /* Counting sort of the chunk's active picks by latent (stable: each latent's in pick order).
       Nearly every TopK pick is active, so the test per pick predicts well. */
    const size_t q0 = (size_t)t0 * k, q1 = (size_t)t1 * k;
    int32_t *start = tm_scratch(TM_SCRATCH_A, ((size_t)n + 1 + 3 * (q1 - q0)) * sizeof(int32_t));
    int32_t *token = start + n + 1;
    /* Each pick's f and d loss / d pre in sorted order: the walk then reads them in sequence. */
    float *sorted_act = (float *)(token + (q1 - q0)), *sorted_d_pre = sorted_act + (q1 - q0);
    memset(start, 0, ((size_t)n + 1) * sizeof(int32_t));
    /* Rows up to their last active pick only: a padded ReLU list's zeros (index 0) would chain
       read-modify-writes of one counter. */
    for (long r = t0; r < t1; r++)
      for (size_t q = (size_t)r * k; q < (size_t)r * k + c->used[r]; q++) start[s->idx[q] + 1] += s->act[q] != 0.0f;
    for (int j = 0; j < n; j++) start[j + 1] += start[j];
    for (long r = t0; r < t1; r++)
      for (int j = 0; j < c->used[r]; j++) {
        const size_t q = (size_t)r * k + j;
        if (s->act[q] == 0.0f) continue;
        const int32_t at = start[s->idx[q]]++;
        sorted_act[at] = s->act[q];
        sorted_d_pre[at] = s->d_pre[q];
        token[at] = (int32_t)r;
      }
    /* start[j] is now the end of latent j's picks. */
    const size_t cells = (size_t)n * w;
    float *part = c->part + (size_t)(ch - 1) * c->part_stride;
    float *g_dec = ch == 0 ? s->grad_dec : part, *g_enc = ch == 0 ? s->grad_enc_t : part + cells, *g_bias = ch == 0 ? s->grad_bias : part + 2 * cells;
    float *act_sums = !s->act_sums ? NULL : ch == 0 ? s->act_sums : part + 2 * cells + n;
    int32_t *counts = ch == 0 ? s->counts : (int32_t *)(part + 2 * cells + 2 * n);
    if (ch != 0) memset(counts, 0, (size_t)n * sizeof(int32_t));
    memset(g_dec, 0, (size_t)n * w * sizeof(float));
    memset(g_enc, 0, (size_t)n * w * sizeof(float));
    /* The two gradients in passes of their own: walking both at once kept the half's two
       [rows, width] inputs, both gradients and the sorted lists live, more than L2 holds. */
    for (long j = 0, e0 = 0; j < n; e0 = start[j++]) {
      tm_scatter_row(g_dec + (size_t)j * w, s->d_out, sorted_act, token, e0, start[j], w);
      if (act_sums) {
        float sum = 0.0f;
        for (long e = e0; e < start[j]; e++) sum += sorted_act[e];
        act_sums[j] = sum;
      }
    }
    for (long j = 0, e0 = 0; j < n; e0 = start[j++]) {
      const long e1 = start[j];
      float sum = 0.0f; /* float adds in pick order, as scatterAddPicks */
      for (long e = e0; e < e1; e++) sum += sorted_d_pre[e];
      g_bias[j] = sum;
      counts[j] += (int32_t)(e1 - e0);
      tm_scatter_row(g_enc + (size_t)j * w, s->sae_in, sorted_d_pre, token, e0, e1, w);
    }
  }
}

/* Task: latent rows [lo, hi) of the outputs += the other chunks' partial sums, in chunk order. */
static void add_partials(void *p, long lo, long hi) {
  const sdb_ctx *c = p;
  const tm_sparse_decode *s = c->s;
  const size_t w = (size_t)s->width, n = (size_t)s->d_sae, cells = n * w;
  for (int ch = 1; ch < TOKEN_CHUNKS; ch++) {
    const float *part = c->part + (size_t)(ch - 1) * c->part_stride;
    const int32_t *counts = (const int32_t *)(part + 2 * cells + 2 * n);
    for (size_t i = (size_t)lo * w; i < (size_t)hi * w; i++) {
      s->grad_dec[i] += part[i];
      s->grad_enc_t[i] += part[cells + i];
    }
    for (long j = lo; j < hi; j++) {
      s->grad_bias[j] += part[2 * cells + j];
      if (s->act_sums) s->act_sums[j] += part[2 * cells + n + j];
      s->counts[j] += counts[j];
    }
  }
}

double tm_sparse_decode_backward(const tm_sparse_decode *s, long *active) {
  *active = 0;
  if (s->rows <= 0 || s->d_sae <= 0) return 0;
  const size_t n = (size_t)s->d_sae, cells = n * (size_t)s->width;
  /* The per-token sums and the partial gradients live in the calling thread's scratch (the tasks
     use only TM_SCRATCH_A of their own). */
  double *sse = tm_scratch(TM_SCRATCH_X, (size_t)s->rows * (sizeof(double) + 2 * sizeof(int32_t)));
  const size_t stride = 2 * cells + 3 * n;
  sdb_ctx c = {.s = s, .sse = sse, .fired = (int32_t *)(sse + s->rows), .used = (int32_t *)(sse + s->rows) + s->rows, .part = tm_scratch(TM_SCRATCH_B, (TOKEN_CHUNKS - 1) * stride * sizeof(float)),
               .part_stride = stride};
  const double work = 8.0 * s->rows * s->k * s->width;
  tm_parallel(tm_team(work), TOKEN_CHUNKS, decode_chunk, &c);
  tm_parallel(tm_team(2.0 * cells), s->d_sae, add_partials, &c);
  double total = 0;
  for (long r = 0; r < s->rows; r++) {
    total += sse[r];
    *active += c.fired[r];
  }
  return total;
}
