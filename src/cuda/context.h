// The state every launch needs (stream, launch mode, cuBLAS handle, profiler), checked CUDA calls,
// and the per-kernel-class timing that `a3b bench --profile` reports.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <map>
#include <string>
#include <vector>

namespace a3b::cuda {

[[noreturn]] void cuda_fail(cudaError_t e, const char* call, const char* file, int line);
[[noreturn]] void cublas_fail(cublasStatus_t s, const char* call, const char* file, int line);

#define A3B_CUDA(call)                                                                  \
  do {                                                                                  \
    cudaError_t a3b_e_ = (call);                                                        \
    if (a3b_e_ != cudaSuccess) ::a3b::cuda::cuda_fail(a3b_e_, #call, __FILE__, __LINE__); \
  } while (0)

#define A3B_CUBLAS(call)                                                                            \
  do {                                                                                              \
    cublasStatus_t a3b_s_ = (call);                                                                 \
    if (a3b_s_ != CUBLAS_STATUS_SUCCESS) ::a3b::cuda::cublas_fail(a3b_s_, #call, __FILE__, __LINE__); \
  } while (0)

// Event pairs around every launch, summed per kernel class when the forward is done. Only used
// eagerly (no graphs, no overlapping launches), so each pair brackets exactly one kernel.
class Profiler {
 public:
  ~Profiler();
  void begin(cudaStream_t s, const char* name);
  void end(cudaStream_t s);
  void collect();  // synchronises; adds the finished pairs to the totals
  void reset() { totals_.clear(); counts_.clear(); }
  const std::map<std::string, double>& totals_ms() const { return totals_; }
  const std::map<std::string, long>& counts() const { return counts_; }

 private:
  struct Mark { std::string name; cudaEvent_t a, b; };
  std::vector<Mark> marks_;
  std::vector<cudaEvent_t> free_;
  std::map<std::string, double> totals_;
  std::map<std::string, long> counts_;
  cudaEvent_t take();
};

struct Ctx {
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  bool pdl = false;            // programmatic dependent launch between consecutive kernels
  Profiler* prof = nullptr;    // when set: every launch is timed under its class name
  int sms = 132;               // multiprocessors of the device
};

// Benchmark ablation: true for kernel names listed in A3B_SKIP_KERNELS (comma-separated, e.g.
// "moe/router,moe/down"). A step without them computes garbage, but its time minus the full
// step's is what those kernels cost inside the CUDA graph, launch gaps included.
bool kernel_skipped(const char* name);

// Kernel names are "class/detail"; the profiler sums by the part before the slash.
class ProfileScope {
 public:
  ProfileScope(const Ctx& ctx, const char* name) : ctx_(ctx) {
    if (ctx_.prof) ctx_.prof->begin(ctx_.stream, name);
  }
  ~ProfileScope() {
    if (ctx_.prof) ctx_.prof->end(ctx_.stream);
  }

 private:
  const Ctx& ctx_;
};

}  // namespace a3b::cuda
