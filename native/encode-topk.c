/*
 * The TopK SAE encoder in one pass (and the ReLU one, tm_encode_relu: the same blocks, each row's
 * positive entries listed instead of ranked) (Gao et al. 2024 §5.1 keep the encoder's output off memory the
 * same way): for a block of tokens, pre = x·W_enc + b_enc over every latent is computed into a
 * per-thread buffer that stays in L2, the scores (pre, or pre ⊙ scale) are ranked there, and only each
 * token's k picks and their pre values leave. The separate route — matmulNN writing the
 * [rows, d_sae] grid, addRowVector, topKRows reading it back, and the loss looking up pre at 131k
 * random picks — spent most of a 64 × 1024 training step moving that grid through DRAM.
 *
 * Every value is computed as that route computes it (tm_nn_rows is tm_matmul_nn's dense route
 * element for element; then one fp32 add, one fp32 multiply, tm_topk_row), so the two agree bit for
 * bit. AuxK's ranking over the dead latents' columns (aux_cols, ascending) is done from the same
 * buffer.
 */
#include "simd.h"
#include "tinymorph.h"

/* Tokens per block: six register tiles of rows (36 on AVX2, 48 on AVX-512: 144–192 KB of pre at
   d_sae 1024, beside the packed W_enc in L2). */
#define TILES_PER_BLOCK 6

typedef struct {
  int32_t *idx, *aux_idx;
  float *pre, *aux_pre;
  const float *x, *wp, *bias, *scale;
  const int32_t *aux_cols;
  int rows, d_in, d_sae, k, n_aux, aux_k, eb;
  /* encodeRelu (NULL for TopK): each row's count of positive entries and where its list starts in
     the staging lists (block t's rows packed one after another from t·eb·d_sae). */
  int32_t *counts, *staged_idx;
  size_t *starts;
  float *staged_val;
} enc_ctx;

/* Picks of one token from its scores h: idx and pre there (val is written with the scores first). */
static void pick(const float *h, const float *pre, int n, int k, const int32_t *cols, int32_t *idx, float *val) {
  tm_topk_row(h, n, k, idx, val);
  for (int j = 0; j < k; j++) {
    if (cols) idx[j] = cols[idx[j]];
    val[j] = pre[idx[j]];
  }
}

static void encode_blocks(void *p, long lo, long hi) {
  const enc_ctx *c = p;
  const int n = c->d_sae, eb = c->eb;
  for (long t = lo; t < hi; t++) {
    const int r0 = (int)t * eb, nr = c->rows - r0 < eb ? c->rows - r0 : eb;
    size_t staged = (size_t)t * eb * n; /* encodeRelu: the next free staging slot */
    float *pre = tm_scratch(TM_SCRATCH_B, (size_t)eb * n * sizeof(float));
    float *h = c->scale ? tm_scratch(TM_SCRATCH_SCORES, (size_t)n * sizeof(float)) : NULL;
    float *hd = c->n_aux ? tm_scratch(TM_SCRATCH_X, (size_t)c->n_aux * sizeof(float)) : NULL;
    tm_nn_rows(pre, c->x + (size_t)r0 * c->d_in, c->wp, nr, c->d_in, n);
    for (int r = 0; r < nr; r++) {
      float *row = pre + (size_t)r * n;
      int i = 0;
      for (; i + VL <= n; i += VL) vstore(row + i, vadd(vload(row + i), vload(c->bias + i)));
      if (i < n) vstore_n(row + i, vadd(vload_n(row + i, n - i), vload_n(c->bias + i, n - i)), n - i);
      const size_t at = (size_t)(r0 + r);
      if (c->counts) {
        /* ReLU: the row's positive entries, in index order, packed after the block's earlier rows
           (a list at each row's own d_sae-strided place cost a cache miss per row, twice). */
        c->starts[at] = staged;
        c->counts[at] = tm_positive_row(row, n, c->staged_idx + staged, c->staged_val + staged);
        staged += c->counts[at];
        continue;
      }
      const float *scores = row;
      if (h) {
        for (i = 0; i + VL <= n; i += VL) vstore(h + i, vmul(vload(row + i), vload(c->scale + i)));
        if (i < n) vstore_n(h + i, vmul(vload_n(row + i, n - i), vload_n(c->scale + i, n - i)), n - i);
        scores = h;
      }
      pick(scores, row, n, c->k, NULL, c->idx + at * c->k, c->pre + at * c->k);
      if (hd) {
        for (int q = 0; q < c->n_aux; q++) hd[q] = scores[c->aux_cols[q]];
        pick(hd, row, c->n_aux, c->aux_k, c->aux_cols, c->aux_idx + at * c->aux_k, c->aux_pre + at * c->aux_k);
      }
    }
  }
}

