// Matrix products with many activation rows: cuBLAS for the dense projections, and our own
// tensor-core kernel for the experts, where each expert multiplies only the rows routed to it.
#include "cuda/common.cuh"
#include "cuda/kernels.h"

namespace a3b::cuda {

void gemm_dense(const Ctx& ctx, const bf16* x, int ldx, int T, const bf16* w, int N, int K, float* y, int ldy,
                bool accumulate, const char* name) {
  if (T <= 0) return;
  // Column-major view: yᵀ[N, T] = w[N, K] · xᵀ[K, T], with w read as the transpose of a K×N matrix.
  const float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
  ProfileScope scope(ctx, name);
  cublasStatus_t s = cublasGemmEx(ctx.blas, CUBLAS_OP_T, CUBLAS_OP_N, N, T, K, &alpha, w, CUDA_R_16BF, K, x,
                                  CUDA_R_16BF, ldx, &beta, y, CUDA_R_32F, ldy, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
  if (s != CUBLAS_STATUS_SUCCESS)
    fail("cuBLAS GEMM ", name, " (", T, "x", K, " by ", N, "x", K, ") failed: ", cublasGetStatusString(s));
}

void gemm_dense_f32(const Ctx& ctx, const float* x, int ldx, int T, const float* w, int N, int K, float* y, int ldy,
                    const char* name) {
  if (T <= 0) return;
  const float alpha = 1.0f, beta = 0.0f;
  ProfileScope scope(ctx, name);
  cublasStatus_t s = cublasGemmEx(ctx.blas, CUBLAS_OP_T, CUBLAS_OP_N, N, T, K, &alpha, w, CUDA_R_32F, K, x, CUDA_R_32F,
                                  ldx, &beta, y, CUDA_R_32F, ldy, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
  if (s != CUBLAS_STATUS_SUCCESS)
    fail("cuBLAS float32 GEMM ", name, " (", T, "x", K, " by ", N, "x", K, ") failed: ", cublasGetStatusString(s));
}

namespace {

constexpr int BM = kGemmTileM, BN = 128, BK = 64, STAGES = 3;
constexpr int LDS = BK + 8;  // rows padded to 144 bytes: fragment loads hit 32 distinct banks
constexpr size_t kStageElems = size_t(BM + BN) * LDS;
constexpr size_t kGemmSmem = STAGES * kStageElems * sizeof(bf16);

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, bool valid) {
  const unsigned dst = unsigned(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(dst), "l"(gmem), "r"(valid ? 16 : 0));
}

__device__ __forceinline__ uint32_t ld32(const bf16* p) { return *reinterpret_cast<const uint32_t*>(p); }

// One 128×128 output tile per block; 8 warps of 64×32; three shared-memory stages of 64-wide K
// slices in flight (deep enough to stream the weights of an expert that few rows chose).
__global__ __launch_bounds__(256) void group_gemm_kernel(GroupGemmArgs a) {
  extern __shared__ float4 smem4[];
  bf16* smem = reinterpret_cast<bf16*>(smem4);  // per stage: A [BM][LDS], then B [BN][LDS]
  grid_sync_prev();
  const int tile = blockIdx.x;
  if (tile >= a.tiles[a.groups]) return;
  int lo = 0, hi = a.groups - 1;  // the group whose tiles contain this one
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (a.tiles[mid] <= tile) lo = mid;
    else hi = mid - 1;
  }
  const int g = lo;
  const int m0 = a.seg[g] + (tile - a.tiles[g]) * BM, m_end = a.seg[g + 1], n0 = blockIdx.y * BN;
  const bf16* W = a.w + size_t(g) * a.w_stride;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, gq = lane / 4, q = lane % 4;
  const int wm = warp / 4, wn = warp % 4;

  // Each thread copies four 16-byte chunks of A and four of B per stage.
  const bf16* a_src[4];
  const bf16* b_src[4];
  bool a_ok[4], b_ok[4];
  const int c_of = tid % 8;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int r = tid / 8 + 32 * i, m = m0 + r, n = n0 + r;
    a_ok[i] = m < m_end;
    const int arow = a_ok[i] ? (a.a_index ? a.a_index[m] : m) : 0;
    a_src[i] = a.a + size_t(arow) * a.lda + c_of * 8;
    b_ok[i] = n < a.N;
    b_src[i] = W + size_t(b_ok[i] ? n : 0) * a.K + c_of * 8;
  }
  auto load_stage = [&](int s, int k0) {
    bf16* As = smem + s * kStageElems;
    bf16* Bs = As + BM * LDS;
    const bool kin = k0 + c_of * 8 < a.K;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int r = tid / 8 + 32 * i;
      cp_async16(As + r * LDS + c_of * 8, kin ? a_src[i] + k0 : a.a, a_ok[i] && kin);
      cp_async16(Bs + r * LDS + c_of * 8, kin ? b_src[i] + k0 : a.w, b_ok[i] && kin);
    }
  };

