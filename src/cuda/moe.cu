// Sparse MoE on the GPU (architecture.md §8). Few tokens: two fused gather-GEMV kernels that read
// only the selected experts (gate/up with SiLU, then down with the routing weights, the shared
// expert and the residual add). Many tokens: rows sorted by expert, then grouped tensor-core GEMMs.
#include "cuda/common.cuh"
#include "cuda/kernels.h"
#include "cuda/topk.cuh"

namespace a3b::cuda {
namespace {



// One warp per token: top-k of the router logits into topk_id / topk_w.
__global__ void moe_topk_kernel(MoeArgs a) {
  extern __shared__ float4 smem4[];
  __shared__ int ids[kMaxK];
  __shared__ float ws[kMaxK];
  grid_sync_prev();
  const Dims d = a.d;
  const int t = blockIdx.x, lane = threadIdx.x;
  float* ls = reinterpret_cast<float*>(smem4);
  for (int e = lane; e < d.E; e += 32) ls[e] = a.logits[size_t(t) * (d.E + 1) + e];
  __syncwarp();
  topk_warp(ls, d.E, d.k, ids, ws);
  if (lane < d.k) {
    a.topk_id[t * d.k + lane] = ids[lane];
    a.topk_w[t * d.k + lane] = ws[lane];
  }
}

// Block (pair chunk, slot, token): slot < k is the token's j-th expert, slot k the shared one.
// act[t][slot][j] = silu(gate_j · x) · (up_j · x). Few registers, so that all blocks fit at once.
constexpr int kGateUpU = 4;
__global__ __launch_bounds__(256, 4) void moe_gate_up_kernel(MoeArgs a, int act_stride) {
  extern __shared__ float4 smem4[];
  float* xs = reinterpret_cast<float*>(smem4);  // [H]
  const Dims d = a.d;
  const int t = blockIdx.z, slot = blockIdx.y, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const bool shared = slot == d.k;
  const int width = shared ? d.Is : d.I, j = blockIdx.x * 8 + warp, chunks = d.H / 8;
  uint4 rg[kGateUpU], ru[kGateUpU];
  auto load = [&](const bf16* wg, int c0) {
#pragma unroll
    for (int x = 0; x < kGateUpU; ++x) {
      const int c = c0 + x * 32 + lane;
      rg[x] = c < chunks ? ld_stream(wg + size_t(c) * 8) : make_uint4(0, 0, 0, 0);
      ru[x] = c < chunks ? ld_stream(wg + d.H + size_t(c) * 8) : make_uint4(0, 0, 0, 0);
    }
  };
  // The shared expert's rows are known before the router finishes: fetch them first.
  const bool prefetched = shared && j < width;
  if (prefetched) load(a.sh_gate_up.bf() + size_t(2 * j) * d.H, 0);
  grid_sync_prev();
  block_copy_f4(xs, a.x + size_t(t) * d.H, d.H);
  __syncthreads();
  if (j >= width) return;
  const bf16* wg = shared ? a.sh_gate_up.bf() + size_t(2 * j) * d.H
                          : a.gate_up.bf() + (size_t(a.topk_id[t * d.k + slot]) * 2 * d.I + 2 * j) * d.H;
  float g = 0, u = 0;
  for (int c0 = 0; c0 < chunks; c0 += 32 * kGateUpU) {
    if (c0 > 0 || !prefetched) load(wg, c0);
#pragma unroll
    for (int x = 0; x < kGateUpU; ++x) {
      const int c = c0 + x * 32 + lane;
      if (c < chunks) {
        g += dot8(rg[x], xs + c * 8);
        u += dot8(ru[x], xs + c * 8);
      }
    }
  }
  g = warp_sum(g);
  u = warp_sum(u);
  if (lane == 0) a.act[(size_t(t) * (d.k + 1) + slot) * act_stride + j] = silu(g) * u;
}

// Block (row chunk, token): h[t][r] += Σ_j w_j down_{e_j}[r] · act_j + σ(s) shared_down[r] · act_k.
// Every slot's chunks of the row are in flight together, and the first of them (and h) are
// requested before the grid waits: the router ran two launches back, and a launch only starts
// once the one before it has passed its own wait, so the expert ids are final here (see
// grid_sync_prev).
constexpr int kDownSlots = 9;
__global__ __launch_bounds__(256, 2) void moe_down_kernel(MoeArgs a, int act_stride) {
  extern __shared__ float4 smem4[];
  float* acts = reinterpret_cast<float*>(smem4);  // [k + 1][act_stride]
  __shared__ float ws[kMaxK + 1];
  const Dims d = a.d;
  const int t = blockIdx.y, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const bool has_shared = a.sh_down.data != nullptr;
  const int nslots = d.k + (has_shared ? 1 : 0);
  const int my_id = lane < d.k ? a.topk_id[t * d.k + lane] : 0;  // lane s holds slot s's expert
  const int r = blockIdx.x * 8 + warp;
  auto row = [&](int s) {
    const int e = __shfl_sync(0xffffffffu, my_id, s < d.k ? s : 0);
    return s < d.k ? a.down.bf() + (size_t(e) * d.H + r) * d.I : a.sh_down.bf() + size_t(r) * d.Is;
  };
  auto n_chunks = [&](int s) { return (s < d.k ? d.I : d.Is) / 8; };
  uint4 wv[kDownSlots][2];
  auto load = [&](int cb, int s0) {
#pragma unroll
    for (int si = 0; si < kDownSlots; ++si) {
      const int s = s0 + si;
      const bf16* base = row(s);  // outside the branch: every lane joins the shuffle
#pragma unroll
      for (int cc = 0; cc < 2; ++cc) {
        const int c = cb + lane + 32 * cc;
        wv[si][cc] = r < d.H && s < nslots && c < n_chunks(s) ? ld_stream(base + size_t(c) * 8) : make_uint4(0, 0, 0, 0);
      }
    }
  };
  load(0, 0);
  float* h = a.h + size_t(t) * d.H + r;
  const float h0 = lane == 0 && r < d.H ? *h : 0.0f;  // last written before the router
  grid_sync_prev();
  block_copy_f4(acts, a.act + size_t(t) * (d.k + 1) * act_stride, nslots * act_stride);
  if (threadIdx.x < d.k) ws[threadIdx.x] = a.topk_w[t * d.k + threadIdx.x];
  if (threadIdx.x == 0) ws[d.k] = has_shared ? sigmoid(a.logits[size_t(t) * (d.E + 1) + d.E]) : 0.0f;
  __syncthreads();
  if (r >= d.H) return;
  const int max_chunks = max(d.I, d.Is) / 8;
  float acc = 0;
  for (int cb = 0; cb < max_chunks; cb += 64) {
    for (int s0 = 0; s0 < nslots; s0 += kDownSlots) {
      if (cb > 0 || s0 > 0) load(cb, s0);
#pragma unroll
      for (int si = 0; si < kDownSlots; ++si)
#pragma unroll
        for (int cc = 0; cc < 2; ++cc) {
          const int s = s0 + si, c = cb + lane + 32 * cc;
          if (s < nslots && c < n_chunks(s)) acc += ws[s] * dot8(wv[si][cc], acts + s * act_stride + c * 8);
        }
    }
  }
  acc = warp_sum(acc);
  if (lane == 0) *h = h0 + acc;
}

// Grouped path ------------------------------------------------------------------------------

// One warp per token: top-k into topk_id/topk_w, and the per-expert row counts.
__global__ void moe_route_kernel(MoeArgs a) {
  extern __shared__ float4 smem4[];
  __shared__ int ids[8][kMaxK];
  __shared__ float ws[8][kMaxK];
  grid_sync_prev();
  const Dims d = a.d;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, t = blockIdx.x * 8 + warp;
  if (t >= a.T) return;
  float* ls = reinterpret_cast<float*>(smem4) + warp * d.E;
  for (int e = lane; e < d.E; e += 32) ls[e] = a.logits[size_t(t) * (d.E + 1) + e];
  __syncwarp();
  topk_warp(ls, d.E, d.k, ids[warp], ws[warp]);
  if (lane < d.k) {
    a.topk_id[t * d.k + lane] = ids[warp][lane];
    a.topk_w[t * d.k + lane] = ws[warp][lane];
    atomicAdd(&a.counts[ids[warp][lane]], 1);
  }
}

// Inclusive prefix sum over the block (blockDim.x = 1024).
__device__ int block_scan(int v, int* scratch /* [32] */) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
#pragma unroll
  for (int o = 1; o < 32; o <<= 1) {
    const int n = __shfl_up_sync(0xffffffffu, v, o);
    if (lane >= o) v += n;
  }
  __syncthreads();
  if (lane == 31) scratch[warp] = v;
  __syncthreads();
  if (warp == 0) {
    int s = scratch[lane];
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
      const int n = __shfl_up_sync(0xffffffffu, s, o);
      if (lane >= o) s += n;
    }
    scratch[lane] = s;
  }
  __syncthreads();
  return v + (warp > 0 ? scratch[warp - 1] : 0);
}

