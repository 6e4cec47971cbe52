// Single CUDA kernels against float32 CPU arithmetic on random data: the dense GEMM (cuBLAS and
// ours), the grouped expert GEMM with SwiGLU, the row norms.
#include <cuda_runtime.h>

#include <cmath>
#include <random>

#include "core/dtype.h"
#include "cuda/kernels.h"
#include "cuda_test_util.h"

namespace a3b::cuda {
namespace {

template <class T>
struct DeviceBuf {
  T* p = nullptr;
  size_t n = 0;
  explicit DeviceBuf(size_t count) : n(count) { A3B_CUDA(cudaMalloc(&p, std::max<size_t>(count, 1) * sizeof(T))); }
  DeviceBuf(const std::vector<T>& v) : DeviceBuf(v.size()) { A3B_CUDA(cudaMemcpy(p, v.data(), n * sizeof(T), cudaMemcpyHostToDevice)); }
  ~DeviceBuf() { cudaFree(p); }
  std::vector<T> get() const {
    std::vector<T> v(n);
    A3B_CUDA(cudaMemcpy(v.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost));
    return v;
  }
};

struct Host {
  std::vector<uint16_t> bits;  // bf16
  std::vector<float> f;        // the same values as float
};

Host random_bf16(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::uniform_real_distribution<float> u(-scale, scale);
  Host h;
  for (size_t i = 0; i < n; ++i) {
    h.bits.push_back(f32_to_bf16(u(rng)));
    h.f.push_back(bf16_to_f32(h.bits.back()));
  }
  return h;
}

struct Env {
  Ctx ctx;
  Env() {
    A3B_CUDA(cudaStreamCreate(&ctx.stream));
    A3B_CUBLAS(cublasCreate(&ctx.blas));
    A3B_CUBLAS(cublasSetStream(ctx.blas, ctx.stream));
  }
  ~Env() {
    cublasDestroy(ctx.blas);
    cudaStreamDestroy(ctx.stream);
  }
  void sync() { A3B_CUDA(cudaStreamSynchronize(ctx.stream)); }
};

double rel_err(const std::vector<float>& got, const std::vector<float>& want) {
  return test::max_rel_diff(got.data(), want.data(), want.size());
}

class DenseGemm : public ::testing::TestWithParam<std::tuple<int, int, int>> {};

TEST_P(DenseGemm, MatchesCpu) {
  A3B_REQUIRE_GPU();
  auto [T, K, N] = GetParam();
  std::mt19937 rng(T * 131 + K * 7 + N);
  Host x = random_bf16(size_t(T) * K, rng), w = random_bf16(size_t(N) * K, rng);
  std::vector<float> y0(size_t(T) * N), want(size_t(T) * N);
  for (auto& v : y0) v = std::uniform_real_distribution<float>(-1, 1)(rng);
  for (int t = 0; t < T; ++t)
    for (int n = 0; n < N; ++n) {
      double s = 0;
      for (int k = 0; k < K; ++k) s += double(x.f[size_t(t) * K + k]) * w.f[size_t(n) * K + k];
      want[size_t(t) * N + n] = float(s) + y0[size_t(t) * N + n];
    }
  Env env;
  DeviceBuf<uint16_t> dx(x.bits), dw(w.bits);
  DeviceBuf<float> dy(y0), dy2(y0);
  gemm_dense(env.ctx, reinterpret_cast<bf16*>(dx.p), K, T, reinterpret_cast<bf16*>(dw.p), N, K, dy.p, N, true, "test");
  std::vector<int> seg = {0, T}, tiles = {0, (T + kGemmTileM - 1) / kGemmTileM};
  DeviceBuf<int> dseg(seg), dtiles(tiles);
  GroupGemmArgs g;
  g.a = reinterpret_cast<bf16*>(dx.p);
  g.lda = K;
  g.w = reinterpret_cast<bf16*>(dw.p);
  g.N = N;
  g.K = K;
  g.groups = 1;
  g.seg = dseg.p;
  g.tiles = dtiles.p;
  g.max_tiles = tiles[1];
  g.accumulate = true;
  g.out = dy2.p;
  g.ldo = N;
  group_gemm(env.ctx, g, "test");
  env.sync();
  const double e1 = rel_err(dy.get(), want), e2 = rel_err(dy2.get(), want);
  std::printf("dense %dx%d by %dx%d: cuBLAS %.2e, ours %.2e\n", T, K, N, K, e1, e2);
  EXPECT_LE(e1, 1e-5);
  EXPECT_LE(e2, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Shapes, DenseGemm,
                         ::testing::Values(std::make_tuple(8, 64, 200), std::make_tuple(8, 64, 17), std::make_tuple(80, 128, 64),
                                           std::make_tuple(300, 2048, 257), std::make_tuple(5, 24, 48)));

TEST(CudaKernels, RmsNormRowsMatchesCpu) {
  A3B_REQUIRE_GPU();
  std::mt19937 rng(5);
  const int H = 2048, n = 7;
  std::vector<float> h(size_t(n) * H), w(H);
  for (auto& v : h) v = std::uniform_real_distribution<float>(-3, 3)(rng);
  for (auto& v : w) v = std::uniform_real_distribution<float>(0.5f, 1.5f)(rng);
  std::vector<int> rows = {6, 0, 3};
  Env env;
  DeviceBuf<float> dh(h), dw(w), out(rows.size() * H);
  DeviceBuf<int> drows(rows);
  DeviceBuf<uint16_t> outb(rows.size() * H);
  rms_norm_rows(env.ctx, dh.p, H, drows.p, int(rows.size()), dw.p, 1e-6f, out.p, reinterpret_cast<bf16*>(outb.p));
  env.sync();
  std::vector<float> want(rows.size() * H);
  for (size_t i = 0; i < rows.size(); ++i) {
    double ss = 0;
    for (int c = 0; c < H; ++c) ss += double(h[size_t(rows[i]) * H + c]) * h[size_t(rows[i]) * H + c];
    const float inv = 1.0f / std::sqrt(float(ss / H) + 1e-6f);
    for (int c = 0; c < H; ++c) want[i * H + c] = h[size_t(rows[i]) * H + c] * inv * w[size_t(c)];
  }
  EXPECT_LE(rel_err(out.get(), want), 1e-6);
  auto b = outb.get();
  std::vector<float> bf(b.size());
  for (size_t i = 0; i < b.size(); ++i) bf[i] = bf16_to_f32(b[i]);
  EXPECT_LE(rel_err(bf, want), 4e-3);
}

}  // namespace
}  // namespace a3b::cuda
