/*
 * tinymorph's native kernels: the contract of src/tensor/model-kernels.ts and sae-kernels.ts in C.
 * Every kernel trusts its shapes (addon.c checks them against the array lengths before calling),
 * allocates nothing per call beyond per-thread scratch that grows once, and computes each output element on one thread
 * in an order that does not depend on the thread count, so results are bit-identical for 1 and N
 * threads.
 */
#ifndef TINYMORPH_H
#define TINYMORPH_H

#include <stddef.h>
#include <stdint.h>

/* ---- threads (threads.c) ---- */

/* A range [lo, hi) of a call's independent tasks, run on one thread. */
typedef void (*tm_range_fn)(void *ctx, long lo, long hi);

void tm_set_threads(int n);
int tm_get_threads(void);
/* 1 when kernels can run on a pool of threads (pthreads), 0 when they always run on the caller. */
int tm_has_pool(void);
/* Calls below this many FLOPs (or FLOP-equivalents) run on the calling thread alone. */
void tm_set_parallel_min_work(double work);
double tm_get_parallel_min_work(void);
/* Threads for a call of `work` FLOPs: 1 below the threshold, else the configured count. */
int tm_team(double work);
/* Splits tasks [0, count) into one contiguous range per thread (no more threads than tasks). */
void tm_parallel(int threads, long count, tm_range_fn fn, void *ctx);
/* The same with chunks of `chunk` tasks claimed in order (0: the default of four per thread); a
   chunk of ⌈count / threads⌉ gives each thread one contiguous range (one long memory stream). */
void tm_parallel_chunk(int threads, long count, long chunk, tm_range_fn fn, void *ctx);
/* A 64-byte aligned buffer of at least `bytes`, private to the calling thread and kept between calls. */
void *tm_scratch(int slot, size_t bytes);
enum { TM_SCRATCH_A, TM_SCRATCH_B, TM_SCRATCH_SCORES, TM_SCRATCH_X, TM_SCRATCH_SEGMENTS, TM_SCRATCH_PACKED, TM_SCRATCH_SLOTS };

/* ---- kernels ---- */

/* out[r,o] = Σ_i x[r,i]·w[o,i]; x [rows, n], w [d, n], out [rows, d]. */
void tm_matmul_f32(float *out, const float *x, const float *w, int rows, int n, int d);
/* The same with Q8_0 weights: w[o,i] = q[o,i]·scales[(o·n + i) / gs]. */
void tm_matmul_q80(float *out, const float *x, const int8_t *q, const float *scales, int gs, int rows, int n, int d);
/* out [m, n] = a [m, k] · b [k, n]. */
void tm_matmul_nn(float *out, const float *a, const float *b, int m, int k, int n);
/* out [m, n] = a [k, m]ᵀ · b [k, n]. */
void tm_matmul_tn(float *out, const float *a, const float *b, int m, int k, int n);

/* Q8_0 decode with int16 activations (q80-decode.c): used when the group size is 32 on AVX2/AVX-512. */
int tm_q80_i16_applies(int group_size);
void tm_q80_quantize_x(const float *x, int n, int16_t *xq, float *sx);
float tm_q80_dot_i16(const int16_t *xq, const float *sx, const int8_t *q, const float *sw, int groups);

void tm_rmsnorm(float *out, const float *x, const float *weight, int rows, int size, float eps);
void tm_rope(float *x, const int32_t *positions, int rows, int width, int head_size, const float *cos_sin);
void tm_swiglu(float *gate, const float *up, long len);
void tm_add(float *x, const float *y, long len);
void tm_softmax(float *x, long len);
/* out [cols, rows] = aᵀ for a [rows, cols]. */
void tm_transpose(float *out, const float *a, int rows, int cols);
void tm_topk_rows(int32_t *out_idx, float *out_val, const float *x, int rows, int n, int k);
/* One row of tm_topk_rows on the calling thread (uses TM_SCRATCH_A). */
void tm_topk_row(const float *x, int n, int k, int32_t *idx, float *val);
/* Dense NN product pieces for fused kernels (gemm.c): b [k, n] packed once, then blocks of rows of
   a · b on the calling thread, each element bit for bit as tm_matmul_nn's dense route computes it
   (tm_nn_rows uses TM_SCRATCH_A). */
int tm_nn_row_tile(void); /* rows of tm_nn_rows' register tile: blocks of a multiple of it waste no FMAs */
size_t tm_nn_packed_floats(int k, int n);
void tm_nn_pack(float *bp, const float *b, int k, int n);
void tm_nn_rows(float *out, const float *a, const float *bp, int rows, int k, int n);
/* TopK SAE encoder (encode-topk.c): see Backend.encodeTopK. aux_cols may be NULL (n_aux 0). */
void tm_encode_topk(int32_t *idx, float *pre, const float *x, const float *w, const float *bias, const float *scale, int rows, int d_in, int d_sae, int k,
                    const int32_t *aux_cols, int n_aux, int aux_k, int32_t *aux_idx, float *aux_pre);

