// The few-token MoE (moe.cu's gather-GEMV) for quantized experts: the routed experts and the
// shared expert are launched apart, each kernel templated on its matrix type (bf16 allowed, for
// a shared expert stored apart from quantized routed ones). Activations are int8 per 32 as in the
// dense GEMV. Each lane issues its weight loads as soon as the routing is known, before the block
// builds its activations, so the prologue hides behind the memory latency.
#include "cuda/common.cuh"
#include "cuda/kernels.h"
#include "cuda/quant.cuh"
#include "cuda/topk.cuh"

namespace a3b::cuda {
namespace {

// Shared memory of `slots` activation rows of `width`: float, int8, and two floats per 32.
size_t act_smem(int slots, int width) { return size_t(slots) * width * (sizeof(float) + 1) + size_t(slots) * (width / 32) * 8; }

struct ActRows {
  float* f;
  float* d;
  float* s;
  int8_t* q;
  int width;
  __device__ ActRows(void* smem, int slots, int w) : width(w) {
    f = static_cast<float*>(smem);
    d = f + slots * w;
    s = d + slots * (w / 32);
    q = reinterpret_cast<int8_t*>(s + slots * (w / 32));
  }
  __device__ QAct row(int i) const {
    return QAct{q + i * width, d + i * (width / 32), s + i * (width / 32), f + i * width};
  }
  // The first n rows at once (rows are contiguous in every array).
  __device__ void quantize(int n) { quantize_act(f, n * width, width, q, d, s); }
};

constexpr int kGateUpUnits = 1;  // units of each row a lane holds at once (H = 2048 in one go)

// Blocks per multiprocessor the gate/up kernel is compiled for: 4 (≤ 64 registers) puts the
// 8 × 64 blocks of a token's routed experts in one wave; the widest units would spill there.
template <DType T>
constexpr int gate_up_blocks_per_sm() {
  return T == DType::BF16 ? 1 : T == DType::Q5_K ? 2 : T == DType::Q6_K ? 3 : 4;
}

// Launch order: shared gate/up, routed gate/up, routed down, shared down. A launch starts only
// once every block of the one before it has passed its grid wait, i.e. once the one before that
// has finished; so what a kernel reads from two or more launches back it may read before its own
// wait, and the kernels below do all such work there.

// Block (8 pairs, slot, token); shared: the slot is k. act[t][slot][j] = silu(gate_j · x) · (up_j · x).
// Routed blocks route their token themselves from the router's logits (softmax, top k). early
// (routed experts after the shared ones): the router is two launches back, so the routing, the
// weights and the normalised x (quantized) all come before the wait. The shared expert fetches
// its weights before the wait; routed experts without a shared one wait first.
template <DType T>
__global__ __launch_bounds__(256, gate_up_blocks_per_sm<T>()) void qmoe_gate_up_kernel(MoeArgs a, int act_stride,
                                                                                        bool shared, bool early) {
  using Unit = typename UnitOf<T>::type;
  extern __shared__ float4 smem4[];
  const Dims d = a.d;
  ActRows x(smem4, 1, d.H);
  const int t = blockIdx.z, slot = shared ? d.k : int(blockIdx.y), warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const GpuMatrix& W = shared ? a.sh_gate_up : a.gate_up;
  const int width = shared ? d.Is : d.I, j = blockIdx.x * 8 + warp, units = d.H / kUnit;
  __shared__ int ids[kMaxK];
  __shared__ float wts[kMaxK];
  if (!shared) {  // the block routes its token itself (the router writes logits only)
    if (!early) grid_sync_prev();
    route_token(a.logits + size_t(t) * (d.E + 1), d.E, d.k, ids, wts);
  }
  const bool active = j < width;
  const int64_t base = shared || !active ? 0 : int64_t(ids[slot]) * 2 * d.I;
  const uint8_t* rg = W.data + size_t(base + 2 * j) * W.row_bytes;
  const uint8_t* ru = rg + W.row_bytes;
  Unit wg[kGateUpUnits], wu[kGateUpUnits];
#pragma unroll
  for (int i = 0; i < kGateUpUnits; ++i) {
    const int c = lane + 32 * i;
    if (active && c < units) {
      wg[i].load(rg, d.H, c, W.tables);
      wu[i].load(ru, d.H, c, W.tables);
    }
  }
  if (shared) grid_sync_prev();
  block_copy_f4(x.f, a.x + size_t(t) * d.H, d.H);
  __syncthreads();
  x.quantize(1);
  __syncthreads();
  if (!shared && early) grid_sync_prev();
  if (!active) return;
  const QAct xa = x.row(0);
  float g = 0, u = 0;
  for (int c0 = 0; c0 < units; c0 += 32 * kGateUpUnits) {
#pragma unroll
    for (int i = 0; i < kGateUpUnits; ++i) {
      const int c = c0 + lane + 32 * i;
      if (c >= units) continue;
      if (c0 > 0) {
        wg[i].load(rg, d.H, c, W.tables);
        wu[i].load(ru, d.H, c, W.tables);
      }
      g += wg[i].dot(c, xa);
      u += wu[i].dot(c, xa);
    }
  }
  g = warp_sum(g);
  u = warp_sum(u);
  if (lane == 0) a.act[(size_t(t) * (d.k + 1) + slot) * act_stride + j] = silu(g) * u;
}

constexpr int kDownItems = 3;  // (slot, unit) items a lane holds at once: 8 slots × 8 units of I = 512 in one go

// Block (8 rows, token): h[t][r] += Σ_slots w_s · down_s[r] · act_s, over the routed slots or
// the shared one. Lanes split (slot, unit) items, so rows of few units still use the whole warp.
// Routed (right after the routed gate/up): the routing (from the logits), weights and h (last
// written before the router) before the wait, act after it. Shared (after the routed down):
// everything but h before the wait (its act is three launches back), then h += after it.
template <DType T>
__global__ __launch_bounds__(256) void qmoe_down_kernel(MoeArgs a, int act_stride, bool shared) {
  using Unit = typename UnitOf<T>::type;
  extern __shared__ float4 smem4[];
  const Dims d = a.d;
  const int nslots = shared ? 1 : d.k, width = shared ? d.Is : d.I, units = width / kUnit, items = nslots * units;
  ActRows acts(smem4, nslots, width);
  const int t = blockIdx.y, warp = threadIdx.x / 32, lane = threadIdx.x % 32, r = blockIdx.x * 8 + warp;
  const GpuMatrix& W = shared ? a.sh_down : a.down;
  __shared__ int ids[kMaxK];
  __shared__ float wts[kMaxK];
  if (!shared) route_token(a.logits + size_t(t) * (d.E + 1), d.E, d.k, ids, wts);
  auto row_of = [&](int s) {
    const int64_t e = shared ? 0 : ids[s];
    return W.data + size_t(e * d.H + r) * W.row_bytes;
  };
  Unit w[kDownItems];
#pragma unroll
  for (int k = 0; k < kDownItems; ++k) {
    const int i = lane + 32 * k;
    if (r < d.H && i < items) w[k].load(row_of(i / units), width, i % units, W.tables);
  }
  float* h = a.h + size_t(t) * d.H + r;
  const float h0 = !shared && lane == 0 && r < d.H ? *h : 0.0f;
  if (!shared) grid_sync_prev();
  const float* act = a.act + (size_t(t) * (d.k + 1) + (shared ? d.k : 0)) * act_stride;
  if (act_stride == width) {  // the slots' rows are contiguous: one copy, all loads in flight together
    block_copy_f4(acts.f, act, nslots * width);
  } else {
    for (int s = 0; s < nslots; ++s) block_copy_f4(acts.f + s * width, act + size_t(s) * act_stride, width);
  }
  __syncthreads();
  acts.quantize(nslots);
  __syncthreads();
  float acc = 0;
  if (r < d.H) {
    auto weight = [&](int s) {
      return shared ? sigmoid(a.logits[size_t(t) * (d.E + 1) + d.E]) : wts[s];
    };
    for (int i0 = 0; i0 < items; i0 += 32 * kDownItems) {
#pragma unroll
      for (int k = 0; k < kDownItems; ++k) {
        const int i = i0 + lane + 32 * k;
        if (i >= items) continue;
        const int s = i / units, u = i % units;
        if (i0 > 0) w[k].load(row_of(s), width, u, W.tables);
        acc += weight(s) * w[k].dot(u, acts.row(s));
      }
    }
    acc = warp_sum(acc);
  }
  if (shared) grid_sync_prev();
  if (lane == 0 && r < d.H) *h = (shared ? *h : h0) + acc;
}

}  // namespace

void moe_small_quant(const Ctx& ctx, const MoeArgs& a, int act_stride) {
  const Dims& d = a.d;
  if (d.H % kUnit || d.I % kUnit || (d.Is && d.Is % kUnit))
    fail("CUDA MoE: quantized experts need hidden and expert widths that are multiples of 64");
  const bool has_shared = a.sh_gate_up.data != nullptr;
  if (has_shared)
    dispatch_quant<true>(a.sh_gate_up.type, [&]<DType T>() {
      launch(ctx, "moe/gate_up", qmoe_gate_up_kernel<T>, dim3(blocks_for(d.Is, 8), 1, unsigned(a.T)), 256,
             act_smem(1, d.H), a, act_stride, true, false);
    });
  dispatch_quant<true>(a.gate_up.type, [&]<DType T>() {
    launch(ctx, "moe/gate_up", qmoe_gate_up_kernel<T>, dim3(blocks_for(d.I, 8), unsigned(d.k), unsigned(a.T)), 256,
           act_smem(1, d.H), a, act_stride, false, has_shared);
  });
  dispatch_quant<true>(a.down.type, [&]<DType T>() {
    launch(ctx, "moe/down", qmoe_down_kernel<T>, dim3(blocks_for(d.H, 8), unsigned(a.T)), 256, act_smem(d.k, d.I), a,
           act_stride, false);
  });
  if (has_shared)
    dispatch_quant<true>(a.sh_down.type, [&]<DType T>() {
      launch(ctx, "moe/down", qmoe_down_kernel<T>, dim3(blocks_for(d.H, 8), unsigned(a.T)), 256, act_smem(1, d.Is), a,
             act_stride, true);
    });
}

}  // namespace a3b::cuda
