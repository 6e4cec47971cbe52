// AVX2 + FMA + F16C kernel (8 floats a vector; 4 rows × 2 tokens fit the 16 ymm registers).
#include <immintrin.h>

#include "cpu/matmul.h"
#include "cpu/dequant_avx2.h"
#include "cpu/matmul_kernel.h"

namespace a3b {
namespace {

struct Simd {
  using F = __m256;
  static constexpr int W = 8;
  static constexpr int kTokens = 2;
  static F zero() { return _mm256_setzero_ps(); }
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static F load(const kernel::Bf16* p) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static F load(const kernel::F16* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static F fma(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static void dequantize_row(DType t, const void* src, float* dst, int64_t n) {
    kernel::dequantize_row_avx2(t, src, dst, n);
  }
  static float sum(F a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

}  // namespace

void matmul_rows_avx2(const Matrix& w, int64_t r0, int64_t r1, const float* x, int64_t n, float* y) {
  kernel::rows_any<Simd>(w, r0, r1, x, n, y);
}

}  // namespace a3b
