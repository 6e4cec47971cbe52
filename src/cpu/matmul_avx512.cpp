// AVX-512 kernel (16 floats a vector; 4 rows × 4 tokens = 16 of the 32 zmm registers).
#include <immintrin.h>

#include "cpu/matmul.h"
#include "cpu/dequant_avx2.h"
#include "cpu/matmul_kernel.h"

namespace a3b {
namespace {

struct Simd {
  using F = __m512;
  static constexpr int W = 16;
  static constexpr int kTokens = 4;
  static F zero() { return _mm512_setzero_ps(); }
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static F load(const kernel::Bf16* p) {
    __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static F load(const kernel::F16* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static F fma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static void dequantize_row(DType t, const void* src, float* dst, int64_t n) {
    kernel::dequantize_row_avx2(t, src, dst, n);
  }
  static float sum(F a) { return _mm512_reduce_add_ps(a); }
};

}  // namespace

void matmul_rows_avx512(const Matrix& w, int64_t r0, int64_t r1, const float* x, int64_t n, float* y) {
  kernel::rows_any<Simd>(w, r0, r1, x, n, y);
}

}  // namespace a3b
