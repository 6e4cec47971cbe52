// The model's weights in GPU memory: bf16 matrices laid out for the kernels (projections that read
// the same input fused into one matrix, expert gate/up rows interleaved), float32 small parameters.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cuda/kernels.h"
#include "model/config.h"
#include "model/weights.h"

namespace a3b::cuda {

struct GpuLayer {
  LayerKind kind = LayerKind::DeltaNet;
  int slot = 0;                       // index among the layers of its kind
  float* input_norm = nullptr;        // [H], 1 + w
  float* post_norm = nullptr;         // [H], 1 + w
  // DeltaNet
  bf16* in_proj = nullptr;            // [conv_dim + value_dim + 2 nv][H]: qkv | z | b | a
  bf16* out_proj = nullptr;           // [H][value_dim]
  float* conv_w = nullptr;            // [conv_dim][conv_k]
  float* A = nullptr;                 // [nv], -exp(A_log)
  float* dt_bias = nullptr;           // [nv]
  float* gdn_norm = nullptr;          // [dv]
  // attention
  bf16* qkv = nullptr;                // [2 nq D + 2 nkv D][H]: q|gate per head, k, v
  bf16* o_proj = nullptr;             // [H][nq D]
  float* q_norm = nullptr, * k_norm = nullptr;  // [D], 1 + w
  // MoE
  bf16* router = nullptr;             // [E + 1][H]: router rows, then the shared expert's gate row
  float* router_f32 = nullptr;        // the same in float32, for steps of many tokens
  bf16* gate_up = nullptr;            // [E][2I][H], (gate_j, up_j) row pairs
  bf16* down = nullptr;               // [E][H][I]
  bf16* sh_gate_up = nullptr;         // [2 Is][H] pairs, null without a shared expert
  bf16* sh_down = nullptr;            // [H][Is]
};

class GpuWeights {
 public:
  // Copies (and converts to bf16) the weights of a loaded checkpoint.
  explicit GpuWeights(const ModelWeights& w);
  // Random weights generated on the GPU: a model of the config's full size with no file.
  GpuWeights(const ModelConfig& c, uint64_t seed);
  ~GpuWeights();
  GpuWeights(const GpuWeights&) = delete;
  GpuWeights& operator=(const GpuWeights&) = delete;

  ModelConfig config;
  Dims dims;
  bf16* embed = nullptr;              // [V][H]
  bf16* lm_head = nullptr;            // [V][H]
  float* final_norm = nullptr;        // [H]
  float* inv_freq = nullptr;          // [rot / 2]
  float rope_scale = 1.0f;
  std::vector<GpuLayer> layers;
  size_t bytes = 0;                   // GPU memory held

  int in_proj_rows() const { return dims.conv_dim + dims.value_dim + 2 * dims.nv; }
  int qkv_rows() const { return 2 * dims.nq * dims.D + 2 * dims.nkv * dims.D; }

 private:
  void* alloc(size_t bytes, const char* what);
  template <class T>
  T* alloc_n(size_t n, const char* what) { return static_cast<T*>(alloc(n * sizeof(T), what)); }
  void allocate_layout();
  void finish();  // derived copies, then waits for every upload
  std::vector<void*> allocations_;
};

Dims dims_of(const ModelConfig& c);

}  // namespace a3b::cuda
