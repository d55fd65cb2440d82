/*
 * N-API glue (plain C, NAPI_VERSION 8): each export checks its arguments — array kinds, integer
 * shapes, and that every array holds what the shapes say will be read or written — and then runs
 * the kernel on the TypedArrays' own memory (no copies). A failed check throws the error class
 * given to setErrorClass (tinymorph's ShapeError) with the values in its message.
 */
#include <math.h>
#include <node_api.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "map-file.h"
#include "simd.h"
#include "tinymorph.h"

#define MAX_ARGS 20

typedef struct {
  napi_env env;
  const char *fn;
  napi_value argv[MAX_ARGS];
  size_t argc;
  int failed;
} call;

/* The ShapeError constructor, per addon instance (main thread or worker). */
static napi_ref *error_class(napi_env env) {
  napi_ref *ref = NULL;
  napi_get_instance_data(env, (void **)&ref);
  return ref;
}

static int fail(call *c, const char *fmt, ...) {
  if (c->failed) return 0;
  c->failed = 1;
  char msg[512];
  int at = snprintf(msg, sizeof msg, "%s: ", c->fn);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg + at, sizeof msg - (size_t)at, fmt, ap);
  va_end(ap);
  napi_ref *ref = error_class(c->env);
  napi_value ctor, text, err;
  if (ref && *ref && napi_get_reference_value(c->env, *ref, &ctor) == napi_ok && ctor &&
      napi_create_string_utf8(c->env, msg, NAPI_AUTO_LENGTH, &text) == napi_ok && napi_new_instance(c->env, ctor, 1, &text, &err) == napi_ok) {
    napi_throw(c->env, err);
  } else {
    napi_throw_range_error(c->env, "shape", msg);
  }
  return 0;
}

static int start(call *c, napi_env env, napi_callback_info info, const char *fn, size_t want) {
  c->env = env;
  c->fn = fn;
  c->failed = 0;
  c->argc = MAX_ARGS;
  if (napi_get_cb_info(env, info, &c->argc, c->argv, NULL, NULL) != napi_ok) return fail(c, "cannot read arguments");
  if (c->argc < want) return fail(c, "expected %zu arguments, got %zu", want, c->argc);
  return 1;
}

static const char *array_kind(napi_typedarray_type t) {
  static const char *names[] = {"Int8Array",   "Uint8Array",   "Uint8ClampedArray", "Int16Array",    "Uint16Array",   "Int32Array",
                                "Uint32Array", "Float32Array", "Float64Array",      "BigInt64Array", "BigUint64Array"};
  return (unsigned)t < sizeof names / sizeof *names ? names[t] : "TypedArray";
}

/* Argument i as a TypedArray of `want` kind; its element count in *len. */
static void *arg_array(call *c, int i, const char *name, napi_typedarray_type want, size_t *len) {
  if (c->failed) return NULL;
  napi_typedarray_type t;
  void *data = NULL;
  napi_value ab;
  size_t off;
  bool is = false;
  napi_is_typedarray(c->env, c->argv[i], &is);
  if (!is || napi_get_typedarray_info(c->env, c->argv[i], &t, len, &data, &ab, &off) != napi_ok) {
    fail(c, "%s must be a %s", name, array_kind(want));
    return NULL;
  }
  if (t != want) {
    fail(c, "%s must be a %s, got %s", name, array_kind(want), array_kind(t));
    return NULL;
  }
  return data;
}

#define F32(i, name, len) ((float *)arg_array(&c, i, name, napi_float32_array, len))

/* Argument i as arg_array, or NULL with *len 0 when it is null or undefined. */
static void *arg_array_or_null(call *c, int i, const char *name, napi_typedarray_type want, size_t *len) {
  napi_valuetype t;
  *len = 0;
  if (c->failed || napi_typeof(c->env, c->argv[i], &t) != napi_ok || t == napi_null || t == napi_undefined) return NULL;
  return arg_array(c, i, name, want, len);
}

/* Argument i as an integer in [0, 2^31). */
static int arg_int(call *c, int i, const char *name) {
  if (c->failed) return 0;
  double v;
  if (napi_get_value_double(c->env, c->argv[i], &v) != napi_ok) return fail(c, "%s must be a number", name);
  if (!(v >= 0 && v <= 2147483647.0 && v == floor(v))) return fail(c, "%s must be an integer in 0..2147483647, got %g", name, v);
  return (int)v;
}

static double arg_num(call *c, int i, const char *name) {
  if (c->failed) return 0;
  double v;
  if (napi_get_value_double(c->env, c->argv[i], &v) != napi_ok) return fail(c, "%s must be a number", name);
  return v;
}

