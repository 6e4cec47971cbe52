// The matmul kernel, written once against a small SIMD interface. Each ISA's translation unit
// defines `struct Simd` (vector type F, lanes W, kTokens, zero/load/fma/sum) and includes this.
//
// Block-quantized weights are dequantized a few rows at a time (rows_dequantized).
//
// A tile computes R weight rows × T activation rows: R·T accumulators live in registers, each
// weight vector is loaded (and widened to float) once per tile and reused T times.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "model/weights.h"

namespace a3b::kernel {

struct Bf16 { uint16_t bits; };
struct F16 { uint16_t bits; };

inline float scalar(float v) { return v; }
inline float scalar(Bf16 v) { return bf16_to_f32(v.bits); }
inline float scalar(F16 v) { return f16_to_f32(v.bits); }

template <class Simd, int R, int T, class WT>
inline void tile(const WT* const* w, const float* const* x, int64_t K, float out[R][T]) {
  typename Simd::F acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = Simd::zero();
  int64_t k = 0;
  for (; k + Simd::W <= K; k += Simd::W) {
    typename Simd::F xv[T];
    for (int t = 0; t < T; ++t) xv[t] = Simd::load(x[t] + k);
    for (int r = 0; r < R; ++r) {
      typename Simd::F wv = Simd::load(w[r] + k);
      for (int t = 0; t < T; ++t) acc[r][t] = Simd::fma(wv, xv[t], acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) out[r][t] = Simd::sum(acc[r][t]);
  for (; k < K; ++k)
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) out[r][t] += scalar(w[r][k]) * x[t][k];
}

// Output rows r..r+R-1 (weights w[0..R-1]) for all n activation rows.
template <class Simd, int R, class WT>
inline void row_block(const WT* const* w, int64_t r, int64_t K, int64_t N, const float* x, int64_t n, float* y) {
  constexpr int T = Simd::kTokens;
  int64_t t = 0;
  for (; t + T <= n; t += T) {
    const float* xs[T];
    for (int j = 0; j < T; ++j) xs[j] = x + (t + j) * K;
    float out[R][T];
    tile<Simd, R, T>(w, xs, K, out);
    for (int i = 0; i < R; ++i)
      for (int j = 0; j < T; ++j) y[(t + j) * N + r + i] = out[i][j];
  }
  for (; t < n; ++t) {
    const float* xs[1] = {x + t * K};
    float out[R][1];
    tile<Simd, R, 1>(w, xs, K, out);
    for (int i = 0; i < R; ++i) y[t * N + r + i] = out[i][0];
  }
}

template <class Simd, class WT>
inline void rows(const Matrix& m, int64_t r0, int64_t r1, const float* x, int64_t n, float* y) {
  const WT* base = static_cast<const WT*>(m.data);
  const int64_t K = m.cols;
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) {
    const WT* w[4] = {base + r * K, base + (r + 1) * K, base + (r + 2) * K, base + (r + 3) * K};
    row_block<Simd, 4>(w, r, K, m.rows, x, n, y);
  }
  for (; r < r1; ++r) {
    const WT* w[1] = {base + r * K};
    row_block<Simd, 1>(w, r, K, m.rows, x, n, y);
  }
}

// Block-quantized weights: a group of rows is dequantized to float (Simd::dequantize_row, the
// same floats as to_f32) into a
// per-thread buffer, then multiplied like float rows; the dequantization is shared by all n tokens.
template <class Simd>
inline void rows_dequantized(const Matrix& m, int64_t r0, int64_t r1, const float* x, int64_t n, float* y) {
  constexpr int R = 4;
  const int64_t K = m.cols;
  thread_local std::vector<float> buf;
  buf.resize(size_t(R * K));
  for (int64_t r = r0; r < r1; r += R) {
    const int rows_here = int(std::min<int64_t>(R, r1 - r));
    for (int i = 0; i < rows_here; ++i) Simd::dequantize_row(m.dtype, m.row(r + i), &buf[size_t(i * K)], K);
    if (rows_here == R) {
      const float* w[R] = {&buf[0], &buf[size_t(K)], &buf[size_t(2 * K)], &buf[size_t(3 * K)]};
      row_block<Simd, R>(w, r, K, m.rows, x, n, y);
    } else {
      for (int i = 0; i < rows_here; ++i) {
        const float* w[1] = {&buf[size_t(i * K)]};
        row_block<Simd, 1>(w, r + i, K, m.rows, x, n, y);
      }
    }
  }
}

template <class Simd>
inline void rows_any(const Matrix& m, int64_t r0, int64_t r1, const float* x, int64_t n, float* y) {
  switch (m.dtype) {
    case DType::F32: return rows<Simd, float>(m, r0, r1, x, n, y);
    case DType::F16: return rows<Simd, F16>(m, r0, r1, x, n, y);
    case DType::BF16: return rows<Simd, Bf16>(m, r0, r1, x, n, y);
    default: return rows_dequantized<Simd>(m, r0, r1, x, n, y);
  }
}

}  // namespace a3b::kernel