/* ReLU SAE encoder (encode-topk.c): see Backend.encodeRelu; idx and val need rows·d_sae room. Returns k. */
int tm_encode_relu(int32_t *idx, float *val, const float *x, const float *w, const float *bias, int rows, int d_in, int d_sae);
/* Sparse row products over an index list [rows, k] (sparse-rows.c). */
void tm_gather_rows(float *out, const int32_t *idx, const float *val, int rows, int k, const float *table, int width);
void tm_gathered_dots(float *out, const float *a, const int32_t *idx, int rows, int k, const float *table, int width);
/* The positive entries of each row of x [rows, n] at stride k = the busiest row's count (returned), zero-padded. */
int tm_positive_entries(int32_t *idx, float *val, const float *x, int rows, int n);
/* One row's positive entries of x [n] into idx/val in index order; returns how many. */
int tm_positive_row(const float *x, int n, int32_t *idx, float *val);
/* A scatter of one index list into one or two tables: table[idx,:] += val·a[row,:]; with table2
   (else NULL, as val2 and a2), table2[idx,:] += val2·a2[row,:] from the same sort. Picks where val
   and val2 are both 0 are skipped. */
typedef struct {
  float *table, *table2;
  const int32_t *idx;
  const float *val, *a, *val2, *a2;
  int table_rows, rows, k, width;
} tm_scatter_job;
/* One table row t += Σ_{e0 ≤ e < e1} val[e] · a[token[e], :] (width w), in that order. */
void tm_scatter_row(float *t, const float *a, const float *val, const int32_t *token, long e0, long e1, int w);
void tm_scatter(const tm_scatter_job *job);
void tm_add_row_vector(float *x, const float *v, int rows, int n);
/* Backend.sparseDecodeBackward (sparse-decode-backward.c): act is ReLU'd in place; the gradients
   (grad_dec, grad_enc_t [d_sae, width], grad_bias [d_sae]) are overwritten, counts incremented.
   Returns Σ (x̂ − x)² and writes the number of active picks to *active. */
typedef struct {
  float *out, *d_out, *d_pre, *grad_dec, *grad_enc_t, *grad_bias, *act;
  float *act_sums; /* [d_sae] Σ act per latent, or NULL */
  int32_t *counts;
  const int32_t *idx;
  const float *x, *sae_in, *w_dec, *b_dec;
  const float *d_pre_addend; /* [d_sae] added to d_pre at each active pick, or NULL */
  int rows, k, width, d_sae;
  double batch;
} tm_sparse_decode;
double tm_sparse_decode_backward(const tm_sparse_decode *s, long *active);

/* SAE training's element-wise passes (training-passes.c), bit for bit as the reference backend. */
void tm_scale_into(float *out, const float *x, double s, long len);
void tm_sub_row_vector(float *out, const float *x, const float *v, int rows, int n);
double tm_squared_error(float *d_out, const float *out, const float *x, long len, double batch);
int tm_relu_picks(float *val, const int32_t *idx, long len, int32_t *counts);
void tm_scatter_add_picks(float *out, const int32_t *idx, float *val, long len, const float *gate);
void tm_column_sums(float *out, const float *m, int rows, int width);
/* scratch: tm_centered_scratch(rows, width) doubles. */
size_t tm_centered_scratch(int rows, int width);
double tm_centered_squares(const float *x, int rows, int width, double *scratch);
typedef struct {
  double beta1, beta2, eps, step_size, sqrt_c2;
} tm_adam_step;
void tm_adam_update(float *p, const float *g, float *m, float *v, long len, const tm_adam_step *h);

typedef struct {
  int token_offset, count, start_pos, n_heads, n_kv_heads, head_size;
} tm_attn_args;

void tm_attention(float *out, const float *q, const float *keys, const float *values, const tm_attn_args *a);
/* One sequence of a batch: its query rows in q/out, its positions, its row of a [batch, capacity, kvDim] cache. */
typedef struct {
  int token_offset, count, start_pos, cache_row;
} tm_attn_seg;
void tm_attention_rows(float *out, const float *q, const float *keys, const float *values, const tm_attn_seg *segs, int n_seg, int capacity, int n_heads, int n_kv_heads, int head_size);
void tm_attention_pattern(float *pattern, const float *q, const float *keys, const tm_attn_args *a, int stride);
void tm_attention_apply(float *out, const float *pattern, const float *values, const tm_attn_args *a, int stride);

#endif