/* `have` elements of `name` must cover `need` (described by `what`, e.g. "rows·n = 3·40"). */
static void need(call *c, const char *name, size_t have, double need, const char *what, ...) {
  if (c->failed || (double)have >= need) return;
  char desc[160];
  va_list ap;
  va_start(ap, what);
  vsnprintf(desc, sizeof desc, what, ap);
  va_end(ap);
  fail(c, "%s has %zu elements, needs %s = %.0f", name, have, desc, need);
}

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static napi_value number(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

/* ---- matmul ---- */

static napi_value MatmulF32(napi_env env, napi_callback_info info) {
  call c;
  size_t lo, lx, lw;
  if (!start(&c, env, info, "matmul", 6)) return NULL;
  float *out = F32(0, "out", &lo), *x = F32(1, "x", &lx), *w = F32(2, "w", &lw);
  const int rows = arg_int(&c, 3, "rows"), n = arg_int(&c, 4, "n"), d = arg_int(&c, 5, "d");
  need(&c, "x", lx, (double)rows * n, "rows·n = %d·%d", rows, n);
  need(&c, "w", lw, (double)d * n, "d·n = %d·%d", d, n);
  need(&c, "out", lo, (double)rows * d, "rows·d = %d·%d", rows, d);
  if (!c.failed) tm_matmul_f32(out, x, w, rows, n, d);
  return c.failed ? NULL : undefined(env);
}

static napi_value MatmulQ80(napi_env env, napi_callback_info info) {
  call c;
  size_t lo, lx, lq, ls;
  if (!start(&c, env, info, "matmul (Q8_0)", 8)) return NULL;
  float *out = F32(0, "out", &lo), *x = F32(1, "x", &lx);
  int8_t *q = arg_array(&c, 2, "w.q", napi_int8_array, &lq);
  float *scales = F32(3, "w.scales", &ls);
  const int gs = arg_int(&c, 4, "w.groupSize"), rows = arg_int(&c, 5, "rows"), n = arg_int(&c, 6, "n"), d = arg_int(&c, 7, "d");
  if (!c.failed && (gs < 1 || (gs & (gs - 1)) || n % gs)) fail(&c, "w.groupSize %d must be a power of two dividing n = %d", gs, n);
  need(&c, "x", lx, (double)rows * n, "rows·n = %d·%d", rows, n);
  need(&c, "w.q", lq, (double)d * n, "d·n = %d·%d", d, n);
  if (!c.failed) need(&c, "w.scales", ls, (double)d * (n / gs), "d·n/groupSize = %d·%d/%d", d, n, gs);
  need(&c, "out", lo, (double)rows * d, "rows·d = %d·%d", rows, d);
  if (!c.failed) tm_matmul_q80(out, x, q, scales, gs, rows, n, d);
  return c.failed ? NULL : undefined(env);
}

static napi_value gemm(napi_env env, napi_callback_info info, int trans_a) {
  call c;
  size_t lo, la, lb;
  if (!start(&c, env, info, trans_a ? "matmulTN" : "matmulNN", 6)) return NULL;
  float *out = F32(0, "out", &lo), *a = F32(1, "a", &la), *b = F32(2, "b", &lb);
  const int m = arg_int(&c, 3, "m"), k = arg_int(&c, 4, "k"), n = arg_int(&c, 5, "n");
  need(&c, "a", la, (double)m * k, trans_a ? "k·m = %d·%d" : "m·k = %d·%d", trans_a ? k : m, trans_a ? m : k);
  need(&c, "b", lb, (double)k * n, "k·n = %d·%d", k, n);
  need(&c, "out", lo, (double)m * n, "m·n = %d·%d", m, n);
  if (c.failed) return NULL;
  if (trans_a)
    tm_matmul_tn(out, a, b, m, k, n);
  else
    tm_matmul_nn(out, a, b, m, k, n);
  return undefined(env);
}

static napi_value MatmulNN(napi_env env, napi_callback_info info) { return gemm(env, info, 0); }
static napi_value MatmulTN(napi_env env, napi_callback_info info) { return gemm(env, info, 1); }

static napi_value TopKRows(napi_env env, napi_callback_info info) {
  call c;
  size_t li, lv, lx;
  if (!start(&c, env, info, "topKRows", 6)) return NULL;
  int32_t *idx = arg_array(&c, 0, "outIdx", napi_int32_array, &li);
  float *val = F32(1, "outVal", &lv), *x = F32(2, "x", &lx);
  const int rows = arg_int(&c, 3, "rows"), n = arg_int(&c, 4, "n"), k = arg_int(&c, 5, "k");
  need(&c, "outIdx", li, (double)rows * k, "rows·k = %d·%d", rows, k);
  need(&c, "outVal", lv, (double)rows * k, "rows·k = %d·%d", rows, k);
  need(&c, "x", lx, (double)rows * n, "rows·n = %d·%d", rows, n);
  if (!c.failed) tm_topk_rows(idx, val, x, rows, n, k);
  return c.failed ? NULL : undefined(env);
}

/* encodeRelu(idx, val, x, w, bias, rows, dIn, dSae) → k */
static napi_value EncodeRelu(napi_env env, napi_callback_info info) {
  call c;
  size_t li, lv, lx, lw, lb;
  if (!start(&c, env, info, "encodeRelu", 8)) return NULL;
  int32_t *idx = arg_array(&c, 0, "idx", napi_int32_array, &li);
  float *val = F32(1, "val", &lv), *x = F32(2, "x", &lx), *w = F32(3, "w", &lw), *bias = F32(4, "bias", &lb);
  const int rows = arg_int(&c, 5, "rows"), d_in = arg_int(&c, 6, "dIn"), d_sae = arg_int(&c, 7, "dSae");
  need(&c, "x", lx, (double)rows * d_in, "rows·dIn = %d·%d", rows, d_in);
  need(&c, "w", lw, (double)d_in * d_sae, "dIn·dSae = %d·%d", d_in, d_sae);
  need(&c, "bias", lb, d_sae, "dSae = %d", d_sae);
  need(&c, "idx", li, (double)rows * d_sae, "rows·dSae = %d·%d", rows, d_sae);
  need(&c, "val", lv, (double)rows * d_sae, "rows·dSae = %d·%d", rows, d_sae);
  return c.failed ? NULL : number(env, tm_encode_relu(idx, val, x, w, bias, rows, d_in, d_sae));
}

/* encodeTopK(idx, pre, x, w, bias, scale | null, rows, dIn, dSae, k, auxCols | null, auxK, auxIdx | null, auxPre | null) */
static napi_value EncodeTopK(napi_env env, napi_callback_info info) {
  call c;
  size_t li, lp, lx, lw, lb, ls, lac, lai, lap;
  if (!start(&c, env, info, "encodeTopK", 14)) return NULL;
  int32_t *idx = arg_array(&c, 0, "idx", napi_int32_array, &li);
  float *pre = F32(1, "pre", &lp), *x = F32(2, "x", &lx), *w = F32(3, "w", &lw), *bias = F32(4, "bias", &lb);
  float *scale = arg_array_or_null(&c, 5, "scale", napi_float32_array, &ls);
  const int rows = arg_int(&c, 6, "rows"), d_in = arg_int(&c, 7, "dIn"), d_sae = arg_int(&c, 8, "dSae"), k = arg_int(&c, 9, "k");
  int32_t *aux_cols = arg_array_or_null(&c, 10, "aux.cols", napi_int32_array, &lac);
  const int aux_k = arg_int(&c, 11, "aux.k");
  int32_t *aux_idx = arg_array_or_null(&c, 12, "aux.idx", napi_int32_array, &lai);
  float *aux_pre = arg_array_or_null(&c, 13, "aux.pre", napi_float32_array, &lap);
  if (!c.failed && (k < 1 || k > d_sae)) fail(&c, "k = %d must be in 1..dSae = %d", k, d_sae);
  need(&c, "x", lx, (double)rows * d_in, "rows·dIn = %d·%d", rows, d_in);
  need(&c, "w", lw, (double)d_in * d_sae, "dIn·dSae = %d·%d", d_in, d_sae);
  need(&c, "bias", lb, (double)d_sae, "dSae = %d", d_sae);
  if (scale) need(&c, "scale", ls, (double)d_sae, "dSae = %d", d_sae);
  need(&c, "idx", li, (double)rows * k, "rows·k = %d·%d", rows, k);
  need(&c, "pre", lp, (double)rows * k, "rows·k = %d·%d", rows, k);
  if (!c.failed && aux_k > 0) {
    if (!aux_cols || !aux_idx || !aux_pre) fail(&c, "aux.k = %d needs aux.cols, aux.idx and aux.pre", aux_k);
    else if ((size_t)aux_k > lac) fail(&c, "aux.k = %d exceeds the %zu columns of aux.cols", aux_k, lac);
    for (size_t q = 0; !c.failed && q < lac; q++)
      if (aux_cols[q] < 0 || aux_cols[q] >= d_sae || (q > 0 && aux_cols[q] <= aux_cols[q - 1]))
        fail(&c, "aux.cols[%zu] = %d: columns must be ascending latents in 0..%d", q, aux_cols[q], d_sae - 1);
    need(&c, "aux.idx", lai, (double)rows * aux_k, "rows·aux.k = %d·%d", rows, aux_k);
    need(&c, "aux.pre", lap, (double)rows * aux_k, "rows·aux.k = %d·%d", rows, aux_k);
  }
  if (!c.failed) tm_encode_topk(idx, pre, x, w, bias, scale, rows, d_in, d_sae, k, aux_cols, (int)lac, aux_k, aux_idx, aux_pre);
  return c.failed ? NULL : undefined(env);
}

/* ---- sparse rows (SAE training) ---- */

/* Every index of idx [count] must name a row of a table with `table_rows` rows. */
static void need_indices(call *c, const int32_t *idx, size_t count, size_t table_rows) {
  if (c->failed) return;
  for (size_t i = 0; i < count; i++) {
    if (idx[i] < 0 || (size_t)idx[i] >= table_rows) {
      fail(c, "idx[%zu] = %d is outside the table's rows 0..%zu", i, idx[i], table_rows - 1);
      return;
    }
  }
}

/* The shared argument checks of the three sparse-row kernels: [idx, rows, k, table, width] at `at`. */
static void sparse_args(call *c, int at_idx, int at_rows, int at_table, int at_width, int32_t **idx, int *rows, int *k, float **table, int *width, size_t *lt) {
  size_t li;
  *idx = arg_array(c, at_idx, "idx", napi_int32_array, &li);
  *rows = arg_int(c, at_rows, "rows");
  *k = arg_int(c, at_rows + 1, "k");
  *table = (float *)arg_array(c, at_table, "table", napi_float32_array, lt);
  *width = arg_int(c, at_width, "width");
  need(c, "idx", li, (double)*rows * *k, "rows·k = %d·%d", *rows, *k);
  if (!c->failed && *width == 0) fail(c, "width must be positive");
  if (!c->failed) need_indices(c, *idx, (size_t)*rows * *k, *lt / (size_t)*width);
}

static napi_value GatherRows(napi_env env, napi_callback_info info) {
  call c;
  size_t lo, lv, lt;
  int32_t *idx;
  int rows, k, width;
  float *table;
  if (!start(&c, env, info, "gatherRows", 7)) return NULL;
  float *out = F32(0, "out", &lo), *val = F32(2, "val", &lv);
  sparse_args(&c, 1, 3, 5, 6, &idx, &rows, &k, &table, &width, &lt);
  need(&c, "val", lv, (double)rows * k, "rows·k = %d·%d", rows, k);
  need(&c, "out", lo, (double)rows * width, "rows·width = %d·%d", rows, width);
  if (!c.failed) tm_gather_rows(out, idx, val, rows, k, table, width);
  return c.failed ? NULL : undefined(env);
}

static napi_value GatheredDots(napi_env env, napi_callback_info info) {
  call c;
  size_t lo, la, lt;
  int32_t *idx;
  int rows, k, width;
  float *table;
  if (!start(&c, env, info, "gatheredDots", 7)) return NULL;
  float *out = F32(0, "out", &lo), *a = F32(1, "a", &la);
  sparse_args(&c, 2, 3, 5, 6, &idx, &rows, &k, &table, &width, &lt);
  need(&c, "a", la, (double)rows * width, "rows·width = %d·%d", rows, width);
  need(&c, "out", lo, (double)rows * k, "rows·k = %d·%d", rows, k);
  if (!c.failed) tm_gathered_dots(out, a, idx, rows, k, table, width);
  return c.failed ? NULL : undefined(env);
}

static napi_value ScatterRows(napi_env env, napi_callback_info info) {
  call c;
  size_t lv, la, lt;
  int32_t *idx;
  int rows, k, width;
  float *table;
  if (!start(&c, env, info, "scatterRows", 7)) return NULL;
  float *val = F32(2, "val", &lv), *a = F32(5, "a", &la);
  sparse_args(&c, 1, 3, 0, 6, &idx, &rows, &k, &table, &width, &lt);
  need(&c, "val", lv, (double)rows * k, "rows·k = %d·%d", rows, k);
  need(&c, "a", la, (double)rows * width, "rows·width = %d·%d", rows, width);
  if (!c.failed) {
    const tm_scatter_job job = {.table = table, .idx = idx, .val = val, .a = a, .table_rows = (int)(lt / (size_t)width), .rows = rows, .k = k, .width = width};
    tm_scatter(&job);
  }
  return c.failed ? NULL : undefined(env);
}

/* scatterRowsPair(table, idx, val, rows, k, a, width, table2, val2, a2) */
static napi_value ScatterRowsPair(napi_env env, napi_callback_info info) {
  call c;
  size_t lv, la, lt, lt2, lv2, la2;
  int32_t *idx;
  int rows, k, width;
  float *table;
  if (!start(&c, env, info, "scatterRowsPair", 10)) return NULL;
  float *val = F32(2, "val", &lv), *a = F32(5, "a", &la);
  sparse_args(&c, 1, 3, 0, 6, &idx, &rows, &k, &table, &width, &lt);
  float *table2 = F32(7, "table2", &lt2), *val2 = F32(8, "val2", &lv2), *a2 = F32(9, "a2", &la2);
  need(&c, "val", lv, (double)rows * k, "rows·k = %d·%d", rows, k);
  need(&c, "a", la, (double)rows * width, "rows·width = %d·%d", rows, width);
  need(&c, "table2", lt2, (double)lt, "the length of table");
  need(&c, "val2", lv2, (double)rows * k, "rows·k = %d·%d", rows, k);
  need(&c, "a2", la2, (double)rows * width, "rows·width = %d·%d", rows, width);
  if (!c.failed) {
    const tm_scatter_job job = {.table = table, .table2 = table2, .idx = idx, .val = val, .a = a, .val2 = val2, .a2 = a2,
                                .table_rows = (int)(lt / (size_t)width), .rows = rows, .k = k, .width = width};
    tm_scatter(&job);
  }
  return c.failed ? NULL : undefined(env);
}

static napi_value AddRowVector(napi_env env, napi_callback_info info) {
  call c;
  size_t lx, lv;
  if (!start(&c, env, info, "addRowVector", 4)) return NULL;
  float *x = F32(0, "x", &lx), *v = F32(1, "v", &lv);
  const int rows = arg_int(&c, 2, "rows"), n = arg_int(&c, 3, "n");
  need(&c, "x", lx, (double)rows * n, "rows·n = %d·%d", rows, n);
  need(&c, "v", lv, (double)n, "n = %d", n);
  if (!c.failed) tm_add_row_vector(x, v, rows, n);
  return c.failed ? NULL : undefined(env);
}

/* ---- element-wise ---- */

/* ---- SAE training passes ---- */

/* sparseDecodeBackward(out, dOut, dPre, gradDec, gradEncT, gradBias, counts, idx, act, x, saeIn, wDec, bDec, rows, k, width, batch,
   actSums | null, dPreAddend | null) → {sse, active} */
static napi_value SparseDecodeBackward(napi_env env, napi_callback_info info) {
  call c;
  size_t lo, ldo, ldp, lgd, lge, lgb, lc, la, lx, ls, lb, lw;
  int32_t *idx;
  int rows, k, width;
  float *w_dec;
  if (!start(&c, env, info, "sparseDecodeBackward", 19)) return NULL;
  float *out = F32(0, "out", &lo), *d_out = F32(1, "dOut", &ldo), *d_pre = F32(2, "dPre", &ldp), *grad_dec = F32(3, "gradDec", &lgd);
  float *grad_enc_t = F32(4, "gradEncT", &lge), *grad_bias = F32(5, "gradBias", &lgb);
  int32_t *counts = arg_array(&c, 6, "counts", napi_int32_array, &lc);
  float *act = F32(8, "act", &la), *x = F32(9, "x", &lx), *sae_in = F32(10, "saeIn", &ls), *b_dec = F32(12, "bDec", &lb);
  sparse_args(&c, 7, 13, 11, 15, &idx, &rows, &k, &w_dec, &width, &lw);
  const double batch = arg_num(&c, 16, "batch");
  size_t las, lda;
  float *act_sums = arg_array_or_null(&c, 17, "actSums", napi_float32_array, &las);
  float *d_pre_addend = arg_array_or_null(&c, 18, "dPreAddend", napi_float32_array, &lda);
  const double cells = (double)rows * width, picks = (double)rows * k, d_sae = c.failed ? 0 : (double)(lw / (size_t)width);
  need(&c, "act", la, picks, "rows·k = %d·%d", rows, k);
  need(&c, "x", lx, cells, "rows·width = %d·%d", rows, width);
  need(&c, "saeIn", ls, cells, "rows·width = %d·%d", rows, width);
  need(&c, "out", lo, cells, "rows·width = %d·%d", rows, width);
  need(&c, "dOut", ldo, cells, "rows·width = %d·%d", rows, width);
  need(&c, "dPre", ldp, picks, "rows·k = %d·%d", rows, k);
  need(&c, "bDec", lb, width, "width = %d", width);
  need(&c, "gradDec", lgd, (double)lw, "the length of table");
  need(&c, "gradEncT", lge, (double)lw, "the length of table");
  need(&c, "gradBias", lgb, d_sae, "the table's rows");
  need(&c, "counts", lc, d_sae, "the table's rows");
  if (act_sums) need(&c, "actSums", las, d_sae, "the table's rows");
  if (d_pre_addend) need(&c, "dPreAddend", lda, d_sae, "the table's rows");
  if (!c.failed && !(batch > 0)) fail(&c, "batch must be positive, got %g", batch);
  if (c.failed) return NULL;
  const tm_sparse_decode s = {.out = out, .d_out = d_out, .d_pre = d_pre, .grad_dec = grad_dec, .grad_enc_t = grad_enc_t, .grad_bias = grad_bias, .act = act,
                              .act_sums = act_sums, .counts = counts, .idx = idx, .x = x, .sae_in = sae_in, .w_dec = w_dec, .b_dec = b_dec,
                              .d_pre_addend = d_pre_addend, .rows = rows, .k = k, .width = width, .d_sae = (int)d_sae, .batch = batch};
  long active;
  const double sse = tm_sparse_decode_backward(&s, &active);
  napi_value result;
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "sse", number(env, sse));
  napi_set_named_property(env, result, "active", number(env, (double)active));
  return result;
}

