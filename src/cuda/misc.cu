// Small elementwise kernels: embedding lookup, row RMSNorm, conversions, random fills.
#include "cuda/common.cuh"
#include "cuda/kernels.h"

namespace a3b::cuda {
namespace {

__global__ void embed_kernel(const bf16* table, int H, const int* ids, float* h) {
  grid_sync_prev();
  const int t = blockIdx.y;
  const bf16* row = table + size_t(ids[t]) * H;
  for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < H; c += gridDim.x * blockDim.x)
    h[size_t(t) * H + c] = __bfloat162float(row[c]);
}

__global__ void rms_norm_kernel(const float* h, int H, const int* rows, const float* w, float eps, float* out_f32,
                                bf16* out_bf16) {
  __shared__ float scratch[33];
  grid_sync_prev();
  const int i = blockIdx.x;
  const float* x = h + size_t(rows ? rows[i] : i) * H;
  float ss = 0;
  for (int c = threadIdx.x; c < H; c += blockDim.x) ss += x[c] * x[c];
  ss = block_sum(ss, scratch);
  const float inv = 1.0f / sqrtf(ss / float(H) + eps);
  for (int c = threadIdx.x; c < H; c += blockDim.x) {
    const float v = x[c] * inv * w[c];
    if (out_f32) out_f32[size_t(i) * H + c] = v;
    if (out_bf16) out_bf16[size_t(i) * H + c] = __float2bfloat16_rn(v);
  }
}

__global__ void to_bf16_kernel(const float* x, int64_t n, bf16* out) {
  grid_sync_prev();
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = __float2bfloat16_rn(x[i]);
}

__global__ void bf16_to_f32_kernel(const bf16* x, int64_t n, float* out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = __bfloat162float(x[i]);
}

// splitmix64 of (seed, index): independent of the launch shape.
__device__ __forceinline__ float hash_uniform(uint64_t seed, uint64_t i) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + i + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return float(z >> 40) * (1.0f / 16777216.0f);  // [0, 1)
}

__global__ void fill_bf16_kernel(bf16* p, int64_t n, float lo, float hi, uint64_t seed) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    p[i] = __float2bfloat16_rn(lo + (hi - lo) * hash_uniform(seed, uint64_t(i)));
}

__global__ void fill_f32_kernel(float* p, int64_t n, float lo, float hi, uint64_t seed) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    p[i] = lo + (hi - lo) * hash_uniform(seed, uint64_t(i));
}

}  // namespace

void embed(const Ctx& ctx, const GpuMatrix& table, const int* ids, int T, float* h) {
  if (table.quantized()) return embed_quant(ctx, table, ids, T, h);
  launch(ctx, "embed", embed_kernel, dim3(blocks_for(table.cols, 256), unsigned(T)), 256, 0, table.bf(), table.cols,
         ids, h);
}

void rms_norm_rows(const Ctx& ctx, const float* h, int H, const int* rows, int n, const float* w, float eps,
                   float* out_f32, bf16* out_bf16) {
  launch(ctx, "norm", rms_norm_kernel, unsigned(n), 256, 0, h, H, rows, w, eps, out_f32, out_bf16);
}

void to_bf16(const Ctx& ctx, const float* x, int64_t n, bf16* out) {
  launch(ctx, "convert", to_bf16_kernel, std::min<unsigned>(blocks_for(n, 256), 4096u), 256, 0, x, n, out);
}

void widen_bf16(cudaStream_t s, const bf16* x, int64_t n, float* out) {
  Ctx ctx;
  ctx.stream = s;
  launch(ctx, "convert", bf16_to_f32_kernel, std::min<unsigned>(blocks_for(n, 256), 65536u), 256, 0, x, n, out);
}

void fill_uniform_bf16(cudaStream_t s, bf16* p, int64_t n, float lo, float hi, uint64_t seed) {
  Ctx ctx;
  ctx.stream = s;
  launch(ctx, "fill", fill_bf16_kernel, std::min<unsigned>(blocks_for(n, 256), 65536u), 256, 0, p, n, lo, hi, seed);
}

void fill_uniform_f32(cudaStream_t s, float* p, int64_t n, float lo, float hi, uint64_t seed) {
  Ctx ctx;
  ctx.stream = s;
  launch(ctx, "fill", fill_f32_kernel, std::min<unsigned>(blocks_for(n, 256), 65536u), 256, 0, p, n, lo, hi, seed);
}

}  // namespace a3b::cuda
