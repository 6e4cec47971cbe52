// What one dependent kernel boundary costs on the GPU, against a grid-wide barrier inside one
// persistent kernel: the question behind "fewer launches per decode step" (docs/PERFORMANCE.md,
// CUDA, fourth session). Each phase reads a 2,048-float vector the previous phase changed, sums it
// over the block and writes a little back — the shape of a GEMV prologue without the weights.
//   a3b_cuda_kernel_boundary        (on the GPU machine; prints µs per boundary)
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

namespace {

#define CHECK(x)                                                                  \
  do {                                                                            \
    const cudaError_t e = (x);                                                    \
    if (e != cudaSuccess) {                                                       \
      std::fprintf(stderr, "%s failed: %s\n", #x, cudaGetErrorString(e));         \
      std::exit(1);                                                               \
    }                                                                             \
  } while (0)

constexpr int kH = 2048, kPhases = 256, kReps = 10;

__device__ void phase(float* x, float* red) {
  float s = 0;
  for (int i = threadIdx.x; i < kH; i += blockDim.x) s += static_cast<volatile float*>(x)[i];
  for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
  if (threadIdx.x % 32 == 0) red[threadIdx.x / 32] = s;
  __syncthreads();
  if (threadIdx.x < 32) {
    float v = threadIdx.x < blockDim.x / 32 ? red[threadIdx.x] : 0;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (threadIdx.x == 0 && blockIdx.x == 0) x[kH + 1] = v * 1e-9f;
  }
  if (blockIdx.x == 0 && threadIdx.x < 32) x[threadIdx.x] += 1e-9f;
}

// One phase per kernel; with programmatic dependent launch the next kernel's blocks wait here.
__global__ void phase_kernel(float* x, bool pdl) {
  __shared__ float red[32];
  if (pdl) asm volatile("griddepcontrol.wait;" ::: "memory");
  if (pdl) asm volatile("griddepcontrol.launch_dependents;");
  phase(x, red);
}

__device__ unsigned arrived, generation;

// Every block arrives (one atomic each); the last one starts the next generation.
__device__ void grid_barrier() {
  __syncthreads();
  if (threadIdx.x == 0) {
    volatile unsigned* gen = &generation;
    const unsigned g = *gen;
    __threadfence();
    if (atomicAdd(&arrived, 1) == gridDim.x - 1) {
      arrived = 0;
      __threadfence();
      atomicAdd(&generation, 1);
    } else {
      while (*gen == g) {
      }
    }
    __threadfence();
  }
  __syncthreads();
}

// All phases in one launch (every block resident: at most one per multiprocessor here).
__global__ void persistent_kernel(float* x) {
  __shared__ float red[32];
  for (int p = 0; p < kPhases; ++p) {
    phase(x, red);
    grid_barrier();
  }
}

double graph_us(cudaStream_t s, float* x, int blocks, bool pdl) {
  cudaGraph_t g;
  cudaGraphExec_t exec;
  CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
  for (int i = 0; i < kPhases; ++i) {
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = blocks;
    cfg.blockDim = 256;
    cfg.stream = s;
    cudaLaunchAttribute attr[1];
    attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[0].val.programmaticStreamSerializationAllowed = 1;
    if (pdl) {
      cfg.attrs = attr;
      cfg.numAttrs = 1;
    }
    CHECK(cudaLaunchKernelEx(&cfg, phase_kernel, x, pdl));
  }
  CHECK(cudaStreamEndCapture(s, &g));
  CHECK(cudaGraphInstantiate(&exec, g, 0));
  cudaEvent_t a, b;
  CHECK(cudaEventCreate(&a));
  CHECK(cudaEventCreate(&b));
  for (int i = 0; i < 3; ++i) CHECK(cudaGraphLaunch(exec, s));
  CHECK(cudaEventRecord(a, s));
  for (int i = 0; i < kReps; ++i) CHECK(cudaGraphLaunch(exec, s));
  CHECK(cudaEventRecord(b, s));
  CHECK(cudaEventSynchronize(b));
  float ms = 0;
  CHECK(cudaEventElapsedTime(&ms, a, b));
  CHECK(cudaGraphExecDestroy(exec));
  CHECK(cudaGraphDestroy(g));
  return ms * 1e3 / (kReps * kPhases);
}

double persistent_us(cudaStream_t s, float* x, int blocks) {
  cudaEvent_t a, b;
  CHECK(cudaEventCreate(&a));
  CHECK(cudaEventCreate(&b));
  persistent_kernel<<<blocks, 256, 0, s>>>(x);
  CHECK(cudaEventRecord(a, s));
  for (int i = 0; i < kReps; ++i) persistent_kernel<<<blocks, 256, 0, s>>>(x);
  CHECK(cudaEventRecord(b, s));
  CHECK(cudaEventSynchronize(b));
  CHECK(cudaGetLastError());
  float ms = 0;
  CHECK(cudaEventElapsedTime(&ms, a, b));
  return ms * 1e3 / (kReps * kPhases);
}

}  // namespace

int main() {
  int sms = 0;
  CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  float* x = nullptr;
  CHECK(cudaMalloc(&x, (kH + 64) * sizeof(float)));
  CHECK(cudaMemset(x, 0, (kH + 64) * sizeof(float)));
  cudaStream_t s;
  CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  std::printf("%d dependent phases, 256 threads a block; µs per phase\n", kPhases);
  for (int blocks : {sms, 2 * sms, 4 * sms}) {
    std::printf("%4d blocks: graph of kernels %.2f, with programmatic dependent launch %.2f", blocks,
                graph_us(s, x, blocks, false), graph_us(s, x, blocks, true));
    if (blocks <= sms) std::printf(", one persistent kernel with grid barriers %.2f", persistent_us(s, x, blocks));
    std::printf("\n");
  }
  return 0;
}