static napi_value ScaleInto(napi_env env, napi_callback_info info) {
  call c;
  size_t lo, lx;
  if (!start(&c, env, info, "scaleInto", 4)) return NULL;
  float *out = F32(0, "out", &lo), *x = F32(1, "x", &lx);
  const double s = arg_num(&c, 2, "s");
  const int len = arg_int(&c, 3, "len");
  need(&c, "x", lx, len, "len = %d", len);
  need(&c, "out", lo, len, "len = %d", len);
  if (!c.failed) tm_scale_into(out, x, s, len);
  return c.failed ? NULL : undefined(env);
}

static napi_value SubRowVector(napi_env env, napi_callback_info info) {
  call c;
  size_t lo, lx, lv;
  if (!start(&c, env, info, "subRowVector", 5)) return NULL;
  float *out = F32(0, "out", &lo), *x = F32(1, "x", &lx), *v = F32(2, "v", &lv);
  const int rows = arg_int(&c, 3, "rows"), n = arg_int(&c, 4, "n");
  need(&c, "x", lx, (double)rows * n, "rows·n = %d·%d", rows, n);
  need(&c, "out", lo, (double)rows * n, "rows·n = %d·%d", rows, n);
  need(&c, "v", lv, n, "n = %d", n);
  if (!c.failed) tm_sub_row_vector(out, x, v, rows, n);
  return c.failed ? NULL : undefined(env);
}

