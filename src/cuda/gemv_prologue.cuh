// The prologue of the GEMV kernels (gemv.cu, qgemv.cu): a step's few activation rows built in
// shared memory as float, fused with the RMSNorm or gated RMSNorm that precedes the product.
// It runs in two halves around grid_sync_prev(): what does not depend on the previous kernel
// (norm weights; DeltaNet's gate z, written two launches back) is fetched while that kernel
// finishes, so that after the wait only the input rows themselves are a memory round trip.
#pragma once
#include "cuda/common.cuh"
#include "cuda/kernels.h"

namespace a3b::cuda {

constexpr int kGatedNormMaxHeadDim = 128;  // one float4 per lane and head

// Before the wait: xs[t] = the norm weight (Norm) or silu(z_t) · weight (GatedNorm); rows of
// absent tokens are zero. Each thread writes the float4s that it reads again in gemv_after_wait.
template <int NT>
__device__ __forceinline__ void gemv_before_wait(const GemvArgs& a, float* xs) {
  const int tid = threadIdx.x, n4 = a.cols / 4;
  for (int t = 0; t < NT; ++t) {
    float4* d4 = reinterpret_cast<float4*>(xs + t * a.cols);
    if (t >= a.ntok) {
      for (int c4 = tid; c4 < n4; c4 += blockDim.x) d4[c4] = make_float4(0, 0, 0, 0);
      continue;
    }
    if (a.input == GemvInput::Norm) {
      block_copy_f4(xs + t * a.cols, a.norm_w, a.cols);
    } else if (a.input == GemvInput::GatedNorm) {
      const int xr = a.x_rows ? a.x_rows[t] : t, hd4 = a.head_dim / 4;
      const float4* z4 = reinterpret_cast<const float4*>(a.z + size_t(xr) * a.ldz);
      const float4* w4 = reinterpret_cast<const float4*>(a.norm_w);
      for (int c4 = tid; c4 < n4; c4 += blockDim.x) {
        const float4 z = z4[c4], w = w4[c4 % hd4];
        d4[c4] = make_float4(silu(z.x) * w.x, silu(z.y) * w.y, silu(z.z) * w.z, silu(z.w) * w.w);
      }
    }
  }
}

// After the wait: the input rows, normalised, times what gemv_before_wait left in xs.
template <int NT>
__device__ __forceinline__ void gemv_after_wait(const GemvArgs& a, float* xs, float* scratch) {
  const int tid = threadIdx.x, n4 = a.cols / 4;
  if (a.input == GemvInput::GatedNorm) __syncthreads();  // rows are read by other threads than wrote them
  for (int t = 0; t < a.ntok && t < NT; ++t) {
    const int xr = a.x_rows ? a.x_rows[t] : t;
    const float* x = a.x + size_t(xr) * a.ldx;
    float* dst = xs + t * a.cols;
    float4* d4 = reinterpret_cast<float4*>(dst);
    if (a.input == GemvInput::Plain) {
      block_copy_f4(dst, x, a.cols);
    } else if (a.input == GemvInput::Norm) {
      // xs = x · w while summing squares (four loads in flight), then the scale in place.
      const float4* x4 = reinterpret_cast<const float4*>(x);
      float ss = 0;
      for (int base = tid; base < n4; base += 4 * blockDim.x) {
        float4 v[4];
#pragma unroll
        for (int i = 0; i < 4; ++i)
          if (base + i * int(blockDim.x) < n4) v[i] = x4[base + i * blockDim.x];
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const int c4 = base + i * blockDim.x;
          if (c4 >= n4) continue;
          ss += v[i].x * v[i].x + v[i].y * v[i].y + v[i].z * v[i].z + v[i].w * v[i].w;
          const float4 w = d4[c4];
          d4[c4] = make_float4(v[i].x * w.x, v[i].y * w.y, v[i].z * w.z, v[i].w * w.w);
        }
      }
      const float inv = 1.0f / sqrtf(block_sum(ss, scratch) / float(a.cols) + a.eps);
      const bool out = a.x_out && blockIdx.x == 0;
      for (int c4 = tid; c4 < n4; c4 += blockDim.x) {
        float4 v = d4[c4];
        v.x *= inv, v.y *= inv, v.z *= inv, v.w *= inv;
        d4[c4] = v;
        if (out) reinterpret_cast<float4*>(a.x_out + size_t(t) * a.cols)[c4] = v;
      }
    } else {
      // Gated norm per head (a warp each, four heads' loads in flight): xs *= x · rsqrt(mean x²).
      const int lane = tid % 32, hd4 = a.head_dim / 4, heads = a.cols / a.head_dim, nw = blockDim.x / 32;
      const float4* x4 = reinterpret_cast<const float4*>(x);
      for (int h0 = tid / 32; h0 < heads; h0 += 4 * nw) {
        float4 v[4];
        float ss[4];
#pragma unroll
        for (int m = 0; m < 4; ++m) {
          const int hh = h0 + m * nw;
          ss[m] = 0;
          if (hh < heads && lane < hd4) {
            v[m] = x4[hh * hd4 + lane];
            ss[m] = v[m].x * v[m].x + v[m].y * v[m].y + v[m].z * v[m].z + v[m].w * v[m].w;
          }
        }
#pragma unroll
        for (int m = 0; m < 4; ++m) {
          const int hh = h0 + m * nw;
          const float inv = 1.0f / sqrtf(warp_sum(ss[m]) / float(a.head_dim) + a.eps);
          if (hh >= heads || lane >= hd4) continue;
          float4 g = d4[hh * hd4 + lane];
          g.x *= v[m].x * inv, g.y *= v[m].y * inv, g.z *= v[m].z * inv, g.w *= v[m].w * inv;
          d4[hh * hd4 + lane] = g;
        }
      }
    }
    __syncthreads();
  }
}

}  // namespace a3b::cuda