// Segment starts and tile starts per expert (exclusive scans), and the fill counters reset.
__global__ __launch_bounds__(1024) void moe_plan_kernel(MoeArgs a) {
  __shared__ int scratch[32];
  grid_sync_prev();
  const int e = threadIdx.x, E = a.d.E;
  const int n = e < E ? a.counts[e] : 0;
  const int rows = block_scan(n, scratch);
  const int tiles = block_scan((n + kGemmTileM - 1) / kGemmTileM, scratch);
  if (e < E) {
    a.seg[e + 1] = rows;
    a.tiles[e + 1] = tiles;
    a.fill[e] = 0;
  }
  if (e == 0) a.seg[0] = a.tiles[0] = 0;
}

__global__ void moe_scatter_kernel(MoeArgs a) {
  grid_sync_prev();
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= a.T * a.d.k) return;
  const int e = a.topk_id[i];
  const int row = a.seg[e] + atomicAdd(&a.fill[e], 1);
  a.perm_tok[row] = i / a.d.k;
  a.slot_of[i] = row;
}

__global__ void moe_combine_kernel(MoeArgs a) {
  grid_sync_prev();
  const Dims d = a.d;
  const int t = blockIdx.x;
  const float sg = a.y_sh ? sigmoid(a.logits[size_t(t) * (d.E + 1) + d.E]) : 0.0f;
  for (int c = threadIdx.x; c < d.H; c += blockDim.x) {
    float v = 0;
    for (int j = 0; j < d.k; ++j) v += a.topk_w[t * d.k + j] * a.y_exp[size_t(a.slot_of[t * d.k + j]) * d.H + c];
    if (a.y_sh) v += sg * a.y_sh[size_t(t) * d.H + c];
    a.h[size_t(t) * d.H + c] += v;
  }
}