static napi_value PositiveEntries(napi_env env, napi_callback_info info) {
  call c;
  size_t li, lv, lx;
  if (!start(&c, env, info, "positiveEntries", 5)) return NULL;
  int32_t *idx = arg_array(&c, 0, "idx", napi_int32_array, &li);
  float *val = F32(1, "val", &lv), *x = F32(2, "x", &lx);
  const int rows = arg_int(&c, 3, "rows"), n = arg_int(&c, 4, "n");
  need(&c, "idx", li, (double)rows * n, "rows·n = %d·%d", rows, n);
  need(&c, "val", lv, (double)rows * n, "rows·n = %d·%d", rows, n);
  need(&c, "x", lx, (double)rows * n, "rows·n = %d·%d", rows, n);
  return c.failed ? NULL : number(env, tm_positive_entries(idx, val, x, rows, n));
}

static napi_value ReluPicks(napi_env env, napi_callback_info info) {
  call c;
  size_t lv, li, lc;
  if (!start(&c, env, info, "reluPicks", 4)) return NULL;
  float *val = F32(0, "val", &lv);
  int32_t *idx = arg_array(&c, 1, "idx", napi_int32_array, &li);
  const int len = arg_int(&c, 2, "len");
  int32_t *counts = arg_array(&c, 3, "counts", napi_int32_array, &lc);
  need(&c, "val", lv, len, "len = %d", len);
  need(&c, "idx", li, len, "len = %d", len);
  need_indices(&c, idx, (size_t)len, lc);
  return c.failed ? NULL : number(env, tm_relu_picks(val, idx, len, counts));
}

