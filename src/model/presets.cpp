#include "model/presets.h"

#include "core/error.h"

namespace a3b {

ModelConfig preset_config(const std::string& name) {
  if (name != "qwen3.6-35b-a3b" && name != "qwen3.5-35b-a3b")
    fail("unknown model preset '", name, "' (known: qwen3.6-35b-a3b, qwen3.5-35b-a3b)");
  ModelConfig c;
  c.architecture = "Qwen3_5MoeForConditionalGeneration";
  c.vocab_size = 248320;
  c.hidden = 2048;
  c.n_layers = 40;
  for (int l = 0; l < c.n_layers; ++l) c.layers.push_back(l % 4 == 3 ? LayerKind::Attention : LayerKind::DeltaNet);
  c.rms_eps = 1e-6f;
  c.tie_embeddings = false;
  c.max_positions = 262144;
  c.n_heads = 16;
  c.n_kv_heads = 2;
  c.head_dim = 256;
  c.rope.theta = 10000000.0;
  c.rope.rotary_dim = 64;
  c.lin_k_heads = 16;
  c.lin_v_heads = 32;
  c.lin_k_dim = 128;
  c.lin_v_dim = 128;
  c.conv_kernel = 4;
  c.n_experts = 256;
  c.n_experts_used = 8;
  c.expert_inter = 512;
  c.shared_inter = 512;
  c.mtp_layers = 1;
  c.eos_ids = {248046, 248044};
  c.bos_id = 248044;
  c.pad_id = 248044;
  validate_config(c, name);
  return c;
}

ModelConfig with_layers(ModelConfig c, int n) {
  if (n < 1 || n > c.n_layers) fail("--layers must be between 1 and ", c.n_layers);
  c.n_layers = n;
  c.layers.resize(size_t(n));
  return c;
}

}  // namespace a3b
