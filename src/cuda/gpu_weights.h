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

// Projections whose rows come from several stored matrices keep them as parts: consecutive
// sources of one GPU type share a part (a GGUF's Q8_0 qkv and z rows; its F32 a/b rows as bf16).
using GpuParts = std::vector<GpuMatrix>;

struct GpuLayer {
  LayerKind kind = LayerKind::DeltaNet;
  int slot = 0;                       // index among the layers of its kind
  float* input_norm = nullptr;        // [H], 1 + w
  float* post_norm = nullptr;         // [H], 1 + w
  // DeltaNet
  GpuParts in_proj;                   // [conv_dim + value_dim + 2 nv][H]: qkv | z | b | a
  GpuMatrix out_proj;                 // [H][value_dim]
  float* conv_w = nullptr;            // [conv_dim][conv_k]
  float* A = nullptr;                 // [nv], -exp(A_log)
  float* dt_bias = nullptr;           // [nv]
  float* gdn_norm = nullptr;          // [dv]
  // attention
  GpuParts qkv;                       // [2 nq D + 2 nkv D][H]: q|gate per head, k, v
  GpuMatrix o_proj;                   // [H][nq D]
  float* q_norm = nullptr, * k_norm = nullptr;  // [D], 1 + w
  // MoE
  GpuMatrix router;                   // bf16 [E + 1][H]: router rows, then the shared expert's gate row
  float* router_f32 = nullptr;        // the same in float32, for steps of many tokens
  GpuMatrix gate_up;                  // [E·2I][H], (gate_j, up_j) row pairs
  GpuMatrix down;                     // [E·H][I]
  GpuMatrix sh_gate_up;               // [2 Is][H] pairs, no data without a shared expert
  GpuMatrix sh_down;                  // [H][Is]
};

// Weight types of a synthetic model: all bf16, or the mix of Unsloth's UD-Q4_K_M (gguf.md §4).
enum class SyntheticMix { BF16, UD_Q4_K_M };

class GpuWeights {
 public:
  // Copies the weights of a loaded checkpoint: the quant types the kernels read stay quantized
  // (gpu_quant_supported; experts only when H, I and Is are multiples of 64), others become bf16.
  explicit GpuWeights(const ModelWeights& w);
  // Random weights generated on the GPU: a model of the config's full size with no file.
  GpuWeights(const ModelConfig& c, uint64_t seed, SyntheticMix mix = SyntheticMix::BF16);
  ~GpuWeights();
  GpuWeights(const GpuWeights&) = delete;
  GpuWeights& operator=(const GpuWeights&) = delete;

  ModelConfig config;
  Dims dims;
  GpuMatrix embed;                    // [V][H]
  GpuMatrix lm_head;                  // [V][H]
  float* final_norm = nullptr;        // [H]
  float* inv_freq = nullptr;          // [rot / 2]
  float rope_scale = 1.0f;
  std::vector<GpuLayer> layers;
  size_t bytes = 0;                   // GPU memory held
  bool quantized = false;             // some matrix is stored quantized

  int in_proj_rows() const { return dims.conv_dim + dims.value_dim + 2 * dims.nv; }
  int qkv_rows() const { return 2 * dims.nq * dims.D + 2 * dims.nkv * dims.D; }

 private:
  void* alloc(size_t bytes, const char* what);
  template <class T>
  T* alloc_n(size_t n, const char* what) { return static_cast<T*>(alloc(n * sizeof(T), what)); }
  GpuMatrix new_matrix(DType type, int64_t rows, int64_t cols, const char* what);
  void allocate_small();  // norms, conv, gates, router: everything but the big matrices
  void finish();  // derived copies, then waits for every upload

 public:
  // Quantized dense matrices (projections, shared experts, lm_head) get a bf16 copy, dequantized
  // once, for steps of many tokens, which would otherwise dequantize them every step, if the
  // copies leave keep_free bytes of the GPU free. Returns the bytes added.
  size_t add_dense_bf16_copies(size_t keep_free);
  std::vector<void*> allocations_;
};

Dims dims_of(const ModelConfig& c);

}  // namespace a3b::cuda