static napi_value ScatterAddPicks(napi_env env, napi_callback_info info) {
  call c;
  size_t lo, li, lv, lg;
  if (!start(&c, env, info, "scatterAddPicks", 5)) return NULL;
  float *out = F32(0, "out", &lo);
  int32_t *idx = arg_array(&c, 1, "idx", napi_int32_array, &li);
  float *val = F32(2, "val", &lv);
  const int len = arg_int(&c, 3, "len");
  float *gate = arg_array_or_null(&c, 4, "gate", napi_float32_array, &lg);
  need(&c, "idx", li, len, "len = %d", len);
  need(&c, "val", lv, len, "len = %d", len);
  if (gate) need(&c, "gate", lg, len, "len = %d", len);
  need_indices(&c, idx, (size_t)len, lo);
  if (!c.failed) tm_scatter_add_picks(out, idx, val, len, gate);
  return c.failed ? NULL : undefined(env);
}

static napi_value SquaredError(napi_env env, napi_callback_info info) {
  call c;
  size_t ld, lo, lx;
  if (!start(&c, env, info, "squaredError", 5)) return NULL;
  float *d_out = F32(0, "dOut", &ld), *out = F32(1, "out", &lo), *x = F32(2, "x", &lx);
  const int len = arg_int(&c, 3, "len");
  const double batch = arg_num(&c, 4, "batch");
  need(&c, "dOut", ld, len, "len = %d", len);
  need(&c, "out", lo, len, "len = %d", len);
  need(&c, "x", lx, len, "len = %d", len);
  return c.failed ? NULL : number(env, tm_squared_error(d_out, out, x, len, batch));
}

static napi_value ColumnSums(napi_env env, napi_callback_info info) {
  call c;
  size_t lo, lm;
  if (!start(&c, env, info, "columnSums", 4)) return NULL;
  float *out = F32(0, "out", &lo), *m = F32(1, "m", &lm);
  const int rows = arg_int(&c, 2, "rows"), width = arg_int(&c, 3, "width");
  need(&c, "m", lm, (double)rows * width, "rows·width = %d·%d", rows, width);
  need(&c, "out", lo, width, "width = %d", width);
  if (!c.failed) tm_column_sums(out, m, rows, width);
  return c.failed ? NULL : undefined(env);
}

static napi_value CenteredSquares(napi_env env, napi_callback_info info) {
  call c;
  size_t lx;
  if (!start(&c, env, info, "centeredSquares", 3)) return NULL;
  float *x = F32(0, "x", &lx);
  const int rows = arg_int(&c, 1, "rows"), width = arg_int(&c, 2, "width");
  need(&c, "x", lx, (double)rows * width, "rows·width = %d·%d", rows, width);
  if (c.failed) return NULL;
  double *scratch = tm_scratch(TM_SCRATCH_X, tm_centered_scratch(rows, width) * sizeof(double) + 1);
  return number(env, tm_centered_squares(x, rows, width, scratch));
}

static napi_value AdamUpdate(napi_env env, napi_callback_info info) {
  call c;
  size_t lp, lg, lm, lv;
  if (!start(&c, env, info, "adamUpdate", 9)) return NULL;
  float *p = F32(0, "param", &lp), *g = F32(1, "grad", &lg), *m = F32(2, "m", &lm), *v = F32(3, "v", &lv);
  const tm_adam_step h = {.beta1 = arg_num(&c, 4, "beta1"), .beta2 = arg_num(&c, 5, "beta2"), .eps = arg_num(&c, 6, "eps"), .step_size = arg_num(&c, 7, "stepSize"),
                          .sqrt_c2 = arg_num(&c, 8, "sqrtC2")};
  need(&c, "grad", lg, lp, "param's length %zu", lp);
  need(&c, "m", lm, lp, "param's length %zu", lp);
  need(&c, "v", lv, lp, "param's length %zu", lp);
  if (!c.failed) tm_adam_update(p, g, m, v, (long)lp, &h);
  return c.failed ? NULL : undefined(env);
}

