// The whole Qwen3.5/3.6-MoE forward on one NVIDIA GPU (Hopper, sm_90a): bf16 weights, or GGUF
// quantized ones as stored; float32 residual stream and DeltaNet state. No CUDA header leaks out.
//
// Precision: steps of at most 4 tokens (decode) multiply float32 activations by bf16 weights with
// float32 accumulation, like the CPU engine, and int8 activations (per 32 values) by quantized
// weights, like llama.cpp; larger steps (prefill, wide batches) round the activations that enter
// a matrix product to bf16 and dequantize quantized weights to bf16 first (tensor cores). The KV
// cache is bf16.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "model/model.h"
#include "model/weights.h"

namespace a3b {

namespace cuda {
struct Engine;
}

struct CudaOptions {
  int device = 0;
  bool graphs = true;          // replay decode steps from captured CUDA graphs
  bool pdl = true;             // programmatic dependent launch between kernels
  int max_step_tokens = 8192;  // larger batches run as several steps (bounds the workspace)
  bool flash_attention = true; // long sequences' prefill attention on tensor cores (else split-K)
  bool grouped_moe = true;     // many tokens: experts as grouped GEMMs (else gather-GEMV, 4 tokens at a time)
  bool cublas = true;          // dense projections of many tokens through cuBLAS (else our tensor-core GEMM)
  // Quantized weights: decode batches (one token per sequence) of at most quant_decode_split
  // sequences (quant_decode_split_with_copies when the dense matrices have bf16 copies, below)
  // run as steps of quant_decode_step, on the quantized GEMV path, instead of one step through
  // the grouped GEMMs. UD-Q4_K_M on an H100, steps of 4 vs one step: without the copies batch 5
  // 457 vs 359 tok/s, 8 484 vs 504 (a 4-token step costs ~3× a 1-token one); with them batch 5
  // 495 vs 455, 6 527 vs 548, 7 520 vs 593.
  int quant_decode_step = 4;  // the GEMV path's most tokens (kGemvMaxTokens); 0: off
  int quant_decode_split = 7;
  int quant_decode_split_with_copies = 5;
  // Quantized routed experts in steps of 5 to quant_gemm_tokens tokens: the grouped GEMM
  // dequantizes tiles into shared memory (qgemm.cu) instead of every expert with rows into a
  // scratch first. UD-Q4_K_M, H100: decode batch 64 781 -> 1,675 tok/s, prefill of 2,048 tokens
  // 14,882 -> 17,231; at 8,192 the scratch is faster (22,045 vs 20,934). 0: off.
  int quant_gemm_tokens = 4096;
  // Quantized weights: keep a bf16 copy of the dense matrices (lm_head, projections, shared
  // experts; 3.8 GB for the real model) for steps of more than 4 tokens, when the copies leave
  // a quarter of the GPU's memory free; otherwise every such step dequantizes them again.
  // UD-Q4_K_M on an H100, with vs without: decode batch 8 659 vs 522 tok/s, 64 1,819 vs 1,668.
  bool dense_bf16_copies = true;
};

class CudaModel : public Model {
 public:
  // Uploads a loaded checkpoint: Q8_0, Q4_0, K-quants, IQ types and MXFP4 stay quantized (in GPU
  // layouts), F32 / F16 become bf16.
  explicit CudaModel(const ModelWeights& weights, CudaOptions options = {});
  // A model of the config's shape with random weights generated on the GPU (benchmarks); mix
  // "bf16", or "ud-q4_k_m" for the quant types of Unsloth's UD-Q4_K_M file.
  CudaModel(const ModelConfig& config, uint64_t seed, CudaOptions options = {}, const std::string& mix = "bf16");
  ~CudaModel() override;

  const ModelConfig& config() const override;
  std::string backend() const override;
  // Sequences hold GPU memory until destroyed; they keep the device context alive.
  std::unique_ptr<SequenceState> new_sequence() override;
  std::unique_ptr<SequenceState> clone_sequence(const SequenceState& s) override;
  // logits may be null: the step still computes them but copies nothing to the host.
  void forward(std::span<const BatchItem> batch, float* logits) override;

  // Per-kernel-class GPU time of the forwards since the last reset (eager launches, no graphs).
  void set_profiling(bool on);
  std::map<std::string, double> profile_ms() const;
  std::map<std::string, long> profile_counts() const;
  void reset_profile();

  size_t weight_bytes() const;
  // Bytes a decode step reads of the matrices every token uses (projections, routers, shared
  // experts, lm_head; not the embedding), and of one routed expert on average over the layers.
  double dense_bytes() const;
  double expert_bytes() const;
  std::string device_name() const;

 private:
  std::shared_ptr<cuda::Engine> e_;
};

// Number of usable CUDA devices; 0 when there is none or no driver (never throws).
int cuda_device_count();

struct CudaMemory {
  size_t free = 0, total = 0;
};
CudaMemory cuda_memory(int device = 0);

// Device-to-device copy bandwidth in bytes/s (bytes read plus written), measured on `bytes`.
double cuda_copy_bandwidth(int device, size_t bytes);
// Dense bf16 matrix-product rate in FLOP/s through cuBLAS, for an n×n×n product.
double cuda_matmul_flops(int device, int n);

}  // namespace a3b
