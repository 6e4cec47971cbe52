#include "model/config.h"

#include <algorithm>

#include "core/error.h"

namespace a3b {

int ModelConfig::n_attention_layers() const {
  return int(std::count(layers.begin(), layers.end(), LayerKind::Attention));
}

int ModelConfig::n_deltanet_layers() const {
  return int(std::count(layers.begin(), layers.end(), LayerKind::DeltaNet));
}

void validate_config(const ModelConfig& c, const std::string& where) {
  auto need = [&](bool ok, const char* what) {
    if (!ok) fail(where, ": invalid model configuration: ", what);
  };
  need(c.vocab_size > 0 && c.hidden > 0 && c.n_layers > 0, "vocab_size, hidden_size and num_hidden_layers must be positive");
  need(int(c.layers.size()) == c.n_layers, "layer_types must have num_hidden_layers entries");
  need(c.n_heads > 0 && c.n_kv_heads > 0 && c.head_dim > 0, "attention heads and head_dim must be positive");
  need(c.n_heads % c.n_kv_heads == 0, "num_attention_heads must be a multiple of num_key_value_heads");
  need(c.rope.rotary_dim > 0 && c.rope.rotary_dim % 2 == 0 && c.rope.rotary_dim <= c.head_dim,
       "rotary dimension (head_dim * partial_rotary_factor) must be even and at most head_dim");
  need(c.rope.theta > 0, "rope_theta must be positive");
  if (c.n_deltanet_layers() > 0) {
    need(c.lin_k_heads > 0 && c.lin_v_heads > 0 && c.lin_k_dim > 0 && c.lin_v_dim > 0,
         "linear attention heads and dims must be positive");
    need(c.lin_v_heads % c.lin_k_heads == 0, "linear_num_value_heads must be a multiple of linear_num_key_heads");
    need(c.conv_kernel >= 1, "linear_conv_kernel_dim must be positive");
  }
  need(c.n_experts > 0 && c.n_experts_used > 0 && c.n_experts_used <= c.n_experts,
       "num_experts_per_tok must be between 1 and num_experts");
  need(c.expert_inter > 0, "moe_intermediate_size must be positive");
  need(c.rope.type == "default" || c.rope.type == "yarn", "rope type must be default or yarn");
  if (c.rope.type == "yarn") need(c.rope.yarn_factor >= 1.0, "yarn factor must be >= 1");
}

}  // namespace a3b
