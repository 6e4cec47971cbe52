// AVX2 dequantization of whole rows for the matmul kernels (included by the AVX2 and AVX-512
// translation units, both compiled with -mavx2 -mfma -mf16c). Same products in the same order as
// core/quant.cpp (multiply, then subtract; no fused multiply-add), so the floats are identical to
// to_f32's; types without a vector path fall back to it.
#pragma once
#include <immintrin.h>

#include <cstring>

#include "core/dtype.h"

namespace a3b::kernel {

inline float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// 8 bytes -> 8 floats (unsigned / signed).
inline __m256 u8x8(const uint8_t* p) { return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)))); }
inline __m256 i8x8(const uint8_t* p) { return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)))); }

inline void dequant_q8_0_avx2(const uint8_t* b, float* y) {
  const __m256 d = _mm256_set1_ps(half_at(b));
  for (int i = 0; i < 4; ++i) _mm256_storeu_ps(y + 8 * i, _mm256_mul_ps(i8x8(b + 2 + 8 * i), d));
}

inline void scale_min_k4_avx2(int j, const uint8_t* s, int* sc, int* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
    *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// Q4_K (with_high_bits = false) and Q5_K: 4 chunks of 64 outputs from 32 bytes of nibbles.
template <bool kQ5>
inline void dequant_k4_avx2(const uint8_t* b, float* y) {
  const float d = half_at(b), dmin = half_at(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* qh = b + 16;
  const uint8_t* q = kQ5 ? b + 48 : b + 16;
  for (int c = 0; c < 4; ++c, q += 32, y += 64) {
    int sc, m;
    scale_min_k4_avx2(2 * c, scales, &sc, &m);
    const __m256 d1 = _mm256_set1_ps(d * sc), m1 = _mm256_set1_ps(dmin * m);
    scale_min_k4_avx2(2 * c + 1, scales, &sc, &m);
    const __m256 d2 = _mm256_set1_ps(d * sc), m2 = _mm256_set1_ps(dmin * m);
    const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
    const __m256i nib = _mm256_set1_epi8(0x0F);
    __m256i lo = _mm256_and_si256(bytes, nib), hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), nib);
    if constexpr (kQ5) {
      const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qh));
      const __m256i bit_lo = _mm256_set1_epi8(char(1 << (2 * c))), bit_hi = _mm256_set1_epi8(char(1 << (2 * c + 1)));
      const __m256i sixteen = _mm256_set1_epi8(16);
      lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, bit_lo), bit_lo), sixteen));
      hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, bit_hi), bit_hi), sixteen));
    }
    alignas(32) uint8_t l8[32], h8[32];
    _mm256_store_si256(reinterpret_cast<__m256i*>(l8), lo);
    _mm256_store_si256(reinterpret_cast<__m256i*>(h8), hi);
    for (int i = 0; i < 4; ++i) {
      _mm256_storeu_ps(y + 8 * i, _mm256_sub_ps(_mm256_mul_ps(d1, u8x8(l8 + 8 * i)), m1));
      _mm256_storeu_ps(y + 32 + 8 * i, _mm256_sub_ps(_mm256_mul_ps(d2, u8x8(h8 + 8 * i)), m2));
    }
  }
}

