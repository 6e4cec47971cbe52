// Matrix products with many activation rows: cuBLAS for the dense projections, and our own
// tensor-core kernel for the experts, where each expert multiplies only the rows routed to it.
#include "cuda/gemm_tile.cuh"

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

constexpr int BM = kTileM, BN = kTileN, BK = 64, STAGES = 3;
constexpr int LDS = BK + 8;  // rows padded to 144 bytes: fragment loads hit 32 distinct banks
constexpr size_t kStageElems = size_t(BM + BN) * LDS;
constexpr size_t kGemmSmem = STAGES * kStageElems * sizeof(bf16);

// One 128×128 output tile per block (8 warps of 64×32); three shared-memory stages of 64-wide K
// slices in flight (deep enough to stream the weights of an expert that few rows chose).
__global__ __launch_bounds__(256) void group_gemm_kernel(GroupGemmArgs a) {
  extern __shared__ float4 smem4[];
  bf16* smem = reinterpret_cast<bf16*>(smem4);  // per stage: A [BM][LDS], then B [BN][LDS]
  TilePlace at;
  if (!tile_place(a, &at)) return;
  const int g = at.g, m0 = at.m0, m_end = at.m_end, n0 = at.n0;
  const bf16* W = a.w + size_t(g) * a.w_stride;
  const int tid = threadIdx.x, row0 = WarpTile<BM>::row0(), col0 = WarpTile<BM>::col0();

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
    mma_slice<LDS, BK>(As, As + BM * LDS, acc, row0, col0, m_end - m0);
  }
  store_frags(a, acc, m0 + row0, m_end, n0 + col0);
}

}  // namespace

void group_gemm(const Ctx& ctx, const GroupGemmArgs& a, const char* name) {
  if (a.wq.data) return group_gemm_quant(ctx, a, name);
  if (a.K % 8 != 0) fail("grouped GEMM ", name, ": K = ", a.K, " must be a multiple of 8");
  if (a.swiglu && a.N % 2 != 0) fail("grouped GEMM ", name, ": gate/up rows must come in pairs");
  launch(ctx, name, group_gemm_kernel, dim3(unsigned(a.max_tiles), blocks_for(a.N, BN)), 256, kGemmSmem, a);
}

}  // namespace a3b::cuda
