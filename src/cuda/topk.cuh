// Routing: softmax over the experts, top k, renormalised — by one warp, shared by the router
// GEMV's epilogue (gemv.cu), the MoE kernels (moe.cu) and the quantized experts' kernels, which
// route their token themselves (qmoe.cu).
#pragma once
#include "cuda/common.cuh"

namespace a3b::cuda {

constexpr int kMaxK = 16;  // experts per token the kernels hold

constexpr int kMaxExperts = 1024;  // experts the warp holds in registers, 32 per lane at most

// A float's bits as an unsigned key with the same order (-0 taken as +0, so that it ties with +0).
__device__ __forceinline__ uint32_t order_key(float v) {
  const uint32_t b = __float_as_uint(v + 0.0f);
  return (b & 0x80000000u) ? ~b : b | 0x80000000u;
}
__device__ __forceinline__ float key_value(uint32_t k) { return __uint_as_float((k & 0x80000000u) ? k & 0x7fffffffu : ~k); }

// PER keys per lane (expert lane + 32 i): each round, the lane's best, then the warp's best by one
// max-reduction and its lowest index by one min-reduction; the owner drops it (key 0).
// kGlobal: l is in global memory, written by an earlier launch (read through L2).
template <int PER, bool kGlobal>
__device__ void topk_warp_keys(const float* l, int E, int k, int* ids, float* ws) {
  const int lane = threadIdx.x % 32;
  uint32_t key[PER];
#pragma unroll
  for (int i = 0; i < PER; ++i) {
    const int e = lane + 32 * i;
    key[i] = e < E ? order_key(kGlobal ? __ldcg(l + e) : l[e]) : 0u;
  }
  float mine = 0.0f, top = 0.0f;  // lane j keeps the j-th selected logit
  for (int j = 0; j < k; ++j) {
    uint32_t best = 0;
    int bi = 0;
#pragma unroll
    for (int i = 0; i < PER; ++i)
      if (key[i] > best) best = key[i], bi = i;  // strict: the lowest index of equal keys
    const uint32_t m = __reduce_max_sync(0xffffffffu, best);
    const uint32_t win = __reduce_min_sync(0xffffffffu, best == m ? uint32_t(lane + 32 * bi) : 0xffffffffu);
    if (lane == int(win % 32))
#pragma unroll
      for (int i = 0; i < PER; ++i)
        if (i == int(win / 32)) key[i] = 0u;
    const float v = key_value(m);
    if (j == 0) top = v;
    if (lane == j) mine = v;
    if (lane == 0) ids[j] = int(win);
  }
  const float e = lane < k ? expf(mine - top) : 0.0f;
  const float sum = warp_sum(e);
  if (lane < k) ws[lane] = e / sum;
  __syncwarp();
}

// Softmax over all experts, top k, renormalised: executed by one warp over E ≤ kMaxExperts logits
// (k ≤ min(32, E)), results in ids / ws. Ties go to the lower expert index, as on the CPU.
template <bool kGlobal = false>
__device__ inline void topk_warp(const float* l, int E, int k, int* ids, float* ws) {
  if (E <= 256) topk_warp_keys<8, kGlobal>(l, E, k, ids, ws);
  else if (E <= 512) topk_warp_keys<16, kGlobal>(l, E, k, ids, ws);
  else topk_warp_keys<32, kGlobal>(l, E, k, ids, ws);
}

// Block-wide: token t's routing from its logits row (router output of an earlier launch) into
// the shared ids / ws, by warp 0; every thread returns after a barrier.
__device__ inline void route_token(const float* logits, int E, int k, int* ids, float* ws) {
  if (threadIdx.x < 32) topk_warp<true>(logits, E, k, ids, ws);
  __syncthreads();
}

}  // namespace a3b::cuda
