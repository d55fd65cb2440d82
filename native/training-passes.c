/*
 * The element-wise passes of an SAE training step (scaling the batch, sae_in = x − b_dec, the squared
 * error and its gradient, column sums, the batch's centred sum of squares, Adam), computed exactly as
 * the reference backend's JavaScript computes them: in float64, operation for operation, rounded to
 * float32 where JavaScript stores into a Float32Array, summing in the same order on one thread. So
 * they agree bit for bit, and a trained SAE does not depend on the backend. In V8 each of these passes
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

void tm_scale_into(float *out, const float *x, double s, long len) {
  for (long i = 0; i < len; i++) out[i] = (float)((double)x[i] * s);
}

void tm_sub_row_vector(float *out, const float *x, const float *v, int rows, int n) {
  for (int r = 0; r < rows; r++)
    for (int i = 0; i < n; i++) out[(size_t)r * n + i] = (float)((double)x[(size_t)r * n + i] - (double)v[i]);
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

double tm_centered_squares(const float *x, int rows, int width, double *mean) {
  for (int j = 0; j < width; j++) mean[j] = 0;
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < width; j++) mean[j] += x[(size_t)r * width + j];
  for (int j = 0; j < width; j++) mean[j] /= rows;
  double s[8] = {0};
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < width; j++) {
      const size_t i = (size_t)r * width + j;
      const double c = (double)x[i] - mean[j];
      s[i & 7] += c * c;
    }
  return lane_sum(s);
}

void tm_adam_update(float *p, const float *g, float *m, float *v, long len, const tm_adam_step *h) {
  for (long i = 0; i < len; i++) {
    const double gi = g[i];
    const double mi = h->beta1 * m[i] + (1 - h->beta1) * gi;
    const double vi = h->beta2 * v[i] + (1 - h->beta2) * gi * gi;
    m[i] = (float)mi;
    v[i] = (float)vi;
    p[i] = (float)((double)p[i] - (h->step_size * mi) / (sqrt(vi) / h->sqrt_c2 + h->eps));
  }
}