static napi_value Rmsnorm(napi_env env, napi_callback_info info) {
  call c;
  size_t lo, lx, lw;
  if (!start(&c, env, info, "rmsnorm", 6)) return NULL;
  float *out = F32(0, "out", &lo), *x = F32(1, "x", &lx), *w = F32(2, "weight", &lw);
  const int rows = arg_int(&c, 3, "rows"), size = arg_int(&c, 4, "size");
  const double eps = arg_num(&c, 5, "eps");
  need(&c, "x", lx, (double)rows * size, "rows·size = %d·%d", rows, size);
  need(&c, "out", lo, (double)rows * size, "rows·size = %d·%d", rows, size);
  need(&c, "weight", lw, size, "size");
  if (!c.failed) tm_rmsnorm(out, x, w, rows, size, (float)eps);
  return c.failed ? NULL : undefined(env);
}

static napi_value Rope(napi_env env, napi_callback_info info) {
  call c;
  size_t lx, lp, lt;
  if (!start(&c, env, info, "rope", 6)) return NULL;
  float *x = F32(0, "x", &lx);
  int32_t *pos = arg_array(&c, 1, "positions", napi_int32_array, &lp);
  const int rows = arg_int(&c, 2, "rows"), width = arg_int(&c, 3, "width"), hs = arg_int(&c, 4, "headSize");
  float *tab = F32(5, "cosSin", &lt);
  if (!c.failed && (hs < 2 || hs % 2 || width % hs)) fail(&c, "headSize %d must be even and divide width %d", hs, width);
  need(&c, "x", lx, (double)rows * width, "rows·width = %d·%d", rows, width);
  need(&c, "positions", lp, rows, "rows");
  for (int r = 0; r < rows && !c.failed; r++) {
    if (pos[r] < 0 || ((size_t)pos[r] + 1) * (size_t)hs > lt) fail(&c, "positions[%d] = %d is outside the cosSin table of %zu positions", r, pos[r], lt / (size_t)hs);
  }
  if (!c.failed) tm_rope(x, pos, rows, width, hs, tab);
  return c.failed ? NULL : undefined(env);
}

static napi_value Swiglu(napi_env env, napi_callback_info info) {
  call c;
  size_t lg, lu;
  if (!start(&c, env, info, "swiglu", 3)) return NULL;
  float *gate = F32(0, "gate", &lg), *up = F32(1, "up", &lu);
  const int len = arg_int(&c, 2, "len");
  need(&c, "gate", lg, len, "len");
  need(&c, "up", lu, len, "len");
  if (!c.failed) tm_swiglu(gate, up, len);
  return c.failed ? NULL : undefined(env);
}

static napi_value AddInPlace(napi_env env, napi_callback_info info) {
  call c;
  size_t lx, ly;
  if (!start(&c, env, info, "addInPlace", 3)) return NULL;
  float *x = F32(0, "x", &lx), *y = F32(1, "y", &ly);
  const int len = arg_int(&c, 2, "len");
  need(&c, "x", lx, len, "len");
  need(&c, "y", ly, len, "len");
  if (!c.failed) tm_add(x, y, len);
  return c.failed ? NULL : undefined(env);
}

static napi_value Transpose(napi_env env, napi_callback_info info) {
  call c;
  size_t lo, la;
  if (!start(&c, env, info, "transpose", 4)) return NULL;
  float *out = F32(0, "out", &lo), *a = F32(1, "a", &la);
  const int rows = arg_int(&c, 2, "rows"), cols = arg_int(&c, 3, "cols");
  need(&c, "a", la, (double)rows * cols, "rows·cols = %d·%d", rows, cols);
  need(&c, "out", lo, (double)rows * cols, "rows·cols = %d·%d", rows, cols);
  if (!c.failed) tm_transpose(out, a, rows, cols);
  return c.failed ? NULL : undefined(env);
}

static napi_value Softmax(napi_env env, napi_callback_info info) {
  call c;
  size_t lx;
  if (!start(&c, env, info, "softmax", 3)) return NULL;
  float *x = F32(0, "x", &lx);
  const int off = arg_int(&c, 1, "offset"), len = arg_int(&c, 2, "len");
  need(&c, "x", lx, (double)off + len, "offset+len = %d+%d", off, len);
  if (!c.failed) tm_softmax(x + off, len);
  return c.failed ? NULL : undefined(env);
}

/* ---- attention: (…arrays, [stride,] tokenOffset, count, startPos, nHeads, nKvHeads, headSize) ---- */

/* nHeads, nKvHeads, headSize from arguments at.., checked. */
static void attn_heads(call *c, int at, tm_attn_args *a) {
  a->n_heads = arg_int(c, at, "nHeads");
  a->n_kv_heads = arg_int(c, at + 1, "nKvHeads");
  a->head_size = arg_int(c, at + 2, "headSize");
  if (!c->failed && (a->n_heads < 1 || a->n_kv_heads < 1 || a->n_heads % a->n_kv_heads || a->head_size < 1)) {
    fail(c, "nHeads %d must be a positive multiple of nKvHeads %d, headSize %d positive", a->n_heads, a->n_kv_heads, a->head_size);
  }
}

static void attn_args(call *c, int at, tm_attn_args *a) {
  a->token_offset = arg_int(c, at, "tokenOffset");
  a->count = arg_int(c, at + 1, "count");
  a->start_pos = arg_int(c, at + 2, "startPos");
  attn_heads(c, at + 3, a);
}

/* q-like arrays hold tokens up to tokenOffset+count; the cache holds positions up to startPos+count. */
static void need_rows(call *c, const char *name, size_t have, const tm_attn_args *a, double width, const char *wdesc) {
  need(c, name, have, (a->token_offset + (double)a->count) * width, "(tokenOffset+count)·%s = (%d+%d)·%.0f", wdesc, a->token_offset, a->count, width);
}
static void need_cache(call *c, const char *name, size_t have, const tm_attn_args *a) {
  const double kv = (double)a->n_kv_heads * a->head_size;
  need(c, name, have, ((double)a->start_pos + a->count) * kv, "(startPos+count)·kvDim = (%d+%d)·%.0f", a->start_pos, a->count, kv);
}

