// What the DeltaNet kernels (deltanet.cu: decode, conv, token by token; deltanet_chunked.cu: the
// chunked prefill form) share: a block owns 32 value columns of one head, key heads ≤ 128.
#pragma once
#include "cuda/common.cuh"
#include "cuda/kernels.h"

namespace a3b::cuda {

constexpr int kGdnCols = 32;     // value columns per block
constexpr int kGdnMaxDk = 128;   // key dimension the kernels hold (8 warps × 16 rows)

struct GdnOffsets {
  int b, a;  // columns of β and decay inputs in the in-proj rows
};
__device__ __forceinline__ GdnOffsets gdn_offsets(const Dims& d) {
  return {d.conv_dim + d.value_dim, d.conv_dim + d.value_dim + d.nv};
}

inline void gdn_check_dims(const Dims& d) {
  if (d.dk > kGdnMaxDk) fail("CUDA DeltaNet: key head dim ", d.dk, " exceeds the supported ", kGdnMaxDk);
  if (d.dk % 4 || d.dv % 4) fail("CUDA DeltaNet: head dims must be multiples of 4");
  if (d.nv % d.nk != 0) fail("CUDA DeltaNet: value heads must be a multiple of key heads");
}

// Block (value head, 32-column block, sequence).
inline dim3 gdn_head_grid(const Dims& d, int seqs) {
  return dim3(unsigned(d.nv), blocks_for(d.dv, kGdnCols), unsigned(seqs));
}

}  // namespace a3b::cuda
