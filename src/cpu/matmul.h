// Dense matrix products on the CPU: y = x Wᵀ for a batch of activation rows, with the weight
// matrix in its stored type (F32/F16/BF16, or GGUF blocks dequantized a few rows at a time)
// converted on the fly and float32 accumulation. For small batches on Q8_0/Q4_K/Q5_K/Q6_K weights the
// AVX2/AVX-512 paths instead quantize the activations to int8 and use integer dot products
// (llama.cpp's approach; ~1e-3 relative error from the activation rounding).
#pragma once
#include <cstdint>
#include <vector>

#include "core/threads.h"
#include "model/weights.h"

namespace a3b {

// y[t, r] = Σ_c W[r, c] · x[t, c] for t < n. x is [n, W.cols], y is [n, W.rows], row-major.
void matmul(const Matrix& w, const float* x, int64_t n, float* y, ThreadPool& pool);

// The instruction set the kernels use: "avx512", "avx2" or "generic". A3B_CPU_ISA overrides
// the detected one (to a lesser one only), which is how tests cover every path on one machine.
const char* cpu_isa();
void set_cpu_isa(const char* name);  // throws Error if the CPU lacks it

// Rows [r0, r1) of the product, single-threaded, for one instruction set (defined per ISA file).
using MatmulRowsFn = void (*)(const Matrix& w, int64_t r0, int64_t r1, const float* x, int64_t n, float* y);
void matmul_rows_generic(const Matrix& w, int64_t r0, int64_t r1, const float* x, int64_t n, float* y);
void matmul_rows_avx2(const Matrix& w, int64_t r0, int64_t r1, const float* x, int64_t n, float* y);
void matmul_rows_avx512(const Matrix& w, int64_t r0, int64_t r1, const float* x, int64_t n, float* y);

// Integer-dot path (matmul_int8_avx2.cpp). Activations in 32-element int8 groups: x ≈ scale · q.
struct QuantizedActivations {
  std::vector<int8_t> q;         // [n, K]
  std::vector<float> scale;      // [n, K / 32]
  std::vector<int32_t> sum16;    // [n, K / 16]: Σ q over each 16 elements
};
bool int8_dot_supported(DType t);
void quantize_activations(const float* x, int64_t n, int64_t K, QuantizedActivations& out);
void matmul_rows_int8_avx2(const Matrix& w, int64_t r0, int64_t r1, const QuantizedActivations& x, int64_t n, float* y);
// On by default; A3B_INT8_DOT=0 turns it off (every product then dequantizes weights to float).
void set_int8_dot(bool on);
bool int8_dot_enabled();
constexpr int64_t kInt8DotMaxTokens = 8;  // larger batches amortize dequantization instead

}  // namespace a3b
