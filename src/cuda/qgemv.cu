// Quantized weights (quant.cuh): the GEMV of decode steps, and dequantization into bf16 for the
// tensor-core products of prefill (dequantize, then the same cuBLAS / grouped GEMMs as bf16).
#include "cuda/common.cuh"
#include "cuda/gemv_prologue.cuh"
#include "cuda/kernels.h"
#include "cuda/quant.cuh"

namespace a3b::cuda {
namespace {

constexpr int kWarps = 8;

// Lanes that share a row: the largest power of two ≤ min(32, units per row).
__host__ __device__ inline int lanes_per_row(int units) {
  int l = 1;
  while (l * 2 <= units && l < 32) l *= 2;
  return l;
}

constexpr int kTailChunks = 8;  // 16-byte chunks of a tail row a lane holds at once (2,048 columns)

// The bf16 tail rows (GemvArgs::tail) in blocks after the quantized ones: a warp per row, the
// first chunks loaded before the wait like the quantized weights.
template <int NT>
struct TailRows {
  uint4 w[kTailChunks];
  int row;
  __device__ void load(const GpuMatrix& m, int c0) {
    const int lane = threadIdx.x % 32, chunks = m.cols / 8;
#pragma unroll
    for (int i = 0; i < kTailChunks; ++i) {
      const int c = c0 + 32 * i + lane;
      w[i] = row < m.rows && c < chunks ? ld_stream(m.bf() + size_t(row) * m.cols + size_t(c) * 8) : make_uint4(0, 0, 0, 0);
    }
  }
  __device__ void run(const GemvArgs& a, const float* xs) {
    const int lane = threadIdx.x % 32, chunks = a.tail.cols / 8;
    float acc[NT] = {};
    for (int c0 = 0; c0 < chunks; c0 += 32 * kTailChunks) {
      if (c0 > 0) load(a.tail, c0);
#pragma unroll
      for (int i = 0; i < kTailChunks; ++i) {
        const int c = c0 + 32 * i + lane;
        if (c < chunks)
#pragma unroll
          for (int t = 0; t < NT; ++t) acc[t] += dot8(w[i], xs + t * a.cols + c * 8);
      }
    }
#pragma unroll
    for (int t = 0; t < NT; ++t) {
      const float s = warp_sum(acc[t]);
      if (lane == 0 && row < a.tail.rows && t < a.ntok) {
        float* y = a.y + size_t(t) * a.ldy + a.rows + row;
        *y = a.accumulate ? *y + s : s;
      }
    }
  }
};

__host__ __device__ inline int tail_blocks(const GemvArgs& a) { return a.tail.data ? (int(a.tail.rows) + kWarps - 1) / kWarps : 0; }

// y = W x for NT tokens: the prologue builds x as float (with its RMSNorm), then int8 per 32.
// A warp takes R passes of 32 / L rows at once (a group), L lanes per row; partial sums meet by
// shuffles in the L lanes. R = 1 where two would leave multiprocessors idle (few rows). A lane's
// work is a sequence of (group, unit) items, and the next item's weights are requested before
// the current one is multiplied: two register sets used in turn, so no load result is copied (a
// copy would wait for it). The first weights load before the prologue.
template <int NT, DType T, int R>
__global__ __launch_bounds__(256, 2) void qgemv_kernel(GemvArgs a) {
  using Unit = typename UnitOf<T>::type;
  extern __shared__ float4 smem4[];
  const int cols = a.cols, nblk = cols / 32;
  float* xs = reinterpret_cast<float*>(smem4);  // [NT][cols]
  float* xd = xs + NT * cols;                   // [NT][cols / 32]
  float* xsum = xd + NT * nblk;                 // [NT][cols / 32]
  int8_t* xq = reinterpret_cast<int8_t*>(xsum + NT * nblk);  // [NT][cols]
  __shared__ float scratch[33];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int units = cols / kUnit, L = lanes_per_row(units), per = 32 / L, sub = lane / L, ul = lane % L;
  const int main_blocks = int(gridDim.x) - tail_blocks(a);
  const int groups = (a.rows + R * per - 1) / (R * per), iters = (units + L - 1) / L, stride = main_blocks * kWarps;
  if (int(blockIdx.x) >= main_blocks) {  // a block of tail rows
    TailRows<NT> tail;
    tail.row = (int(blockIdx.x) - main_blocks) * kWarps + warp;
    tail.load(a.tail, 0);
    gemv_before_wait<NT>(a, xs);
    grid_sync_prev();
    gemv_after_wait<NT>(a, xs, scratch);
    tail.run(a, xs);
    return;
  }
  auto row_of = [&](int p, int r) { return (R * p + r) * per + sub; };
  auto load = [&](Unit* w, int p, int it) {
    const int u = it * L + ul;
#pragma unroll
    for (int r = 0; r < R; ++r)
      if (row_of(p, r) < a.rows && u < units) w[r].load(a.w.data + size_t(row_of(p, r)) * a.w.row_bytes, cols, u, a.w.tables);
  };
  Unit wa[R], wb[R];
  int p = blockIdx.x * kWarps + warp, it = 0;
  if (p < groups) load(wa, p, 0);
  gemv_before_wait<NT>(a, xs);
  grid_sync_prev();
  gemv_after_wait<NT>(a, xs, scratch);
  quantize_act(xs, NT * cols, cols, xq, xd, xsum);  // the NT rows are contiguous in every array
  __syncthreads();

  float acc[R][NT];
  auto zero = [&] {
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
      for (int t = 0; t < NT; ++t) acc[r][t] = 0.0f;
  };
  zero();
  // One item: request the next one's weights into `next`, multiply `cur`; false when done.
  auto step = [&](Unit* cur, Unit* next) {
    int np = p, nit = it + 1;
    if (nit == iters) nit = 0, np += stride;
    if (np < groups) load(next, np, nit);
    const int u = it * L + ul;
#pragma unroll
    for (int r = 0; r < R; ++r)
      if (row_of(p, r) < a.rows && u < units)
#pragma unroll
        for (int t = 0; t < NT; ++t)
          acc[r][t] += cur[r].dot(u, QAct{xq + t * cols, xd + t * nblk, xsum + t * nblk, xs + t * cols});
    if (nit == 0) {  // the group is complete (iters is the same for every lane: no divergence here)
#pragma unroll
      for (int r = 0; r < R; ++r)
#pragma unroll
        for (int t = 0; t < NT; ++t) {
          float s = acc[r][t];
          for (int o = L / 2; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
          if (ul == 0 && row_of(p, r) < a.rows && t < a.ntok) {
            float* y = a.y + size_t(t) * a.ldy + row_of(p, r);
            *y = a.accumulate ? *y + s : s;
          }
        }
      zero();
    }
    p = np, it = nit;
    return p < groups;
  };
  if (p < groups)
    while (step(wa, wb) && step(wb, wa)) {
    }
}

template <int NT>
void launch_qgemv(const Ctx& ctx, const GemvArgs& a, const char* name) {
  const int cols = a.cols, units = cols / kUnit, per = 32 / lanes_per_row(units);
  // One row per group (NT = 1) where two would not give every warp of a full grid two groups:
  // the out-projections' 2,048 rows then fill 256 blocks instead of 128.
  const int R = NT == 1 && a.rows < 2 * per * 2 * ctx.sms * kWarps ? 1 : 2;
  const size_t smem = size_t(NT) * cols * (sizeof(float) + 1) + size_t(NT) * (cols / 32) * 2 * sizeof(float);
  const int groups = (a.rows + R * per - 1) / (R * per);
  const unsigned grid = std::min<unsigned>(blocks_for(groups, kWarps), unsigned(2 * ctx.sms)) + tail_blocks(a);
  dispatch_quant(a.w.type, [&]<DType T>() {
    if constexpr (NT == 1)
      if (R == 1) return launch(ctx, name, qgemv_kernel<NT, T, 1>, grid, 256, smem, a);
    launch(ctx, name, qgemv_kernel<NT, T, 2>, grid, 256, smem, a);
  });
}

// One thread per unit: rows [r0, r0 + n) of w (grid.y = expert when per > 0) into bf16. A block's
// 256 units are 256·64 consecutive outputs: decoded into shared memory (units kTilePitch apart, so
// that the 32 lanes' stores fall in different banks), then stored to global memory coalesced.
constexpr int kDequantUnits = 256, kTilePitch = kUnit + 2;
template <DType T>
__global__ __launch_bounds__(kDequantUnits) void dequant_kernel(GpuMatrix w, int64_t r0, int64_t n, bf16* out,
                                                                 int64_t per, const int* counts) {
  using Unit = typename UnitOf<T>::type;
  __shared__ __align__(16) bf16 tile[kDequantUnits * kTilePitch];
  grid_sync_prev();
  const int e = blockIdx.y;
  if (counts && counts[e] == 0) return;
  const int units = w.cols / kUnit;
  const int64_t first = int64_t(blockIdx.x) * kDequantUnits, i = first + threadIdx.x;
  const int64_t total = n * units, base = (int64_t(e) * per * units + first) * kUnit;
  if (i < total) {
    const int64_t row = r0 + int64_t(e) * per + i / units;
    const int u = int(i % units);
    Unit q;
    q.load(w.data + size_t(row) * w.row_bytes, w.cols, u, w.tables);
    // Weight c of the row is output (i - first - u)·64 + c of the block, tile slot (c / 64)·pitch + c % 64
    // relative to the row's unit 0 (Q6_K units write within their 256-weight block, which the block holds whole).
    const int64_t row0 = i - first - u;
    q.dequant(u, [&](int c, float v) { tile[(row0 + c / kUnit) * kTilePitch + c % kUnit] = __float2bfloat16_rn(v); });
  }
  __syncthreads();
  const int64_t pairs = min(int64_t(kDequantUnits), total - first) * kUnit / 2;  // two weights per 4-byte store
  const uint32_t* src = reinterpret_cast<const uint32_t*>(tile);
  uint32_t* dst = reinterpret_cast<uint32_t*>(out + base);
  for (int64_t j = threadIdx.x; j < pairs; j += blockDim.x)
    dst[j] = src[(j / (kUnit / 2)) * (kTilePitch / 2) + j % (kUnit / 2)];
}

// Block per token: its embedding row dequantized into h.
template <DType T>
__global__ void embed_quant_kernel(GpuMatrix table, const int* ids, float* h) {
  using Unit = typename UnitOf<T>::type;
  grid_sync_prev();
  const int t = blockIdx.x, units = table.cols / kUnit;
  const uint8_t* row = table.data + size_t(ids[t]) * table.row_bytes;
  float* o = h + size_t(t) * table.cols;
  for (int u = threadIdx.x; u < units; u += blockDim.x) {
    Unit q;
    q.load(row, table.cols, u, table.tables);
    q.dequant(u, [&](int c, float v) { o[c] = v; });
  }
}

__device__ inline uint32_t mix32(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return uint32_t((x ^ (x >> 31)) >> 16);
}

// Random bytes everywhere, then every fp16 scale set so that weights spread about ±spread
// (benchmarks: any bit pattern is a valid weight, but scales must stay finite and sensible).
__global__ void fill_quant_kernel(GpuMatrix m, uint64_t seed) {
  const int64_t words = int64_t(m.rows) * int64_t(m.row_bytes / 4);
  uint32_t* p = reinterpret_cast<uint32_t*>(const_cast<uint8_t*>(m.data));
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < words; i += int64_t(gridDim.x) * blockDim.x)
    p[i] = mix32(seed * 0x100000001b3ull + uint64_t(i));
}

__global__ void fix_scales_kernel(GpuMatrix m, float spread) {
  const int64_t r = blockIdx.x;
  uint8_t* row = const_cast<uint8_t*>(m.data) + size_t(r) * m.row_bytes;
  auto put = [](uint8_t* p, float v) { *reinterpret_cast<__half*>(p) = __float2half(v); };
  const int nb32 = m.cols / 32, nb = m.cols / 256;
  for (int b = threadIdx.x; b < nb32; b += blockDim.x) {
    switch (m.type) {
      case DType::Q8_0: put(row + m.cols + 2 * b, spread / 127.0f); break;
      case DType::Q4_K:
        if (b < nb) put(row + 144 * b, spread / 415.0f), put(row + 144 * b + 2, 7.5f * spread / 415.0f);
        break;
      case DType::Q5_K:
        if (b < nb) put(row + 176 * b, spread / 800.0f), put(row + 176 * b + 2, 15.5f * spread / 800.0f);
        break;
      case DType::Q6_K:
        if (b < nb) put(row + 208 * nb + 2 * b, spread / 2400.0f);
        break;
      default: break;
    }
  }
}

}  // namespace

void fill_random_quant(cudaStream_t s, const GpuMatrix& m, float spread, uint64_t seed) {
  fill_quant_kernel<<<1024, 256, 0, s>>>(m, seed);
  fix_scales_kernel<<<unsigned(m.rows), 128, 0, s>>>(m, spread);
  A3B_CUDA(cudaGetLastError());
}

void gemv_quant(const Ctx& ctx, const GemvArgs& a, const char* name) {
  if (a.cols % kUnit != 0) fail("gemv ", name, ": quantized rows of ", a.cols, " weights (a multiple of 64 needed)");
  if (a.tail.data && (a.tail.type != DType::BF16 || a.tail.cols != a.cols || a.counter))
    fail("gemv ", name, ": tail rows must be bf16 with the same columns (and no top-k epilogue)");
  if (a.ntok == 1) launch_qgemv<1>(ctx, a, name);
  else if (a.ntok == 2) launch_qgemv<2>(ctx, a, name);
  else launch_qgemv<4>(ctx, a, name);
}

void dequant_rows(const Ctx& ctx, const GpuMatrix& w, int64_t r0, int64_t n, bf16* out, const char* name) {
  const int64_t units = n * (w.cols / kUnit);
  dispatch_quant(w.type, [&]<DType T>() {
    launch(ctx, name, dequant_kernel<T>, blocks_for(units, kDequantUnits), kDequantUnits, 0, w, r0, n, out, int64_t(0),
           static_cast<const int*>(nullptr));
  });
}

void dequant_experts(const Ctx& ctx, const GpuMatrix& w, int experts, int64_t per, const int* counts, bf16* out,
                     const char* name) {
  const int64_t units = per * (w.cols / kUnit);
  dispatch_quant(w.type, [&]<DType T>() {
    launch(ctx, name, dequant_kernel<T>, dim3(blocks_for(units, kDequantUnits), unsigned(experts)), kDequantUnits, 0, w,
           int64_t(0), per,
           out, per, counts);
  });
}

void embed_quant(const Ctx& ctx, const GpuMatrix& table, const int* ids, int T, float* h) {
  dispatch_quant(table.type, [&]<DType T2>() {
    launch(ctx, "embed", embed_quant_kernel<T2>, unsigned(T), 128, 0, table, ids, h);
  });
}

}  // namespace a3b::cuda
