// Integer dot products for Q8_0 / Q4_K / Q5_K / Q6_K weights (AVX2): the activations are quantized to
// int8 in 32-element groups (one float scale each, as ggml's Q8 activations), weights stay in
// their blocks, and each block's products are summed in int32 with maddubs/madd before one float
// multiply by the weight and activation scales. Used for small batches (decode), where
// dequantizing every weight to float would dominate; see matmul.cpp for when.
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "cpu/matmul.h"

namespace a3b {
namespace {

inline float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// Σ over pairs of 4 adjacent u8 × i8 products: 8 int32 lanes, lane i covering elements 4i..4i+3.
inline __m256i dot_u8_i8(__m256i u, __m256i s) { return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)); }

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

float dot_q8_0(const uint8_t* w, const QuantizedActivations& x, int64_t t, int64_t K) {
  const int8_t* xq = x.q.data() + t * K;
  const float* xd = x.scale.data() + t * (K / 32);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < K / 32; ++b, w += 34) {
    const __m256i wq = load256(w + 2), xv = load256(xq + 32 * b);
    // |w| (unsigned) times x with w's sign: the signed product through maddubs.
    const __m256i p = dot_u8_i8(_mm256_sign_epi8(wq, wq), _mm256_sign_epi8(xv, wq));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(half_at(w) * xd[b]), acc);
  }
  return hsum(acc);
}

// Q4_K and Q5_K (kQ5: a fifth bit per weight from qh): x ≈ d·sc·q − dmin·m per 32-element sub-block.
template <bool kQ5>
float dot_k4(const uint8_t* w, const QuantizedActivations& x, int64_t t, int64_t K) {
  const int8_t* xq = x.q.data() + t * K;
  const float* xd = x.scale.data() + t * (K / 32);
  const int32_t* xs = x.sum16.data() + t * (K / 16);
  __m256 acc = _mm256_setzero_ps(), minv = _mm256_setzero_ps();
  const __m256i nib = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
  constexpr int kBlockBytes = kQ5 ? 176 : 144;
  for (int64_t sb = 0; sb < K / 256; ++sb, w += kBlockBytes) {
    const float d = half_at(w), dmin = half_at(w + 2);
    const uint8_t* s = w + 4;
    const uint8_t* qs = kQ5 ? w + 48 : w + 16;
    uint8_t sc[8], m[8];
    for (int j = 0; j < 8; ++j) {
      if (j < 4) {
        sc[j] = s[j] & 63;
        m[j] = s[j + 4] & 63;
      } else {
        sc[j] = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
        m[j] = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
      }
    }
    // Per 32-element group g of this block: the factor of its integer dot (d·sc·x_scale) and its
    // share of the min term (dmin·m·x_scale·Σx), eight groups at a time.
    const __m256 xdv = _mm256_loadu_ps(xd + sb * 8);
    const __m256 scv = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc))));
    const __m256 mv = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(m))));
    alignas(32) float factor[8];
    _mm256_store_ps(factor, _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(d), scv), xdv));
    // Σx per group from the 16-element sums: hadd pairs within 128-bit lanes, then restore group order.
    const __m256i pairs = _mm256_hadd_epi32(load256(xs + 16 * sb), load256(xs + 16 * sb + 8));
    const __m256 xsum = _mm256_cvtepi32_ps(_mm256_permute4x64_epi64(pairs, _MM_SHUFFLE(3, 1, 2, 0)));
    minv = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(dmin), mv), xdv), xsum, minv);
    const __m256i qh = kQ5 ? load256(w + 16) : _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c) {
      const __m256i bytes = load256(qs + 32 * c);
      __m256i lo = _mm256_and_si256(bytes, nib), hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), nib);
      if constexpr (kQ5) {
        lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one), 4));
        hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one), 4));
      }
      const int64_t g = sb * 8 + 2 * c;  // activation group of the low nibbles
      const __m256i plo = dot_u8_i8(lo, load256(xq + 32 * g));
      const __m256i phi = dot_u8_i8(hi, load256(xq + 32 * (g + 1)));
      acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(plo), _mm256_broadcast_ss(&factor[2 * c]), acc);
      acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(phi), _mm256_broadcast_ss(&factor[2 * c + 1]), acc);
    }
  }
  return hsum(acc) - hsum(minv);
}