void check(const Dims& d) {
  if (d.k > kMaxK) fail("CUDA MoE: ", d.k, " experts per token (at most ", kMaxK, ")");
  if (d.E > kMaxExperts) fail("CUDA MoE: ", d.E, " experts (at most ", kMaxExperts, ")");
  if (d.H % 8 || d.I % 8 || d.Is % 8) fail("CUDA MoE: hidden and expert widths must be multiples of 8");
}

}  // namespace

void moe_small(const Ctx& ctx, const MoeArgs& a, bool topk_ready) {
  check(a.d);
  const Dims& d = a.d;
  const int act_stride = std::max(d.I, d.Is);
  const int slots = d.k + (a.sh_gate_up.data && !a.shared_act_ready ? 1 : 0);
  if (moe_routes_in_experts(a)) return moe_small_quant(ctx, a, act_stride);
  if (!topk_ready) launch(ctx, "moe/topk", moe_topk_kernel, unsigned(a.T), 32, size_t(d.E) * sizeof(float), a);
  launch(ctx, "moe/gate_up", moe_gate_up_kernel, dim3(blocks_for(act_stride, 8), unsigned(slots), unsigned(a.T)), 256,
         size_t(d.H) * sizeof(float), a, act_stride);
  launch(ctx, "moe/down", moe_down_kernel, dim3(blocks_for(d.H, 8), unsigned(a.T)), 256,
         size_t(d.k + 1) * act_stride * sizeof(float), a, act_stride);
}