static napi_value Attention(napi_env env, napi_callback_info info) {
  call c;
  size_t lo, lq, lk, lv, ls;
  tm_attn_args a;
  if (!start(&c, env, info, "attention", 11)) return NULL;
  float *out = F32(0, "out", &lo), *q = F32(1, "q", &lq), *keys = F32(2, "keys", &lk), *values = F32(3, "values", &lv);
  F32(4, "scores", &ls);
  attn_args(&c, 5, &a);
  const double width = (double)a.n_heads * a.head_size;
  need_rows(&c, "q", lq, &a, width, "nHeads·headSize");
  need_rows(&c, "out", lo, &a, width, "nHeads·headSize");
  need_cache(&c, "keys", lk, &a);
  need_cache(&c, "values", lv, &a);
  need(&c, "scores", ls, (double)a.start_pos + a.count, "startPos+count = %d+%d", a.start_pos, a.count);
  if (!c.failed) tm_attention(out, q, keys, values, &a);
  return c.failed ? NULL : undefined(env);
}

/* (out, q, keys, values, segments Int32Array [nSeg, 4] = (tokenOffset, count, startPos, cacheRow), nSeg, capacity, nHeads, nKvHeads, headSize) */
static napi_value AttentionRows(napi_env env, napi_callback_info info) {
  call c;
  size_t lo, lq, lk, lv, lsg;
  if (!start(&c, env, info, "attentionRows", 10)) return NULL;
  float *out = F32(0, "out", &lo), *q = F32(1, "q", &lq), *keys = F32(2, "keys", &lk), *values = F32(3, "values", &lv);
  const int32_t *sg = arg_array(&c, 4, "segments", napi_int32_array, &lsg);
  const int n_seg = arg_int(&c, 5, "nSeg"), capacity = arg_int(&c, 6, "capacity");
  tm_attn_args a = {0};
  attn_heads(&c, 7, &a);
  need(&c, "segments", lsg, 4.0 * n_seg, "4·nSeg = 4·%d", n_seg);
  const double width = (double)a.n_heads * a.head_size, kv = (double)a.n_kv_heads * a.head_size;
  for (int s = 0; s < n_seg && !c.failed; s++) {
    const int32_t *g = sg + 4 * s;
    if (g[0] < 0 || g[1] < 0 || g[2] < 0 || g[3] < 0) {
      fail(&c, "segment %d has a negative field (%d, %d, %d, %d)", s, g[0], g[1], g[2], g[3]);
      break;
    }
    if ((double)g[2] + g[1] > capacity) fail(&c, "segment %d: startPos+count = %d+%d exceeds capacity %d", s, g[2], g[1], capacity);
    tm_attn_args at = a;
    at.token_offset = g[0], at.count = g[1];
    need_rows(&c, "q", lq, &at, width, "nHeads·headSize");
    need_rows(&c, "out", lo, &at, width, "nHeads·headSize");
    need(&c, "keys", lk, ((double)g[3] + 1) * capacity * kv, "(cacheRow+1)·capacity·kvDim = (%d+1)·%d·%.0f", g[3], capacity, kv);
    need(&c, "values", lv, ((double)g[3] + 1) * capacity * kv, "(cacheRow+1)·capacity·kvDim = (%d+1)·%d·%.0f", g[3], capacity, kv);
  }
  /* tm_attn_seg is four ints in segments' order, so the Int32Array is read in place. */
  if (!c.failed) tm_attention_rows(out, q, keys, values, (const tm_attn_seg *)sg, n_seg, capacity, a.n_heads, a.n_kv_heads, a.head_size);
  return c.failed ? NULL : undefined(env);
}

static napi_value AttentionPattern(napi_env env, napi_callback_info info) {
  call c;
  size_t lp, lq, lk;
  tm_attn_args a;
  if (!start(&c, env, info, "attentionPattern", 10)) return NULL;
  float *pattern = F32(0, "pattern", &lp), *q = F32(1, "q", &lq), *keys = F32(2, "keys", &lk);
  const int stride = arg_int(&c, 3, "patternStride");
  attn_args(&c, 4, &a);
  if (!c.failed && stride < a.start_pos + a.count) fail(&c, "patternStride %d is less than startPos+count = %d+%d", stride, a.start_pos, a.count);
  need_rows(&c, "q", lq, &a, (double)a.n_heads * a.head_size, "nHeads·headSize");
  need_rows(&c, "pattern", lp, &a, (double)a.n_heads * stride, "nHeads·patternStride");
  need_cache(&c, "keys", lk, &a);
  if (!c.failed) tm_attention_pattern(pattern, q, keys, &a, stride);
  return c.failed ? NULL : undefined(env);
}

static napi_value AttentionApply(napi_env env, napi_callback_info info) {
  call c;
  size_t lo, lp, lv;
  tm_attn_args a;
  if (!start(&c, env, info, "attentionApply", 10)) return NULL;
  float *out = F32(0, "out", &lo), *pattern = F32(1, "pattern", &lp), *values = F32(2, "values", &lv);
  const int stride = arg_int(&c, 3, "patternStride");
  attn_args(&c, 4, &a);
  if (!c.failed && stride < a.start_pos + a.count) fail(&c, "patternStride %d is less than startPos+count = %d+%d", stride, a.start_pos, a.count);
  need_rows(&c, "out", lo, &a, (double)a.n_heads * a.head_size, "nHeads·headSize");
  need_rows(&c, "pattern", lp, &a, (double)a.n_heads * stride, "nHeads·patternStride");
  need_cache(&c, "values", lv, &a);
  if (!c.failed) tm_attention_apply(out, pattern, values, &a, stride);
  return c.failed ? NULL : undefined(env);
}

/* ---- configuration ---- */

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  call c;
  if (!start(&c, env, info, "setThreads", 1)) return NULL;
  const int n = arg_int(&c, 0, "threads");
  if (!c.failed && (n < 1 || n > 1024)) fail(&c, "threads must be 1..1024, got %d", n);
  if (!c.failed) tm_set_threads(n);
  return c.failed ? NULL : undefined(env);
}

/* Bytes from the 64-byte boundary at or below an ArrayBuffer's first byte: callers place arrays on
   cache lines with it, since a 512-bit load that straddles two lines costs two L1 accesses. */