inline void dequant_q6_k_avx2(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
  const float d = half_at(b + 208);
  const __m256i m4 = _mm256_set1_epi32(0xF), m3 = _mm256_set1_epi32(3), c32 = _mm256_set1_epi32(32);
  auto load8 = [](const uint8_t* p) { return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))); };
  for (int n = 0; n < 2; ++n, y += 128, ql += 64, qh += 32, sc += 8) {
    for (int l = 0; l < 32; l += 8) {
      const int is = l / 16;
      const __m256i a = load8(ql + l), c = load8(ql + l + 32), h = load8(qh + l);
      const __m256i q1 = _mm256_sub_epi32(_mm256_or_si256(_mm256_and_si256(a, m4), _mm256_slli_epi32(_mm256_and_si256(h, m3), 4)), c32);
      const __m256i q2 = _mm256_sub_epi32(
          _mm256_or_si256(_mm256_and_si256(c, m4), _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(h, 2), m3), 4)), c32);
      const __m256i q3 = _mm256_sub_epi32(
          _mm256_or_si256(_mm256_srli_epi32(a, 4), _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(h, 4), m3), 4)), c32);
      const __m256i q4 = _mm256_sub_epi32(
          _mm256_or_si256(_mm256_srli_epi32(c, 4), _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(h, 6), m3), 4)), c32);
      _mm256_storeu_ps(y + l, _mm256_mul_ps(_mm256_set1_ps(d * sc[is + 0]), _mm256_cvtepi32_ps(q1)));
      _mm256_storeu_ps(y + l + 32, _mm256_mul_ps(_mm256_set1_ps(d * sc[is + 2]), _mm256_cvtepi32_ps(q2)));
      _mm256_storeu_ps(y + l + 64, _mm256_mul_ps(_mm256_set1_ps(d * sc[is + 4]), _mm256_cvtepi32_ps(q3)));
      _mm256_storeu_ps(y + l + 96, _mm256_mul_ps(_mm256_set1_ps(d * sc[is + 6]), _mm256_cvtepi32_ps(q4)));
    }
  }
}

// 16 bytes of nibble indices into the IQ4_NL levels -> 32 floats times dl (low nibbles first).
inline void iq4_32_avx2(const uint8_t* q, float dl, float* y) {
  static const int8_t kLevels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
  const __m128i table = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kLevels));
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q)), nib = _mm_set1_epi8(0x0F);
  const __m128i lo = _mm_shuffle_epi8(table, _mm_and_si128(bytes, nib));
  const __m128i hi = _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(bytes, 4), nib));
  const __m256 d = _mm256_set1_ps(dl);
  _mm256_storeu_ps(y, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo))));
  _mm256_storeu_ps(y + 8, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)))));
  _mm256_storeu_ps(y + 16, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi))));
  _mm256_storeu_ps(y + 24, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)))));
}

inline void dequant_iq4_xs_avx2(const uint8_t* b, float* y) {
  const float d = half_at(b);
  uint16_t scales_h;
  std::memcpy(&scales_h, b + 2, 2);
  for (int ib = 0; ib < 8; ++ib) {
    const int ls = ((b[4 + ib / 2] >> 4 * (ib % 2)) & 0xF) | (((scales_h >> 2 * ib) & 3) << 4);
    iq4_32_avx2(b + 8 + 16 * ib, d * (ls - 32), y + 32 * ib);
  }
}

// n elements of row `src` (type t) to float.
inline void dequantize_row_avx2(DType t, const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const uint8_t*>(src);
  switch (t) {
    case DType::Q8_0:
      for (int64_t i = 0; i < n / 32; ++i) dequant_q8_0_avx2(b + 34 * i, dst + 32 * i);
      return;
    case DType::Q4_K:
      for (int64_t i = 0; i < n / 256; ++i) dequant_k4_avx2<false>(b + 144 * i, dst + 256 * i);
      return;
    case DType::Q5_K:
      for (int64_t i = 0; i < n / 256; ++i) dequant_k4_avx2<true>(b + 176 * i, dst + 256 * i);
      return;
    case DType::Q6_K:
      for (int64_t i = 0; i < n / 256; ++i) dequant_q6_k_avx2(b + 210 * i, dst + 256 * i);
      return;
    case DType::IQ4_NL:
      for (int64_t i = 0; i < n / 32; ++i) iq4_32_avx2(b + 18 * i + 2, half_at(b + 18 * i), dst + 32 * i);
      return;
    case DType::IQ4_XS:
      for (int64_t i = 0; i < n / 256; ++i) dequant_iq4_xs_avx2(b + 136 * i, dst + 256 * i);
      return;
    default:
      to_f32(t, src, dst, size_t(n));
  }
}

}  // namespace a3b::kernel
