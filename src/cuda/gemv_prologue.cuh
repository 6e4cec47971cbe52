// The prologue of the GEMV kernels (gemv.cu, qgemv.cu): a step's few activation rows built in
// shared memory as float, fused with the RMSNorm or gated RMSNorm that precedes the product.
#pragma once
#include "cuda/common.cuh"
#include "cuda/kernels.h"

namespace a3b::cuda {

// x rows into shared memory as float: a copy, RMSNorm of the residual (times its weight), or the
// gated RMSNorm of DeltaNet (per head, plain weight, times silu(z)). Global reads are 16 bytes
// wide and batched so that their latencies overlap.
template <int NT>
__device__ __forceinline__ void gemv_prologue(const GemvArgs& a, float* xs, float* scratch) {
  __shared__ float head_inv[64];
  const int tid = threadIdx.x, n4 = a.cols / 4;
  for (int t = 0; t < NT; ++t) {
    float* dst = xs + t * a.cols;
    if (t >= a.ntok) {
      for (int c = tid; c < a.cols; c += blockDim.x) dst[c] = 0.0f;
      continue;
    }
    const int xr = a.x_rows ? a.x_rows[t] : t;
    block_copy_f4(dst, a.x + size_t(xr) * a.ldx, a.cols);
    __syncthreads();
    if (a.input == GemvInput::Norm) {
      float ss = 0;
      for (int c = tid; c < a.cols; c += blockDim.x) ss += dst[c] * dst[c];
      ss = block_sum(ss, scratch);
      const float inv = 1.0f / sqrtf(ss / float(a.cols) + a.eps);
      const float4* w4 = reinterpret_cast<const float4*>(a.norm_w);
      float4* d4 = reinterpret_cast<float4*>(dst);
      for (int base = tid; base < n4; base += 4 * blockDim.x) {
        float4 w[4];
#pragma unroll
        for (int i = 0; i < 4; ++i)
          if (base + i * int(blockDim.x) < n4) w[i] = w4[base + i * blockDim.x];
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const int c4 = base + i * blockDim.x;
          if (c4 >= n4) continue;
          float4 v = d4[c4];
          v.x *= inv * w[i].x, v.y *= inv * w[i].y, v.z *= inv * w[i].z, v.w *= inv * w[i].w;
          d4[c4] = v;
          if (a.x_out && blockIdx.x == 0) reinterpret_cast<float4*>(a.x_out + size_t(t) * a.cols)[c4] = v;
        }
      }
    } else if (a.input == GemvInput::GatedNorm) {
      const int lane = tid % 32, hd = a.head_dim, heads = a.cols / hd;
      for (int hh = tid / 32; hh < heads; hh += blockDim.x / 32) {
        float ss = 0;
        for (int d = lane; d < hd; d += 32) ss += dst[hh * hd + d] * dst[hh * hd + d];
        ss = warp_sum(ss);
        if (lane == 0) head_inv[hh] = 1.0f / sqrtf(ss / float(hd) + a.eps);
      }
      __syncthreads();
      const float4* z4 = reinterpret_cast<const float4*>(a.z + size_t(xr) * a.ldz);
      float4* d4 = reinterpret_cast<float4*>(dst);
      for (int base = tid; base < n4; base += 4 * blockDim.x) {
        float4 z[4];
#pragma unroll
        for (int i = 0; i < 4; ++i)
          if (base + i * int(blockDim.x) < n4) z[i] = z4[base + i * blockDim.x];
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const int c4 = base + i * blockDim.x;
          if (c4 >= n4) continue;
          const int c = 4 * c4, d = c % hd;  // hd is a multiple of 4
          const float inv = head_inv[c / hd];
          float4 v = d4[c4];
          v.x *= inv * a.norm_w[d] * silu(z[i].x);
          v.y *= inv * a.norm_w[d + 1] * silu(z[i].y);
          v.z *= inv * a.norm_w[d + 2] * silu(z[i].z);
          v.w *= inv * a.norm_w[d + 3] * silu(z[i].w);
          d4[c4] = v;
        }
      }
    }
    __syncthreads();
  }
}

}  // namespace a3b::cuda
