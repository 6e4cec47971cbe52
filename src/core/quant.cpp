// Dequantization follows ggml's reference dequantize_row_* operation for operation (same float
// products in the same order), so the results are bit-identical to gguf-py and llama.cpp's CPU
// reference; the quantization golden test checks that on gguf-py output.
#include "core/quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/quant_tables.h"

namespace a3b {
namespace {

using namespace quant_tables;

float half(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return f16_to_f32(h);
}

void put_half(uint8_t* p, float v) {
  uint16_t h = f32_to_f16(v);
  std::memcpy(p, &h, 2);
}

// The 6-bit scale and min of sub-block j of a Q4_K / Q5_K super-block.
void scale_min_k4(int j, const uint8_t* s, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
    *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

void dequant_q8_0(const uint8_t* b, float* y) {
  const float d = half(b);
  for (int j = 0; j < 32; ++j) y[j] = float(int8_t(b[2 + j])) * d;
}

void dequant_q4_0(const uint8_t* b, float* y) {
  const float d = half(b);
  for (int j = 0; j < 16; ++j) {
    y[j] = float((b[2 + j] & 0xF) - 8) * d;
    y[j + 16] = float((b[2 + j] >> 4) - 8) * d;
  }
}

void dequant_q4_k(const uint8_t* b, float* y) {
  const float d = half(b), dmin = half(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* q = b + 16;
  for (int c = 0; c < 4; ++c, q += 32, y += 64) {
    uint8_t sc, m;
    scale_min_k4(2 * c, scales, &sc, &m);
    const float d1 = d * sc, m1 = dmin * m;
    scale_min_k4(2 * c + 1, scales, &sc, &m);
    const float d2 = d * sc, m2 = dmin * m;
    for (int l = 0; l < 32; ++l) y[l] = d1 * (q[l] & 0xF) - m1;
    for (int l = 0; l < 32; ++l) y[l + 32] = d2 * (q[l] >> 4) - m2;
  }
}

void dequant_q5_k(const uint8_t* b, float* y) {
  const float d = half(b), dmin = half(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* qh = b + 16;
  const uint8_t* q = b + 48;
  uint8_t u1 = 1, u2 = 2;
  for (int c = 0; c < 4; ++c, q += 32, y += 64, u1 <<= 2, u2 <<= 2) {
    uint8_t sc, m;
    scale_min_k4(2 * c, scales, &sc, &m);
    const float d1 = d * sc, m1 = dmin * m;
    scale_min_k4(2 * c + 1, scales, &sc, &m);
    const float d2 = d * sc, m2 = dmin * m;
    for (int l = 0; l < 32; ++l) y[l] = d1 * ((q[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
    for (int l = 0; l < 32; ++l) y[l + 32] = d2 * ((q[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
  }
}

void dequant_q6_k(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
  const float d = half(b + 208);
  for (int n = 0; n < 2; ++n, y += 128, ql += 64, qh += 32, sc += 8) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = int8_t((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = int8_t((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = int8_t((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = int8_t((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * sc[is + 0] * q1;
      y[l + 32] = d * sc[is + 2] * q2;
      y[l + 64] = d * sc[is + 4] * q3;
      y[l + 96] = d * sc[is + 6] * q4;
    }
  }
}

void dequant_iq4_nl(const uint8_t* b, float* y) {
  const float d = half(b);
  for (int j = 0; j < 16; ++j) {
    y[j] = d * kIq4nlValues[b[2 + j] & 0xF];
    y[j + 16] = d * kIq4nlValues[b[2 + j] >> 4];
  }
}

void dequant_iq4_xs(const uint8_t* b, float* y) {
  const float d = half(b);
  uint16_t scales_h;
  std::memcpy(&scales_h, b + 2, 2);
  const uint8_t* scales_l = b + 4;
  const uint8_t* q = b + 8;
  for (int ib = 0; ib < 8; ++ib, q += 16, y += 32) {
    const int ls = ((scales_l[ib / 2] >> 4 * (ib % 2)) & 0xF) | (((scales_h >> 2 * ib) & 3) << 4);
    const float dl = d * (ls - 32);
    for (int j = 0; j < 16; ++j) {
      y[j] = dl * kIq4nlValues[q[j] & 0xF];
      y[j + 16] = dl * kIq4nlValues[q[j] >> 4];
    }
  }
}

void dequant_iq3_xxs(const uint8_t* b, float* y) {
  const float d = half(b);
  const uint8_t* q = b + 2;
  const uint8_t* scales_and_signs = q + 64;
  for (int ib = 0; ib < 8; ++ib, q += 8) {
    uint32_t aux;
    std::memcpy(&aux, scales_and_signs + 4 * ib, 4);
    const float db = d * (0.5f + (aux >> 28)) * 0.5f;
    for (int l = 0; l < 4; ++l, y += 8) {
      const uint8_t signs = kSigns[(aux >> 7 * l) & 127];
      const uint8_t* g1 = reinterpret_cast<const uint8_t*>(kIq3xxsGrid + q[2 * l + 0]);
      const uint8_t* g2 = reinterpret_cast<const uint8_t*>(kIq3xxsGrid + q[2 * l + 1]);
      for (int j = 0; j < 4; ++j) {
        y[j + 0] = db * g1[j] * (signs & kSignMask[j + 0] ? -1.f : 1.f);
        y[j + 4] = db * g2[j] * (signs & kSignMask[j + 4] ? -1.f : 1.f);
      }
    }
  }
}

void dequant_iq3_s(const uint8_t* b, float* y) {
  const float d = half(b);
  const uint8_t* q = b + 2;
  const uint8_t* qh = b + 66;
  const uint8_t* signs = b + 74;
  const uint8_t* scales = b + 106;
  for (int ib = 0; ib < 8; ib += 2) {
    const float db[2] = {d * (1 + 2 * (scales[ib / 2] & 0xF)), d * (1 + 2 * (scales[ib / 2] >> 4))};
    for (int half_block = 0; half_block < 2; ++half_block) {
      for (int l = 0; l < 4; ++l, y += 8) {
        const uint8_t* g1 = reinterpret_cast<const uint8_t*>(kIq3sGrid + (q[2 * l + 0] | ((qh[0] << (8 - 2 * l)) & 256)));
        const uint8_t* g2 = reinterpret_cast<const uint8_t*>(kIq3sGrid + (q[2 * l + 1] | ((qh[0] << (7 - 2 * l)) & 256)));
        for (int j = 0; j < 4; ++j) {
          y[j + 0] = db[half_block] * g1[j] * (signs[l] & kSignMask[j + 0] ? -1.f : 1.f);
          y[j + 4] = db[half_block] * g2[j] * (signs[l] & kSignMask[j + 4] ? -1.f : 1.f);
        }
      }
      qh += 1;
      q += 8;
      signs += 4;
    }
  }
}

void dequant_iq2_xxs(const uint8_t* b, float* y) {
  const float d = half(b);
  for (int ib = 0; ib < 8; ++ib) {
    uint32_t aux[2];
    std::memcpy(aux, b + 2 + 8 * ib, 8);
    const uint8_t* idx = reinterpret_cast<const uint8_t*>(aux);
    const float db = d * (0.5f + (aux[1] >> 28)) * 0.25f;
    for (int l = 0; l < 4; ++l, y += 8) {
      const uint8_t* g = reinterpret_cast<const uint8_t*>(kIq2xxsGrid + idx[l]);
      const uint8_t signs = kSigns[(aux[1] >> 7 * l) & 127];
      for (int j = 0; j < 8; ++j) y[j] = db * g[j] * (signs & kSignMask[j] ? -1.f : 1.f);
    }
  }
}

// 2^(e - 128) as a float (the E8M0 scale halved, because the table holds doubled E2M1 values).
float e8m0_half(uint8_t e) {
  uint32_t bits = e < 2 ? uint32_t(0x00200000) << e : uint32_t(e - 1) << 23;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

void dequant_mxfp4(const uint8_t* b, float* y) {
  static const int8_t kValues[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
  const float d = e8m0_half(b[0]);
  for (int j = 0; j < 16; ++j) {
    y[j] = d * kValues[b[1 + j] & 0xF];
    y[j + 16] = d * kValues[b[1 + j] >> 4];
  }
}

using BlockFn = void (*)(const uint8_t*, float*);

BlockFn block_dequantizer(DType t) {
  switch (t) {
    case DType::Q8_0: return dequant_q8_0;
    case DType::Q4_0: return dequant_q4_0;
    case DType::Q4_K: return dequant_q4_k;
    case DType::Q5_K: return dequant_q5_k;
    case DType::Q6_K: return dequant_q6_k;
    case DType::IQ4_NL: return dequant_iq4_nl;
    case DType::IQ4_XS: return dequant_iq4_xs;
    case DType::IQ3_XXS: return dequant_iq3_xxs;
    case DType::IQ3_S: return dequant_iq3_s;
    case DType::IQ2_XXS: return dequant_iq2_xxs;
    case DType::MXFP4: return dequant_mxfp4;
    default: return nullptr;
  }
}

// ---- quantizers ----

int nearest_int(float v) { return int(std::lrintf(v)); }

void quant_q8_0(const float* x, uint8_t* b) {
  float amax = 0;
  for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127, id = d != 0 ? 1.0f / d : 0.0f;
  put_half(b, d);
  for (int j = 0; j < 32; ++j) b[2 + j] = uint8_t(int8_t(std::roundf(x[j] * id)));
}

void quant_q4_0(const float* x, uint8_t* b) {
  float amax = 0, max = 0;
  for (int j = 0; j < 32; ++j)
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  const float d = max / -8, id = d != 0 ? 1.0f / d : 0.0f;
  put_half(b, d);
  for (int j = 0; j < 16; ++j) {
    const int q0 = std::min(15, int(x[j] * id + 8.5f));
    const int q1 = std::min(15, int(x[j + 16] * id + 8.5f));
    b[2 + j] = uint8_t(q0 | (q1 << 4));
  }
}

// Best affine fit x ≈ scale * q - min with q in 0..nmax for one sub-block: candidate scales
// around (hi - lo) / nmax, each followed by a least-squares refit of scale and min on its q.
void fit_affine(const float* x, int n, int nmax, float* scale, float* min) {
  float lo = x[0], hi = x[0];
  for (int l = 1; l < n; ++l) {
    lo = std::min(lo, x[l]);
    hi = std::max(hi, x[l]);
  }
  lo = std::min(lo, 0.0f);
  if (hi <= lo) {
    *scale = 0;
    *min = -lo;
    return;
  }
  float best_err = INFINITY, best_scale = (hi - lo) / nmax, best_min = -lo;
  for (int step = -4; step <= 12; ++step) {
    const float iscale = (nmax + 0.1f * step) / (hi - lo);
    // q from this candidate, then the least-squares scale/offset for those q.
    double sq = 0, sx = 0, sqq = 0, sqx = 0;
    int q[256];
    for (int l = 0; l < n; ++l) {
      q[l] = std::clamp(nearest_int(iscale * (x[l] - lo)), 0, nmax);
      sq += q[l];
      sx += x[l];
      sqq += double(q[l]) * q[l];
      sqx += double(q[l]) * x[l];
    }
    const double det = n * sqq - sq * sq;
    if (det <= 0) continue;
    double a = (n * sqx - sq * sx) / det, b = (sqq * sx - sq * sqx) / det;  // x ≈ a q + b
    if (b > 0) {  // the format needs min >= 0 (offset <= 0): refit the scale alone
      b = 0;
      a = sqq > 0 ? sqx / sqq : 0;
    }
    if (a <= 0) continue;
    double err = 0;
    for (int l = 0; l < n; ++l) {
      const int qq = std::clamp(nearest_int(float((x[l] - b) / a)), 0, nmax);
      const double e = a * qq + b - x[l];
      err += e * e;
    }
    if (err < best_err) {
      best_err = float(err);
      best_scale = float(a);
      best_min = float(-b);
    }
  }
  *scale = best_scale;
  *min = best_min;
}

// Q4_K and Q5_K: per sub-block of 32, x ≈ scale * q - min with q in 0..15 (0..31 for Q5_K, the
// fifth bits in qh), scales and mins as 6-bit multiples of the super-block's d and dmin.
template <bool kQ5>
void quant_k4(const float* x, uint8_t* b) {
  constexpr int kMax = kQ5 ? 31 : 15;
  float scale[8], min[8];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 8; ++j) {
    fit_affine(x + 32 * j, 32, kMax, &scale[j], &min[j]);
    max_scale = std::max(max_scale, scale[j]);
    max_min = std::max(max_min, min[j]);
  }
  const float inv_scale = max_scale > 0 ? 63 / max_scale : 0, inv_min = max_min > 0 ? 63 / max_min : 0;
  uint8_t ls[8], lm[8];
  for (int j = 0; j < 8; ++j) {
    ls[j] = uint8_t(std::min(63, nearest_int(inv_scale * scale[j])));
    lm[j] = uint8_t(std::min(63, nearest_int(inv_min * min[j])));
  }
  put_half(b, max_scale / 63);
  put_half(b + 2, max_min / 63);
  const float d = half(b), dmin = half(b + 2);
  uint8_t* s = b + 4;
  std::memset(s, 0, 12);
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      s[j] = ls[j];
      s[j + 4] = lm[j];
    } else {
      s[j + 4] = uint8_t((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
      s[j - 4] |= uint8_t((ls[j] >> 4) << 6);
      s[j] |= uint8_t((lm[j] >> 4) << 6);
    }
  }
  uint8_t L[256];
  for (int j = 0; j < 8; ++j) {
    const float dd = d * ls[j], dm = dmin * lm[j];
    for (int l = 0; l < 32; ++l) {
      const int q = dd != 0 ? nearest_int((x[32 * j + l] + dm) / dd) : 0;
      L[32 * j + l] = uint8_t(std::clamp(q, 0, kMax));
    }
  }
  uint8_t* qh = b + 16;
  uint8_t* q = kQ5 ? b + 48 : b + 16;
  if (kQ5) std::memset(qh, 0, 32);
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      const uint8_t lo = L[64 * c + l], hi = L[64 * c + 32 + l];
      q[32 * c + l] = uint8_t((lo & 0xF) | ((hi & 0xF) << 4));
      if (kQ5) qh[l] |= uint8_t(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
    }
}

// Best x ≈ scale * q, q in -32..31, for one sub-block whose largest magnitude is `max`: candidates
// around max / -32 (the largest magnitude on -32, the end with the extra level), each refit by
// least squares on its q.
float fit_symmetric(const float* x, int n, float max) {
  if (max == 0) return 0;
  float best_err = INFINITY, best = max / -32;
  for (int step = -4; step <= 8; ++step) {
    const float iscale = -(32 + 0.1f * step) / max;
    double sqq = 0, sqx = 0;
    for (int l = 0; l < n; ++l) {
      const int q = std::clamp(nearest_int(iscale * x[l]), -32, 31);
      sqq += double(q) * q;
      sqx += double(q) * x[l];
    }
    if (sqq <= 0) continue;
    const double a = sqx / sqq;
    double err = 0;
    for (int l = 0; l < n; ++l) {
      const double e = a * std::clamp(nearest_int(float(x[l] / a)), -32, 31) - x[l];
      err += e * e;
    }
    if (err < best_err) {
      best_err = float(err);
      best = float(a);
    }
  }
  return best;
}

// Per sub-block of 16: x ≈ scale * q, q in -32..31, scales as int8 multiples of the block's d.
void quant_q6_k(const float* x, uint8_t* b) {
  float scale[16];
  float max_scale = 0, max_abs_scale = 0;
  for (int j = 0; j < 16; ++j) {
    float amax = 0, max = 0;
    for (int l = 0; l < 16; ++l)
      if (amax < std::fabs(x[16 * j + l])) {
        amax = std::fabs(x[16 * j + l]);
        max = x[16 * j + l];
      }
    scale[j] = fit_symmetric(x + 16 * j, 16, max);
    if (std::fabs(scale[j]) > max_abs_scale) {
      max_abs_scale = std::fabs(scale[j]);
      max_scale = scale[j];
    }
  }
  uint8_t* ql = b;
  uint8_t* qh = b + 128;
  int8_t* sc = reinterpret_cast<int8_t*>(b + 192);
  std::memset(b, 0, 210);
  if (max_abs_scale == 0) return;
  const float iscale = -128.0f / max_scale;
  put_half(b + 208, 1 / iscale);
  const float d = half(b + 208);
  uint8_t L[256];
  for (int j = 0; j < 16; ++j) {
    sc[j] = int8_t(std::min(127, nearest_int(iscale * scale[j])));
    const float dd = d * sc[j];
    for (int l = 0; l < 16; ++l) {
      const int q = dd != 0 ? nearest_int(x[16 * j + l] / dd) : 0;
      L[16 * j + l] = uint8_t(std::clamp(q, -32, 31) + 32);
    }
  }
  for (int n = 0; n < 2; ++n, ql += 64, qh += 32) {
    const uint8_t* Ln = L + 128 * n;
    for (int l = 0; l < 32; ++l) {
      ql[l] = uint8_t((Ln[l] & 0xF) | ((Ln[l + 64] & 0xF) << 4));
      ql[l + 32] = uint8_t((Ln[l + 32] & 0xF) | ((Ln[l + 96] & 0xF) << 4));
      qh[l] = uint8_t((Ln[l] >> 4) | ((Ln[l + 32] >> 4) << 2) | ((Ln[l + 64] >> 4) << 4) | ((Ln[l + 96] >> 4) << 6));
    }
  }
}

using QuantFn = void (*)(const float*, uint8_t*);

QuantFn block_quantizer(DType t) {
  switch (t) {
    case DType::Q8_0: return quant_q8_0;
    case DType::Q4_0: return quant_q4_0;
    case DType::Q4_K: return quant_k4<false>;
    case DType::Q5_K: return quant_k4<true>;
    case DType::Q6_K: return quant_q6_k;
    default: return nullptr;
  }
}

void check_whole_blocks(DType t, int64_t n, const char* what) {
  if (n < 0 || n % dtype_block_elems(t) != 0)
    fail(what, ": ", n, " elements of ", dtype_name(t), " are not a whole number of ", dtype_block_elems(t), "-element blocks");
}

}  // namespace

void dequantize(DType t, const void* src, float* dst, int64_t n) {
  if (!dtype_is_quantized(t)) return to_f32(t, src, dst, size_t(n));
  check_whole_blocks(t, n, "dequantize");
  BlockFn fn = block_dequantizer(t);
  const auto* b = static_cast<const uint8_t*>(src);
  const int64_t be = dtype_block_elems(t);
  const size_t bb = dtype_size(t);
  for (int64_t i = 0; i < n / be; ++i) fn(b + size_t(i) * bb, dst + i * be);
}

bool can_quantize(DType t) {
  return t == DType::F32 || t == DType::F16 || t == DType::BF16 || block_quantizer(t) != nullptr;
}

void quantize(DType t, const float* src, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  switch (t) {
    case DType::F32:
      std::memcpy(out, src, size_t(n) * 4);
      return;
    case DType::F16:
    case DType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h = t == DType::F16 ? f32_to_f16(src[i]) : f32_to_bf16(src[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      return;
    default: break;
  }
  QuantFn fn = block_quantizer(t);
  if (!fn) fail("quantizing to ", dtype_name(t), " is not supported (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K)");
  check_whole_blocks(t, n, "quantize");
  const int64_t be = dtype_block_elems(t);
  const size_t bb = dtype_size(t);
  for (int64_t i = 0; i < n / be; ++i) fn(src + i * be, out + size_t(i) * bb);
}

}  // namespace a3b
