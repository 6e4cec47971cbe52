// Model -> GGUF (llama.cpp's qwen35moe layout, loadable by llama.cpp): from an HF checkpoint
// folder or another GGUF file, at one of a few type mixes. The output is self-contained: config,
// tokenizer (tokenizer.ggml.*), chat template and sampling defaults travel in the metadata.
//
// HF input gets llama.cpp's converter transforms (docs/gguf.md section 5): linear-attention V heads
// reordered grouped -> tiled, norms stored as 1+w, ssm_a = -exp(A_log), experts as 3-D stacks,
// MTP block dropped. GGUF input is re-encoded tensor by tensor (its MTP block is dropped too).
#pragma once
#include <functional>
#include <string>

namespace a3b {

struct QuantizeOptions {
  // F32, F16, BF16, Q8_0 (every matrix), or Q4_K_M as llama.cpp mixes it: Q4_K for most
  // matrices, Q6_K for output, Q5_K for attn_qkv, and Q6_K for the half of attn_v / ffn_down that
  // llama.cpp's use_more_bits picks (first and last eighth of the layers, every third between). Matrices whose rows are not whole 256-blocks
  // fall back to Q8_0. Norms, routers, gates, conv, ssm_* vectors and ssm_alpha/beta stay F32.
  std::string type = "Q4_K_M";
  int threads = 0;
  // Called once per tensor before it is encoded: index, count, name.
  std::function<void(size_t, size_t, const std::string&)> progress;
};

void quantize_model(const std::string& input, const std::string& output, const QuantizeOptions& options);

}  // namespace a3b
