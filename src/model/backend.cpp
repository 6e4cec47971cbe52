#include "model/backend.h"

#include "core/error.h"
#include "cpu/cpu_model.h"
#ifdef A3B_HAVE_CUDA
#include "cuda/cuda_model.h"
#endif

namespace a3b {

bool cuda_built() {
#ifdef A3B_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

bool cuda_usable() {
#ifdef A3B_HAVE_CUDA
  return cuda_device_count() > 0;
#else
  return false;
#endif
}

Backend default_backend() { return cuda_usable() ? Backend::Cuda : Backend::Cpu; }

Backend parse_backend(const std::string& s) {
  if (s == "cpu") return Backend::Cpu;
  if (s == "cuda") return Backend::Cuda;
  fail("unknown backend '", s, "' (known: cpu, cuda)");
}

std::unique_ptr<Model> make_model(ModelWeights weights, Backend backend, int cpu_threads) {
  if (backend == Backend::Cpu) return std::make_unique<CpuModel>(std::move(weights), cpu_threads);
#ifdef A3B_HAVE_CUDA
  return std::make_unique<CudaModel>(weights);
#else
  fail("backend 'cuda': this a3b was built without CUDA (configure with -DA3B_CUDA=ON on a machine with the CUDA "
       "toolkit), use --backend cpu");
#endif
}

}  // namespace a3b
