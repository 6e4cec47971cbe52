#include "core/dtype.h"

#include <cmath>

#include "core/quant.h"

namespace a3b {

namespace {

struct DTypeInfo {
  DType type;
  const char* name;
  int64_t block_elems;
  size_t block_bytes;
};

constexpr DTypeInfo kInfo[] = {
    {DType::F32, "F32", 1, 4},         {DType::F16, "F16", 1, 2},         {DType::BF16, "BF16", 1, 2},
    {DType::Q8_0, "Q8_0", 32, 34},     {DType::Q4_0, "Q4_0", 32, 18},     {DType::Q4_K, "Q4_K", 256, 144},
    {DType::Q5_K, "Q5_K", 256, 176},   {DType::Q6_K, "Q6_K", 256, 210},   {DType::IQ4_NL, "IQ4_NL", 32, 18},
    {DType::IQ4_XS, "IQ4_XS", 256, 136}, {DType::IQ3_XXS, "IQ3_XXS", 256, 98}, {DType::IQ3_S, "IQ3_S", 256, 110},
    {DType::IQ2_XXS, "IQ2_XXS", 256, 66}, {DType::MXFP4, "MXFP4", 32, 17},
};

const DTypeInfo& info(DType t) {
  for (const DTypeInfo& i : kInfo)
    if (i.type == t) return i;
  return kInfo[0];  // unreachable for valid enum values
}

}  // namespace

size_t dtype_size(DType t) { return info(t).block_bytes; }
int64_t dtype_block_elems(DType t) { return info(t).block_elems; }
const char* dtype_name(DType t) { return info(t).name; }

bool dtype_from_name(const std::string& name, DType* out) {
  for (const DTypeInfo& i : kInfo)
    if (name == i.name) {
      *out = i.type;
      return true;
    }
  return false;
}

float f16_to_f32(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      int e = -1;
      do { ++e; mant <<= 1; } while (!(mant & 0x400));
      bits = sign | uint32_t(127 - 15 - e) << 23 | (mant & 0x3ff) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | mant << 13;
  } else {
    bits = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t absx = x & 0x7fffffffu;
  if (absx > 0x7f800000u) return uint16_t(sign | 0x7e00);  // NaN
  if (absx >= 0x477ff000u) return uint16_t(sign | 0x7c00);  // overflow → inf (incl. rounding up)
  if (absx < 0x38800000u) {                                   // subnormal or zero in f16
    float a;
    std::memcpy(&a, &absx, 4);
    return uint16_t(sign | uint32_t(std::nearbyint(a * 16777216.0f)));  // a / 2^-24, ties to even
  }
  uint32_t mant = absx & 0x7fffff;
  uint32_t exp = (absx >> 23) - 127 + 15;
  uint32_t h = exp << 10 | mant >> 13;
  uint32_t rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) ++h;  // nearest even; may carry into exponent
  return uint16_t(sign | h);
}

void to_f32(DType t, const void* src, float* dst, size_t n) {
  switch (t) {
    case DType::F32:
      std::memcpy(dst, src, n * 4);
      return;
    case DType::F16: {
      auto* s = static_cast<const uint16_t*>(src);
      for (size_t i = 0; i < n; ++i) dst[i] = f16_to_f32(s[i]);
      return;
    }
    case DType::BF16: {
      auto* s = static_cast<const uint16_t*>(src);
      for (size_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(s[i]);
      return;
    }
    default:
      dequantize(t, src, dst, int64_t(n));
      return;
  }
}

}  // namespace a3b