/* W_enc packed once per call on the calling thread (d_in·d_sae floats; callers keep these routes for
   encoders small enough to stay in cache), then read by every block. */
static void run_blocks(enc_ctx *c, const float *w) {
  float *wp = tm_scratch(TM_SCRATCH_PACKED, tm_nn_packed_floats(c->d_in, c->d_sae) * sizeof(float));
  tm_nn_pack(wp, w, c->d_in, c->d_sae);
  c->wp = wp;
  c->eb = TILES_PER_BLOCK * tm_nn_row_tile();
  tm_parallel(tm_team(2.0 * c->rows * c->d_in * c->d_sae), (c->rows + c->eb - 1) / c->eb, encode_blocks, c);
}

void tm_encode_topk(int32_t *idx, float *pre, const float *x, const float *w, const float *bias, const float *scale, int rows, int d_in, int d_sae, int k,
                    const int32_t *aux_cols, int n_aux, int aux_k, int32_t *aux_idx, float *aux_pre) {
  if (rows <= 0 || k <= 0) return;
  enc_ctx c = {.idx = idx, .aux_idx = aux_idx, .pre = pre, .aux_pre = aux_pre, .x = x, .bias = bias, .scale = scale, .aux_cols = aux_k > 0 ? aux_cols : NULL,
               .rows = rows, .d_in = d_in, .d_sae = d_sae, .k = k, .n_aux = aux_k > 0 ? n_aux : 0, .aux_k = aux_k};
  run_blocks(&c, w);
}

/* Rows [lo, hi) from the staging lists into idx/val at stride k, zero-padded. */
static void place_rows(void *p, long lo, long hi) {
  const enc_ctx *c = p;
  for (long r = lo; r < hi; r++) {
    const int m = c->counts[r];
    int32_t *idx = c->idx + (size_t)r * c->k;
    float *val = c->pre + (size_t)r * c->k;
    memcpy(idx, c->staged_idx + c->starts[r], (size_t)m * sizeof(int32_t));
    memcpy(val, c->staged_val + c->starts[r], (size_t)m * sizeof(float));
    memset(idx + m, 0, (size_t)(c->k - m) * sizeof(int32_t));
    memset(val + m, 0, (size_t)(c->k - m) * sizeof(float));
  }
}

int tm_encode_relu(int32_t *idx, float *val, const float *x, const float *w, const float *bias, int rows, int d_in, int d_sae) {
  if (rows <= 0 || d_sae <= 0) return 1;
  /* Staging room for every entry of every block (rows·d_sae, as the caller's); only the pages the
     lists touch are ever committed. */
  const size_t cells = (size_t)rows * d_sae;
  size_t *starts = tm_scratch(TM_SCRATCH_X, (size_t)rows * (sizeof(size_t) + sizeof(int32_t)));
  int32_t *staged = tm_scratch(TM_SCRATCH_SEGMENTS, cells * (sizeof(int32_t) + sizeof(float)));
  enc_ctx c = {.idx = idx, .pre = val, .x = x, .bias = bias, .rows = rows, .d_in = d_in, .d_sae = d_sae, .k = 1, .counts = (int32_t *)(starts + rows),
               .starts = starts, .staged_idx = staged, .staged_val = (float *)(staged + cells)};
  run_blocks(&c, w);
  for (int r = 0; r < rows; r++) c.k = c.counts[r] > c.k ? c.counts[r] : c.k;
  tm_parallel(tm_team((double)rows * c.k), rows, place_rows, &c);
  return c.k;
}
