// Element types of stored tensors and the scalar conversions between them. Besides plain floats, the
// GGUF block-quantized types: a row of n elements is n / block_elems blocks of block_bytes each
// (layouts in core/quant.h and docs/gguf.md section 6).
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

namespace a3b {

enum class DType : uint8_t {
  F32, F16, BF16,
  Q8_0, Q4_0, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS, IQ3_XXS, IQ3_S, IQ2_XXS, MXFP4,
};
inline constexpr DType kAllDTypes[] = {DType::F32,  DType::F16,    DType::BF16,   DType::Q8_0,    DType::Q4_0,
                                       DType::Q4_K, DType::Q5_K,   DType::Q6_K,   DType::IQ4_NL,  DType::IQ4_XS,
                                       DType::IQ3_XXS, DType::IQ3_S, DType::IQ2_XXS, DType::MXFP4};

size_t dtype_size(DType t);           // bytes of one block (= of one element for F32/F16/BF16)
int64_t dtype_block_elems(DType t);   // elements per block: 1, 32 or 256
inline bool dtype_is_quantized(DType t) { return dtype_block_elems(t) > 1; }
// Bytes of n consecutive elements; n must be a multiple of the block size.
inline size_t dtype_row_bytes(DType t, int64_t n) { return size_t(n / dtype_block_elems(t)) * dtype_size(t); }
const char* dtype_name(DType t);      // "F32", "Q4_K", ... (GGUF spelling)
bool dtype_from_name(const std::string& name, DType* out);

inline float bf16_to_f32(uint16_t v) {
  uint32_t bits = uint32_t(v) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round to nearest even, as PyTorch does; NaN stays NaN.
inline uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return uint16_t((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return uint16_t(bits >> 16);
}

float f16_to_f32(uint16_t v);
uint16_t f32_to_f16(float f);

// Converts n stored elements of type t to float (quantized types: n a multiple of the block size).
void to_f32(DType t, const void* src, float* dst, size_t n);

}  // namespace a3b
