// config.json of a Hugging Face Qwen3.5/3.6-MoE checkpoint → ModelConfig.
// Accepts the multimodal form (Qwen3_5MoeForConditionalGeneration with text_config) and the bare
// text form (Qwen3_5MoeForCausalLM), layer_types or full_attention_interval, rope_parameters or the
// older rope_theta / rope_scaling / partial_rotary_factor spellings.
#pragma once
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "model/config.h"

namespace a3b {

ModelConfig parse_hf_config(const nlohmann::json& j, const std::string& path);
ModelConfig load_hf_config(const std::string& config_json_path);

}  // namespace a3b
