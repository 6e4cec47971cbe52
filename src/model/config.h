// The hyper-parameters of a Qwen3.5/3.6-MoE text model, whatever file they came from.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace a3b {

enum class LayerKind : uint8_t { DeltaNet, Attention };

struct RopeConfig {
  double theta = 10000000.0;
  int rotary_dim = 64;               // head_dim * partial_rotary_factor; NeoX halves of this span
  std::string type = "default";      // "default" or "yarn"
  double yarn_factor = 1.0;
  int64_t yarn_original_max_positions = 0;
  double yarn_beta_fast = 32.0, yarn_beta_slow = 1.0;
};

struct ModelConfig {
  std::string architecture;          // as declared, e.g. Qwen3_5MoeForConditionalGeneration
  int64_t vocab_size = 0;
  int64_t hidden = 0;
  int n_layers = 0;
  std::vector<LayerKind> layers;
  float rms_eps = 1e-6f;
  bool tie_embeddings = false;
  int64_t max_positions = 0;

  // gated full attention
  int n_heads = 0, n_kv_heads = 0, head_dim = 0;
  RopeConfig rope;

  // gated DeltaNet
  int lin_k_heads = 0, lin_v_heads = 0, lin_k_dim = 0, lin_v_dim = 0, conv_kernel = 4;

  // mixture of experts
  int n_experts = 0, n_experts_used = 0;
  int64_t expert_inter = 0, shared_inter = 0;

  int mtp_layers = 0;
  std::vector<int32_t> eos_ids;
  int32_t bos_id = -1, pad_id = -1;

  int64_t lin_key_dim() const { return int64_t(lin_k_heads) * lin_k_dim; }
  int64_t lin_value_dim() const { return int64_t(lin_v_heads) * lin_v_dim; }
  int64_t conv_dim() const { return 2 * lin_key_dim() + lin_value_dim(); }
  int n_attention_layers() const;
  int n_deltanet_layers() const;
};

// Checks internal consistency (divisibility, non-zero sizes); throws Error naming `where`.
void validate_config(const ModelConfig& c, const std::string& where);

}  // namespace a3b
