// Matrix-vector products for steps of a few tokens: bandwidth-bound, so every lane streams
// 16-byte weight chunks of two rows at once and the activations sit in shared memory as float.
// A prologue builds those activations (a plain copy, an RMSNorm of the residual, or the gated
// RMSNorm of DeltaNet), which saves a kernel and a round trip per projection.
#include <cstdlib>

#include "cuda/common.cuh"
#include "cuda/gemv_prologue.cuh"
#include "cuda/kernels.h"
#include "cuda/topk.cuh"

namespace a3b::cuda {
namespace {

constexpr int kWarps = 8;  // 256 threads

// Blocks per multiprocessor of the persistent GEMV grid (A3B_GEMV_BLOCKS_PER_SM, default 2).
int gemv_blocks_per_sm() {
  static const int n = [] {
    const char* s = std::getenv("A3B_GEMV_BLOCKS_PER_SM");
    return s && std::atoi(s) > 0 ? std::atoi(s) : 2;
  }();
  return n;
}

// The last block to finish (threadFenceReduction pattern) routes every token: its top-k of the
// logits the whole grid wrote. Saves a launch between the router and the experts.
__device__ void topk_epilogue(const GemvArgs& a, float* scratch_logits) {
  __shared__ int last;
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) last = atomicAdd(a.counter, 1) == int(gridDim.x) - 1;
  __syncthreads();
  if (!last) return;
  __threadfence();
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  __shared__ int ids[kGemvMaxTokens][16];
  __shared__ float ws[kGemvMaxTokens][16];
  if (warp < a.ntok) {
    float* l = scratch_logits + warp * a.topk_E;
    const volatile float* y = a.y + size_t(warp) * a.ldy;
    for (int e = lane; e < a.topk_E; e += 32) l[e] = y[e];
    __syncwarp();
    topk_warp(l, a.topk_E, a.topk_k, ids[warp], ws[warp]);
    if (lane < a.topk_k) {
      a.topk_id[warp * a.topk_k + lane] = ids[warp][lane];
      a.topk_w[warp * a.topk_k + lane] = ws[warp][lane];
    }
  }
  if (threadIdx.x == 0) *a.counter = 0;
}

// Each warp owns ROWS rows at a time and holds U 16-byte chunks of each in registers before using
// them: ROWS·U = 16 loads in flight per lane (2 rows × 8 chunks for K = 2048, 1 × 16 for K = 4096).
// Groups past w's rows are pair_w's row pairs (ROWS = 2 only).
template <int NT, int ROWS, int U>
__global__ __launch_bounds__(256, 2) void gemv_kernel(GemvArgs a) {
  extern __shared__ float4 smem4[];
  float* xs = reinterpret_cast<float*>(smem4);  // [NT][cols]
  __shared__ float scratch[33];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int chunks = a.cols / 8, w_groups = (a.rows + ROWS - 1) / ROWS, stride = gridDim.x * kWarps;
  const int groups = w_groups + (ROWS == 2 && a.pair_w.data ? int(a.pair_w.rows) / 2 : 0);
  int grp = blockIdx.x * kWarps + warp;

  uint4 w[ROWS][U];
  auto load = [&](int gi, int kb) {
    const bool pair = gi >= w_groups;
    const int rows = pair ? int(a.pair_w.rows) : a.rows;
#pragma unroll
    for (int r = 0; r < ROWS; ++r) {
      const int row = ROWS * (pair ? gi - w_groups : gi) + r;
      const bf16* base = (pair ? a.pair_w.bf() : a.w.bf()) + size_t(row) * a.cols;
#pragma unroll
      for (int u = 0; u < U; ++u) {
        const int c = (kb * U + u) * 32 + lane;
        w[r][u] = (row < rows && c < chunks) ? ld_stream(base + size_t(c) * 8) : make_uint4(0, 0, 0, 0);
      }
    }
  };
  // The first weights are in flight while the previous kernel finishes.
  if (grp < groups) load(grp, 0);
  gemv_before_wait<NT>(a, xs);
  grid_sync_prev();
  gemv_after_wait<NT>(a, xs, scratch);
  __syncthreads();

  const int nkb = (chunks + 32 * U - 1) / (32 * U);
  bool preloaded = true;
  for (; grp < groups; grp += stride) {
    float acc[ROWS][NT];
#pragma unroll
    for (int r = 0; r < ROWS; ++r)
#pragma unroll
      for (int t = 0; t < NT; ++t) acc[r][t] = 0.0f;
    for (int kb = 0; kb < nkb; ++kb) {
      if (!preloaded) load(grp, kb);
      preloaded = false;
#pragma unroll
      for (int u = 0; u < U; ++u) {
        const int c = (kb * U + u) * 32 + lane;
        if (c < chunks) {
#pragma unroll
          for (int t = 0; t < NT; ++t) {
            const float* xp = xs + t * a.cols + c * 8;
#pragma unroll
            for (int r = 0; r < ROWS; ++r) acc[r][t] += dot8(w[r][u], xp);
          }
        }
      }
    }
    if (ROWS == 2 && grp >= w_groups) {  // a pair_w pair: silu(gate) · up
#pragma unroll
      for (int t = 0; t < NT; ++t) {
        const float g = warp_sum(acc[0][t]), u = warp_sum(acc[ROWS - 1][t]);
        if (lane == 0 && t < a.ntok) a.pair_out[size_t(t) * a.pair_ld + grp - w_groups] = silu(g) * u;
      }
      continue;
    }
#pragma unroll
    for (int r = 0; r < ROWS; ++r) {
      const int row = ROWS * grp + r;
#pragma unroll
      for (int t = 0; t < NT; ++t) {
        const float s = warp_sum(acc[r][t]);
        if (lane == 0 && row < a.rows && t < a.ntok) {
          float* y = a.y + size_t(t) * a.ldy + row;
          *y = a.accumulate ? *y + s : s;
        }
      }
    }
  }
  if (a.counter) topk_epilogue(a, xs);
}

template <int NT>
void launch_gemv(const Ctx& ctx, const GemvArgs& a, const char* name) {
  const size_t smem = size_t(NT) * a.cols * sizeof(float);
  const bool wide = a.cols >= 4096;  // one row per warp, 16 chunks of it in flight
  const int groups = wide ? a.rows : (a.rows + 1) / 2 + int(a.pair_w.rows) / 2;
  const unsigned grid = std::min<unsigned>(blocks_for(groups, kWarps), unsigned(gemv_blocks_per_sm() * ctx.sms));
  if (wide) launch(ctx, name, gemv_kernel<NT, 1, 16>, grid, 256, smem, a);
  else launch(ctx, name, gemv_kernel<NT, 2, 8>, grid, 256, smem, a);
}

}  // namespace

