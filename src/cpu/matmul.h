// Dense matrix products on the CPU: y = x Wᵀ for a batch of activation rows, with the weight
// matrix in its stored type (F32/F16/BF16) converted on the fly and float32 accumulation.
#pragma once
#include <cstdint>

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

}  // namespace a3b