void moe_grouped(const Ctx& ctx, const MoeArgs& a) {
  check(a.d);
  const Dims& d = a.d;
  {
    ProfileScope scope(ctx, "moe/route");
    A3B_CUDA(cudaMemsetAsync(a.counts, 0, size_t(d.E) * sizeof(int), ctx.stream));
  }
  launch(ctx, "moe/route", moe_route_kernel, blocks_for(a.T, 8), 256, size_t(8) * d.E * sizeof(float), a);
  launch(ctx, "moe/route", moe_plan_kernel, 1, 1024, 0, a);
  launch(ctx, "moe/route", moe_scatter_kernel, blocks_for(int64_t(a.T) * d.k, 256), 256, 0, a);

  // Quantized experts: read as they are (quant_gemm: the routed ones, whose tiles are many), or
  // those with rows dequantized into the scratch first (same layout as bf16).
  auto weights = [&](GroupGemmArgs& g, const GpuMatrix& m, int experts, int64_t per, const int* counts) {
    const bool read_quantized = a.quant_gemm && m.quantized() && experts > 1;
    g.wq = read_quantized ? m : GpuMatrix{};
    g.few_rows = experts > 1 && a.T * d.k <= 8 * d.E;  // at most 8 rows per expert on average
    g.w = m.quantized() && m.bf16_copy ? m.bf16_copy : m.bf();
    if (m.quantized() && !read_quantized && !m.bf16_copy) {
      dequant_experts(ctx, m, experts, per, counts, a.deq, "moe/dequant");
      g.w = a.deq;
    }
  };
  const int rows = a.T * d.k;
  GroupGemmArgs g;
  g.a = a.xb;
  g.lda = d.H;
  g.a_index = a.perm_tok;
  weights(g, a.gate_up, d.E, int64_t(2) * d.I, a.counts);
  g.w_stride = int64_t(2) * d.I * d.H;
  g.N = 2 * d.I;
  g.K = d.H;
  g.groups = d.E;
  g.seg = a.seg;
  g.tiles = a.tiles;
  g.max_tiles = std::min(rows, (rows + kGemmTileM - 1) / kGemmTileM + d.E);
  g.swiglu = true;
  g.out = a.act_b;
  g.ldo = d.I;
  group_gemm(ctx, g, "moe/experts_gate_up");
  g.a = a.act_b;
  g.lda = d.I;
  g.a_index = nullptr;
  weights(g, a.down, d.E, d.H, a.counts);
  g.w_stride = int64_t(d.H) * d.I;
  g.N = d.H;
  g.K = d.I;
  g.swiglu = false;
  g.out = a.y_exp;
  g.ldo = d.H;
  group_gemm(ctx, g, "moe/experts_down");

  if (a.sh_gate_up.data) {
    GroupGemmArgs s;
    s.a = a.xb;
    s.lda = d.H;
    weights(s, a.sh_gate_up, 1, int64_t(2) * d.Is, nullptr);
    s.N = 2 * d.Is;
    s.K = d.H;
    s.groups = 1;
    s.seg = a.m.all_seg;
    s.tiles = a.m.all_tiles;
    s.max_tiles = (a.T + kGemmTileM - 1) / kGemmTileM;
    s.swiglu = true;
    s.out = a.sh_act_b;
    s.ldo = d.Is;
    group_gemm(ctx, s, "moe/shared_gate_up");
    s.a = a.sh_act_b;
    s.lda = d.Is;
    weights(s, a.sh_down, 1, d.H, nullptr);
    s.N = d.H;
    s.K = d.Is;
    s.swiglu = false;
    s.out = a.y_sh;
    s.ldo = d.H;
    group_gemm(ctx, s, "moe/shared_down");
  }
  launch(ctx, "moe/combine", moe_combine_kernel, unsigned(a.T), 256, 0, a);
}

}  // namespace a3b::cuda
