// What every CUDA translation unit of the backend shares: checked calls, the kernel launcher
// (programmatic dependent launch, per-class profiling), and small device helpers.
#pragma once
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "core/error.h"
#include "cuda/context.h"

namespace a3b::cuda {

using bf16 = __nv_bfloat16;

// ---------------------------------------------------------------------------------------------
// Launching

// Raises a kernel's dynamic shared memory limit once (it starts at 48 KiB).
void allow_smem(const void* kernel, size_t bytes, const char* name);

// Launches `kernel` on the context's stream; with ctx.pdl the launch may overlap the tail of
// the previous kernel (each kernel calls grid_wait() before touching what earlier ones wrote).
template <class... KArgs, class... Args>
void launch(const Ctx& ctx, const char* name, void (*kernel)(KArgs...), dim3 grid, dim3 block, size_t smem,
            Args&&... args) {
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return;
  if (grid.y > 65535 || grid.z > 65535)
    fail("CUDA launch of ", name, ": grid ", grid.x, "x", grid.y, "x", grid.z, " exceeds the y/z limit");
  if (kernel_skipped(name)) return;
  if (smem > 48 * 1024) allow_smem(reinterpret_cast<const void*>(kernel), smem, name);
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = grid;
  cfg.blockDim = block;
  cfg.dynamicSmemBytes = smem;
  cfg.stream = ctx.stream;
  cudaLaunchAttribute attr[1];
  if (ctx.pdl) {
    attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[0].val.programmaticStreamSerializationAllowed = 1;
    cfg.attrs = attr;
    cfg.numAttrs = 1;
  }
  ProfileScope scope(ctx, name);
  cudaError_t e = cudaLaunchKernelEx(&cfg, kernel, std::forward<Args>(args)...);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    fail("CUDA launch of ", name, " (grid ", grid.x, "x", grid.y, "x", grid.z, ", block ", block.x, ", ", smem,
         " B shared) failed: ", cudaGetErrorString(e));
  }
}

inline unsigned blocks_for(int64_t n, int per_block) { return unsigned((n + per_block - 1) / per_block); }

// ---------------------------------------------------------------------------------------------
// Device helpers

// Programmatic dependent launch: wait for the previous kernel's results, then let the next
// kernel start its prologue. Loads of weights may precede grid_wait(); nothing else may, except
// reads of what a launch two or more back wrote: a kernel starts only once every block of the
// one before it has passed grid_wait(), i.e. once the one before that has finished.
__device__ __forceinline__ void grid_wait() { asm volatile("griddepcontrol.wait;" ::: "memory"); }
__device__ __forceinline__ void grid_launch_next() { asm volatile("griddepcontrol.launch_dependents;" :::); }
__device__ __forceinline__ void grid_sync_prev() {
  grid_wait();
  grid_launch_next();
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
__device__ __forceinline__ float block_sum(float v, float* scratch /* [33] */) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, nw = blockDim.x / 32;
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (warp == 0) {
    float s = lane < nw ? scratch[lane] : 0.0f;
    s = warp_sum(s);
    if (lane == 0) scratch[32] = s;
  }
  __syncthreads();
  return scratch[32];
}

// Block-wide copy of n floats (n a multiple of 4, both ends 16-byte aligned) with four 16-byte
// loads in flight per thread: a plain loop would wait out one memory latency per element.
__device__ __forceinline__ void block_copy_f4(float* dst, const float* src, int n) {
  const float4* s = reinterpret_cast<const float4*>(src);
  float4* d = reinterpret_cast<float4*>(dst);
  const int n4 = n / 4, step = blockDim.x;
  for (int base = threadIdx.x; base < n4; base += 4 * step) {
    float4 v[4];
#pragma unroll
    for (int i = 0; i < 4; ++i)
      if (base + i * step < n4) v[i] = s[base + i * step];
#pragma unroll
    for (int i = 0; i < 4; ++i)
      if (base + i * step < n4) d[base + i * step] = v[i];
  }
}

__device__ __forceinline__ float silu(float x) { return x / (1.0f + expf(-x)); }
__device__ __forceinline__ float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
__device__ __forceinline__ float softplus(float x) { return x > 20.0f ? x : log1pf(expf(x)); }

// Weights are streamed once: 16-byte loads that skip L1.
__device__ __forceinline__ uint4 ld_stream(const void* p) {
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p));
  return v;
}

__device__ __forceinline__ float bf_lo(uint32_t v) { return __uint_as_float(v << 16); }
__device__ __forceinline__ float bf_hi(uint32_t v) { return __uint_as_float(v & 0xffff0000u); }

// Σ of 8 bf16 weights times 8 floats.
__device__ __forceinline__ float dot8(uint4 w, const float* x) {
  float4 a = *reinterpret_cast<const float4*>(x), b = *reinterpret_cast<const float4*>(x + 4);
  float s = bf_lo(w.x) * a.x;
  s = fmaf(bf_hi(w.x), a.y, s);
  s = fmaf(bf_lo(w.y), a.z, s);
  s = fmaf(bf_hi(w.y), a.w, s);
  s = fmaf(bf_lo(w.z), b.x, s);
  s = fmaf(bf_hi(w.z), b.y, s);
  s = fmaf(bf_lo(w.w), b.z, s);
  s = fmaf(bf_hi(w.w), b.w, s);
  return s;
}

__device__ __forceinline__ void unpack8(uint4 w, float* out) {
  out[0] = bf_lo(w.x); out[1] = bf_hi(w.x); out[2] = bf_lo(w.y); out[3] = bf_hi(w.y);
  out[4] = bf_lo(w.z); out[5] = bf_hi(w.z); out[6] = bf_lo(w.w); out[7] = bf_hi(w.w);
}

__device__ __forceinline__ uint32_t pack_bf16x2(float lo, float hi) {
  __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&v);
}

// D += A·B for one m16n8k16 tile: bf16 inputs, fp32 accumulators (PTX fragment layouts).
__device__ __forceinline__ void mma_bf16(float* d, const uint32_t* a, const uint32_t* b) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

}  // namespace a3b::cuda