  float acc[4][4][4] = {};
  const int nk = (a.K + BK - 1) / BK;
#pragma unroll
  for (int s = 0; s < STAGES - 1; ++s) {
    if (s < nk) load_stage(s, s * BK);
    asm volatile("cp.async.commit_group;");
  }
  for (int kt = 0; kt < nk; ++kt) {
    asm volatile("cp.async.wait_group %0;" ::"n"(STAGES - 2));
    __syncthreads();
    const int next = kt + STAGES - 1;
    if (next < nk) load_stage(next % STAGES, next * BK);
    asm volatile("cp.async.commit_group;");
    const bf16* As = smem + (kt % STAGES) * kStageElems;
    const bf16* Bs = As + BM * LDS;
#pragma unroll
    for (int ks = 0; ks < BK; ks += 16) {
      uint32_t af[4][4], bfr[4][2];
#pragma unroll
      for (int mi = 0; mi < 4; ++mi) {
        const bf16* r0 = As + (wm * 64 + mi * 16 + gq) * LDS + ks + 2 * q;
        af[mi][0] = ld32(r0);
        af[mi][1] = ld32(r0 + 8 * LDS);
        af[mi][2] = ld32(r0 + 8);
        af[mi][3] = ld32(r0 + 8 * LDS + 8);
      }
#pragma unroll
      for (int ni = 0; ni < 4; ++ni) {
        const bf16* r0 = Bs + (wn * 32 + ni * 8 + gq) * LDS + ks + 2 * q;
        bfr[ni][0] = ld32(r0);
        bfr[ni][1] = ld32(r0 + 8);
      }
#pragma unroll
      for (int mi = 0; mi < 4; ++mi)
#pragma unroll
        for (int ni = 0; ni < 4; ++ni) mma_bf16(acc[mi][ni], af[mi], bfr[ni]);
    }
  }

#pragma unroll
  for (int mi = 0; mi < 4; ++mi)
#pragma unroll
    for (int ni = 0; ni < 4; ++ni) {
      const int col = n0 + wn * 32 + ni * 8 + 2 * q;
      if (col >= a.N) continue;
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int row = m0 + wm * 64 + mi * 16 + gq + half * 8;
        if (row >= m_end) continue;
        const float c0 = acc[mi][ni][2 * half], c1 = acc[mi][ni][2 * half + 1];
        if (a.swiglu) {
          static_cast<bf16*>(a.out)[size_t(row) * a.ldo + col / 2] = __float2bfloat16_rn(silu(c0) * c1);
        } else {
          float* o = static_cast<float*>(a.out) + size_t(row) * a.ldo + col;
          if (a.accumulate) {
            o[0] += c0;
            if (col + 1 < a.N) o[1] += c1;
          } else if (col + 1 < a.N && a.ldo % 2 == 0) {
            *reinterpret_cast<float2*>(o) = make_float2(c0, c1);
          } else {
            o[0] = c0;
            if (col + 1 < a.N) o[1] = c1;
          }
        }
      }
    }
}

}  // namespace

void group_gemm(const Ctx& ctx, const GroupGemmArgs& a, const char* name) {
  if (a.K % 8 != 0) fail("grouped GEMM ", name, ": K = ", a.K, " must be a multiple of 8");
  if (a.swiglu && a.N % 2 != 0) fail("grouped GEMM ", name, ": gate/up rows must come in pairs");
  launch(ctx, name, group_gemm_kernel, dim3(unsigned(a.max_tiles), blocks_for(a.N, BN)), 256, kGemmSmem, a);
}

}  // namespace a3b::cuda