float dot_q6_k(const uint8_t* w, const QuantizedActivations& x, int64_t t, int64_t K) {
  const int8_t* xq = x.q.data() + t * K;
  const float* xd = x.scale.data() + t * (K / 32);
  const int32_t* xs = x.sum16.data() + t * (K / 16);
  __m256 acc = _mm256_setzero_ps();
  __m256 offset = _mm256_setzero_ps();  // the -32 of every weight: Σ_half factor · Σx (times 32 at the end)
  const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(3);
  // Lane patterns: each 16-element half's activation scale (two halves per group), and for group k of
  // a 128-element half-block the factors of its two halves spread over the 4 + 4 lanes of a dot.
  const __m256i lo_groups = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3), hi_groups = _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7);
  const __m256i spread[4] = {_mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1), _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3),
                             _mm256_setr_epi32(4, 4, 4, 4, 5, 5, 5, 5), _mm256_setr_epi32(6, 6, 6, 6, 7, 7, 7, 7)};
  for (int64_t sb = 0; sb < K / 256; ++sb, w += 210) {
    const __m256 d = _mm256_set1_ps(half_at(w + 208));
    const uint8_t* sc = w + 192;  // 16 int8 scales, one per 16-element half
    const __m256 xdv = _mm256_loadu_ps(xd + sb * 8);
    __m256 factor[2];  // d · scale · x_scale for halves 0..7 and 8..15
    for (int n = 0; n < 2; ++n) {
      const __m256 scv = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + 8 * n))));
      factor[n] = _mm256_mul_ps(_mm256_mul_ps(d, scv), _mm256_permutevar8x32_ps(xdv, n ? hi_groups : lo_groups));
      offset = _mm256_fmadd_ps(factor[n], _mm256_cvtepi32_ps(load256(xs + 16 * sb + 8 * n)), offset);
    }
    for (int n = 0; n < 2; ++n) {
      const __m256i a = load256(w + 64 * n), b = load256(w + 64 * n + 32), h = load256(w + 128 + 32 * n);
      __m256i q[4];
      q[0] = _mm256_or_si256(_mm256_and_si256(a, m4), _mm256_slli_epi16(_mm256_and_si256(h, m3), 4));
      q[1] = _mm256_or_si256(_mm256_and_si256(b, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), m3), 4));
      q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a, 4), m4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), m3), 4));
      q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(b, 4), m4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), m3), 4));
      for (int k = 0; k < 4; ++k) {
        const int64_t g = sb * 8 + 4 * n + k;  // 32-element activation group
        const __m256i p = dot_u8_i8(q[k], load256(xq + 32 * g));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_permutevar8x32_ps(factor[n], spread[k]), acc);
      }
    }
  }
  return hsum(acc) - 32.0f * hsum(offset);
}

}  // namespace

bool int8_dot_supported(DType t) {
  return t == DType::Q8_0 || t == DType::Q4_K || t == DType::Q5_K || t == DType::Q6_K;
}

void quantize_activations(const float* x, int64_t n, int64_t K, QuantizedActivations& out) {
  out.q.resize(size_t(n * K));
  out.scale.resize(size_t(n * K / 32));
  out.sum16.resize(size_t(n * K / 16));
  for (int64_t g = 0; g < n * K / 32; ++g) {
    const float* xs = x + 32 * g;
    float amax = 0;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(xs[i]));
    const float d = amax / 127, id = d != 0 ? 1.0f / d : 0.0f;
    out.scale[size_t(g)] = d;
    int8_t* q = &out.q[size_t(32 * g)];
    int32_t s0 = 0, s1 = 0;
    for (int i = 0; i < 32; ++i) {
      q[i] = int8_t(std::lrintf(xs[i] * id));
      (i < 16 ? s0 : s1) += q[i];
    }
    out.sum16[size_t(2 * g)] = s0;
    out.sum16[size_t(2 * g + 1)] = s1;
  }
}

void matmul_rows_int8_avx2(const Matrix& w, int64_t r0, int64_t r1, const QuantizedActivations& x, int64_t n, float* y) {
  auto dot = w.dtype == DType::Q8_0   ? dot_q8_0
             : w.dtype == DType::Q4_K ? dot_k4<false>
             : w.dtype == DType::Q5_K ? dot_k4<true>
                                      : dot_q6_k;
  const int64_t K = w.cols;
  for (int64_t r = r0; r < r1; ++r) {
    const auto* row = static_cast<const uint8_t*>(w.row(r));
    for (int64_t t = 0; t < n; ++t) y[t * w.rows + r] = dot(row, x, t, K);
  }
}

}  // namespace a3b
