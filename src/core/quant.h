// GGUF block quantization: dequantization of every DType (bit-exact with ggml's reference
// dequantize_row_* / gguf-py), and quantizers for the types `a3b quantize` writes.
//
// Block layouts (little-endian, d/dmin fp16): Q8_0 {d, int8 q[32]}; Q4_0 {d, q[16] nibbles};
// Q4_K {d, dmin, 6-bit scales/mins[12], q[128]}; Q5_K {d, dmin, scales[12], qh[32], q[128]};
// Q6_K {ql[128], qh[64], int8 scales[16], d}; IQ4_NL {d, q[16]}; IQ4_XS {d, u16 scales_h, scales_l[4],
// q[128]}; IQ3_XXS {d, q[64], u32 scale+signs[8]}; IQ3_S {d, q[64], qh[8], signs[32], scales[4]};
// IQ2_XXS {d, u16 q[32]}; MXFP4 {E8M0 e, q[16]}. See docs/gguf.md section 6.
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace a3b {

// n elements (a multiple of the block size) of type t to float. Plain float types too.
void dequantize(DType t, const void* src, float* dst, int64_t n);

// True for the types quantize() can write: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K.
bool can_quantize(DType t);
// n floats (a multiple of the block size) to type t; dst holds dtype_row_bytes(t, n) bytes.
// Q8_0 and Q4_0 match ggml's reference quantizers bit for bit; the K-quants use a simpler scale
// search than llama.cpp (round trip error checked in tests). Throws Error for other types.
void quantize(DType t, const float* src, void* dst, int64_t n);

}  // namespace a3b
