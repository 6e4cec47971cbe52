#include "cuda/context.h"

#include <cstdlib>
#include <set>
#include <sstream>
#include <string>

#include "core/error.h"
#include "cuda/cuda_model.h"
#include "cuda/kernels.h"

namespace a3b::cuda {

void cuda_fail(cudaError_t e, const char* call, const char* file, int line) {
  (void)cudaGetLastError();
  fail("CUDA error ", cudaGetErrorName(e), " (", cudaGetErrorString(e), ") in ", call, " at ", file, ":", line);
}

bool kernel_skipped(const char* name) {
  static const std::set<std::string> skipped = [] {
    std::set<std::string> names;
    if (const char* env = std::getenv("A3B_SKIP_KERNELS")) {
      std::stringstream list(env);
      for (std::string n; std::getline(list, n, ',');)
        if (!n.empty()) names.insert(n);
    }
    return names;
  }();
  return !skipped.empty() && skipped.count(name) > 0;
}

void cublas_fail(cublasStatus_t s, const char* call, const char* file, int line) {
  fail("cuBLAS error ", cublasGetStatusName(s), " (", cublasGetStatusString(s), ") in ", call, " at ", file, ":", line);
}

void allow_smem(const void* kernel, size_t bytes, const char* name) {
  static std::set<std::pair<const void*, size_t>> done;
  if (done.count({kernel, bytes})) return;
  cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes));
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    fail("CUDA: kernel ", name, " cannot have ", bytes, " bytes of shared memory: ", cudaGetErrorString(e));
  }
  done.insert({kernel, bytes});
}

Profiler::~Profiler() {
  for (auto& m : marks_) {
    cudaEventDestroy(m.a);
    cudaEventDestroy(m.b);
  }
  for (cudaEvent_t e : free_) cudaEventDestroy(e);
}

cudaEvent_t Profiler::take() {
  if (!free_.empty()) {
    cudaEvent_t e = free_.back();
    free_.pop_back();
    return e;
  }
  cudaEvent_t e;
  A3B_CUDA(cudaEventCreate(&e));
  return e;
}

void Profiler::begin(cudaStream_t s, const char* name) {
  Mark m{name, take(), take()};
  A3B_CUDA(cudaEventRecord(m.a, s));
  marks_.push_back(m);
}

void Profiler::end(cudaStream_t s) { A3B_CUDA(cudaEventRecord(marks_.back().b, s)); }

void Profiler::collect() {
  for (auto& m : marks_) {
    A3B_CUDA(cudaEventSynchronize(m.b));
    float ms = 0;
    A3B_CUDA(cudaEventElapsedTime(&ms, m.a, m.b));
    totals_[m.name] += ms;
    counts_[m.name] += 1;
    free_.push_back(m.a);
    free_.push_back(m.b);
  }
  marks_.clear();
}

}  // namespace a3b::cuda

namespace a3b {
namespace {

// Milliseconds per call of `fn` (enqueueing work on the default stream), after one warm-up call.
template <class Fn>
double time_ms(Fn fn, int reps) {
  fn();
  cudaEvent_t e0, e1;
  A3B_CUDA(cudaEventCreate(&e0));
  A3B_CUDA(cudaEventCreate(&e1));
  A3B_CUDA(cudaEventRecord(e0));
  for (int i = 0; i < reps; ++i) fn();
  A3B_CUDA(cudaEventRecord(e1));
  A3B_CUDA(cudaEventSynchronize(e1));
  float ms = 0;
  A3B_CUDA(cudaEventElapsedTime(&ms, e0, e1));
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  return ms / reps;
}

}  // namespace

double cuda_copy_bandwidth(int device, size_t bytes) {
  A3B_CUDA(cudaSetDevice(device));
  void *a = nullptr, *b = nullptr;
  A3B_CUDA(cudaMalloc(&a, bytes));
  A3B_CUDA(cudaMalloc(&b, bytes));
  A3B_CUDA(cudaMemset(a, 1, bytes));
  const double ms = time_ms([&] { A3B_CUDA(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice)); }, 10);
  cudaFree(a);
  cudaFree(b);
  return 2.0 * double(bytes) / (ms * 1e-3);
}

double cuda_matmul_flops(int device, int n) {
  A3B_CUDA(cudaSetDevice(device));
  const size_t elems = size_t(n) * n;
  void *a = nullptr, *b = nullptr, *c = nullptr;
  A3B_CUDA(cudaMalloc(&a, elems * 2));
  A3B_CUDA(cudaMalloc(&b, elems * 2));
  A3B_CUDA(cudaMalloc(&c, elems * 4));
  cuda::fill_uniform_bf16(nullptr, static_cast<cuda::bf16*>(a), int64_t(elems), -1, 1, 1);
  cuda::fill_uniform_bf16(nullptr, static_cast<cuda::bf16*>(b), int64_t(elems), -1, 1, 2);
  cublasHandle_t h;
  A3B_CUBLAS(cublasCreate(&h));
  const float alpha = 1, beta = 0;
  auto run = [&] {
    A3B_CUBLAS(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, n, n, n, &alpha, a, CUDA_R_16BF, n, b, CUDA_R_16BF, n, &beta, c,
                            CUDA_R_32F, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  };
  const double ms = time_ms(run, 10);
  cublasDestroy(h);
  cudaFree(a);
  cudaFree(b);
  cudaFree(c);
  return 2.0 * double(n) * n * n / (ms * 1e-3);
}

}  // namespace a3b
