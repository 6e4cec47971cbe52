// Portable scalar kernel: the reference every vector path is tested against.
#include "cpu/matmul.h"
#include "cpu/matmul_kernel.h"

namespace a3b {
namespace {

struct Simd {
  using F = float;
  static constexpr int W = 1;
  static constexpr int kTokens = 4;
  static F zero() { return 0.0f; }
  static F load(const float* p) { return *p; }
  static F load(const kernel::Bf16* p) { return kernel::scalar(*p); }
  static F load(const kernel::F16* p) { return kernel::scalar(*p); }
  static F fma(F a, F b, F c) { return a * b + c; }
  static float sum(F a) { return a; }
  static void dequantize_row(DType t, const void* src, float* dst, int64_t n) { to_f32(t, src, dst, size_t(n)); }
};

}  // namespace

void matmul_rows_generic(const Matrix& w, int64_t r0, int64_t r1, const float* x, int64_t n, float* y) {
  kernel::rows_any<Simd>(w, r0, r1, x, n, y);
}

}  // namespace a3b