static napi_value CacheLineOffset(napi_env env, napi_callback_info info) {
  call c;
  if (!start(&c, env, info, "cacheLineOffset", 1)) return NULL;
  void *data = NULL;
  size_t len = 0;
  bool is = false;
  napi_is_arraybuffer(env, c.argv[0], &is);
  if (!is || napi_get_arraybuffer_info(env, c.argv[0], &data, &len) != napi_ok) return fail(&c, "buffer must be an ArrayBuffer"), NULL;
  napi_value v;
  napi_create_int32(env, (int32_t)((uintptr_t)data % 64), &v);
  return v;
}

static napi_value Threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  napi_create_int32(env, tm_get_threads(), &v);
  return v;
}

static napi_value SetParallelMinWork(napi_env env, napi_callback_info info) {
  call c;
  if (!start(&c, env, info, "setParallelMinWork", 1)) return NULL;
  const double w = arg_num(&c, 0, "flops");
  if (!c.failed) tm_set_parallel_min_work(w);
  return c.failed ? NULL : undefined(env);
}

static napi_value ParallelMinWork(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  napi_create_double(env, tm_get_parallel_min_work(), &v);
  return v;
}

static void delete_ref(napi_env env, void *data, void *hint) {
  (void)hint;
  napi_ref *ref = data;
  if (*ref) napi_delete_reference(env, *ref);
  free(ref);
}

static napi_value SetErrorClass(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value ctor;
  napi_get_cb_info(env, info, &argc, &ctor, NULL, NULL);
  napi_ref *ref = error_class(env);
  if (ref && argc == 1) {
    if (*ref) napi_delete_reference(env, *ref);
    napi_create_reference(env, ctor, 1, ref);
  }
  return undefined(env);
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_ref *ref = calloc(1, sizeof *ref);
  if (ref) napi_set_instance_data(env, ref, delete_ref, NULL);
  const napi_property_descriptor fns[] = {
      {"matmulF32", 0, MatmulF32, 0, 0, 0, napi_enumerable, 0},
      {"matmulQ80", 0, MatmulQ80, 0, 0, 0, napi_enumerable, 0},
      {"matmulNN", 0, MatmulNN, 0, 0, 0, napi_enumerable, 0},
      {"matmulTN", 0, MatmulTN, 0, 0, 0, napi_enumerable, 0},
      {"topKRows", 0, TopKRows, 0, 0, 0, napi_enumerable, 0},
      {"encodeTopK", 0, EncodeTopK, 0, 0, 0, napi_enumerable, 0},
      {"encodeRelu", 0, EncodeRelu, 0, 0, 0, napi_enumerable, 0},
      {"gatherRows", 0, GatherRows, 0, 0, 0, napi_enumerable, 0},
      {"gatheredDots", 0, GatheredDots, 0, 0, 0, napi_enumerable, 0},
      {"positiveEntries", 0, PositiveEntries, 0, 0, 0, napi_enumerable, 0},
      {"reluPicks", 0, ReluPicks, 0, 0, 0, napi_enumerable, 0},
      {"scatterAddPicks", 0, ScatterAddPicks, 0, 0, 0, napi_enumerable, 0},
      {"scatterRows", 0, ScatterRows, 0, 0, 0, napi_enumerable, 0},
      {"scatterRowsPair", 0, ScatterRowsPair, 0, 0, 0, napi_enumerable, 0},
      {"addRowVector", 0, AddRowVector, 0, 0, 0, napi_enumerable, 0},
      {"sparseDecodeBackward", 0, SparseDecodeBackward, 0, 0, 0, napi_enumerable, 0},
      {"scaleInto", 0, ScaleInto, 0, 0, 0, napi_enumerable, 0},
      {"subRowVector", 0, SubRowVector, 0, 0, 0, napi_enumerable, 0},
      {"squaredError", 0, SquaredError, 0, 0, 0, napi_enumerable, 0},
      {"columnSums", 0, ColumnSums, 0, 0, 0, napi_enumerable, 0},
      {"centeredSquares", 0, CenteredSquares, 0, 0, 0, napi_enumerable, 0},
      {"adamUpdate", 0, AdamUpdate, 0, 0, 0, napi_enumerable, 0},
      {"rmsnorm", 0, Rmsnorm, 0, 0, 0, napi_enumerable, 0},
      {"rope", 0, Rope, 0, 0, 0, napi_enumerable, 0},
      {"swiglu", 0, Swiglu, 0, 0, 0, napi_enumerable, 0},
      {"addInPlace", 0, AddInPlace, 0, 0, 0, napi_enumerable, 0},
      {"softmax", 0, Softmax, 0, 0, 0, napi_enumerable, 0},
      {"transpose", 0, Transpose, 0, 0, 0, napi_enumerable, 0},
      {"attention", 0, Attention, 0, 0, 0, napi_enumerable, 0},
      {"attentionRows", 0, AttentionRows, 0, 0, 0, napi_enumerable, 0},
      {"attentionPattern", 0, AttentionPattern, 0, 0, 0, napi_enumerable, 0},
      {"attentionApply", 0, AttentionApply, 0, 0, 0, napi_enumerable, 0},
      {"setThreads", 0, SetThreads, 0, 0, 0, napi_enumerable, 0},
      {"threads", 0, Threads, 0, 0, 0, napi_enumerable, 0},
      {"cacheLineOffset", 0, CacheLineOffset, 0, 0, 0, napi_enumerable, 0},
      {"setParallelMinWork", 0, SetParallelMinWork, 0, 0, 0, napi_enumerable, 0},
      {"parallelMinWork", 0, ParallelMinWork, 0, 0, 0, napi_enumerable, 0},
      {"setErrorClass", 0, SetErrorClass, 0, 0, 0, napi_enumerable, 0},
#ifndef _WIN32
      {"mapFile", 0, MapFile, 0, 0, 0, napi_enumerable, 0},
#endif
  };
  napi_define_properties(env, exports, sizeof fns / sizeof *fns, fns);
  napi_value simd, pool;
  napi_create_string_utf8(env, TM_SIMD, NAPI_AUTO_LENGTH, &simd);
  napi_get_boolean(env, tm_has_pool(), &pool);
  napi_set_named_property(env, exports, "simd", simd);
  napi_set_named_property(env, exports, "threadPool", pool);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