void gemv(const Ctx& ctx, GemvArgs a, const char* name) {
  a.rows = int(a.w.rows);
  a.cols = a.w.cols;
  if (a.ntok < 1 || a.ntok > kGemvMaxTokens) fail("gemv ", name, ": ", a.ntok, " tokens (1..", kGemvMaxTokens, ")");
  if (a.cols % 8 != 0) fail("gemv ", name, ": ", a.cols, " columns, a multiple of 8 is required");
  if (a.ldx % 4 || (a.input == GemvInput::GatedNorm && (a.ldz % 4 || a.head_dim % 4 || a.head_dim > kGatedNormMaxHeadDim)))
    fail("gemv ", name, ": input rows must be 16-byte aligned (gated norm: heads of a multiple of 4, at most ",
         kGatedNormMaxHeadDim, ")");
  if (a.counter && (a.topk_k > kMaxK || a.topk_E > a.cols || a.topk_E > kMaxExperts))
    fail("gemv ", name, ": the top-k epilogue needs k <= ", kMaxK, " and E <= min(columns, ", kMaxExperts, ")");
  if (a.tail.data && !a.w.quantized()) fail("gemv ", name, ": tail rows follow quantized weights only");
  if (a.pair_w.data && (a.w.quantized() || a.pair_w.quantized() || a.pair_w.cols != a.cols || a.cols >= 4096 ||
                        a.pair_w.rows % 2 != 0 || !a.pair_out))
    fail("gemv ", name, ": row pairs need bf16 matrices of the same width (< 4096), an even row count, an output");
  if (a.w.quantized()) {
    if (a.counter) fail("gemv ", name, ": the top-k epilogue needs bf16 weights");
    return gemv_quant(ctx, a, name);
  }
  if (a.ntok == 1) launch_gemv<1>(ctx, a, name);
  else if (a.ntok == 2) launch_gemv<2>(ctx, a, name);
  else launch_gemv<4>(ctx, a, name);
}

}  // namespace a3b::cuda
