// Routing: softmax over the experts, top k, renormalised — by one warp, shared by the router
// GEMV's epilogue (gemv.cu) and the MoE kernels (moe.cu).
#pragma once
#include <climits>

#include "cuda/common.cuh"

namespace a3b::cuda {

constexpr int kMaxK = 16;  // experts per token the kernels hold

// Softmax over all experts, top k, renormalised: executed by one warp over logits in shared
// memory (selected entries are knocked out). Ties go to the lower expert index, as on the CPU.
__device__ inline void topk_warp(float* l, int E, int k, int* ids, float* ws) {
  const int lane = threadIdx.x % 32;
  float sel[kMaxK];
  for (int j = 0; j < k; ++j) {
    float best = -INFINITY;
    int bi = INT_MAX;
    for (int e = lane; e < E; e += 32)
      if (l[e] > best || (l[e] == best && e < bi)) best = l[e], bi = e;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
      const float ob = __shfl_xor_sync(0xffffffffu, best, o);
      const int oi = __shfl_xor_sync(0xffffffffu, bi, o);
      if (ob > best || (ob == best && oi < bi)) best = ob, bi = oi;
    }
    sel[j < kMaxK ? j : kMaxK - 1] = best;
    if (lane == 0) ids[j] = bi;
    __syncwarp();
    if (lane == bi % 32) l[bi] = -INFINITY;
    __syncwarp();
  }
  if (lane == 0) {
    float sum = 0;
    for (int j = 0; j < k; ++j) sum += expf(sel[j] - sel[0]);
    for (int j = 0; j < k; ++j) ws[j] = expf(sel[j] - sel[0]) / sum;
  }
  __syncwarp();
}

}  // namespace a3b::cuda
