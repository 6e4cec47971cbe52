#include "formats/hf_config.h"

#include <cmath>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace a3b {
namespace {

using nlohmann::json;

const std::set<std::string> kArchitectures = {
    "Qwen3_5MoeForConditionalGeneration", "Qwen3_5MoeForCausalLM", "Qwen3_5MoeTextModel", "Qwen3_5MoeModel"};
const std::set<std::string> kModelTypes = {"qwen3_5_moe", "qwen3_5_moe_text"};

struct Reader {
  const json& j;
  const std::string& where;

  const json* find(const char* key) const {
    auto it = j.find(key);
    return it == j.end() || it->is_null() ? nullptr : &*it;
  }
  int64_t integer(const char* key) const {
    const json* v = find(key);
    if (!v) fail(where, ": required field '", key, "' is missing");
    if (!v->is_number_integer()) fail(where, ": field '", key, "' must be an integer");
    return v->get<int64_t>();
  }
  int64_t integer(const char* key, int64_t dflt) const { return find(key) ? integer(key) : dflt; }
  double number(const json& v, const char* key) const {
    if (!v.is_number()) fail(where, ": field '", key, "' must be a number");
    return v.get<double>();
  }
  double number(const char* key, double dflt) const {
    const json* v = find(key);
    return v ? number(*v, key) : dflt;
  }
};

std::vector<int32_t> token_ids(const json* v, const std::string& where, const char* key) {
  std::vector<int32_t> ids;
  if (!v) return ids;
  if (v->is_number_integer()) {
    ids.push_back(v->get<int32_t>());
  } else if (v->is_array()) {
    for (auto& x : *v) {
      if (!x.is_number_integer()) fail(where, ": field '", key, "' must hold integers");
      ids.push_back(x.get<int32_t>());
    }
  } else {
    fail(where, ": field '", key, "' must be an integer or a list of integers");
  }
  return ids;
}

void parse_rope(const Reader& r, ModelConfig& c) {
  // New spelling: rope_parameters {rope_type, rope_theta, partial_rotary_factor, factor, ...}.
  // Old spelling: rope_theta, partial_rotary_factor at the top, rope_scaling {type|rope_type, factor, ...}.
  const json* params = r.find("rope_parameters");
  const json* scaling = r.find("rope_scaling");
  if (params && !params->is_object()) fail(r.where, ": field 'rope_parameters' must be an object");
  if (scaling && !scaling->is_object()) fail(r.where, ": field 'rope_scaling' must be an object");
  auto get = [&](const char* key) -> const json* {
    for (const json* obj : {params, scaling}) {
      if (obj && obj->contains(key) && !(*obj)[key].is_null()) return &(*obj)[key];
    }
    return r.find(key);
  };
  const json* theta = get("rope_theta");
  if (!theta) fail(r.where, ": required field 'rope_theta' (or rope_parameters.rope_theta) is missing");
  c.rope.theta = r.number(*theta, "rope_theta");
  double partial = 0.25;  // the transformers default for this model family
  if (const json* p = get("partial_rotary_factor")) partial = r.number(*p, "partial_rotary_factor");
  c.rope.rotary_dim = int(std::lround(c.head_dim * partial));

  std::string type = "default";
  if (const json* t = get("rope_type")) type = t->is_string() ? t->get<std::string>() : "";
  else if (const json* t2 = get("type")) type = t2->is_string() ? t2->get<std::string>() : "";
  if (type == "mrope") type = "default";  // multimodal sections only matter for images
  if (type != "default" && type != "yarn") fail(r.where, ": unsupported rope type '", type, "' (supported: default, yarn)");
  c.rope.type = type;
  if (type == "yarn") {
    const json* f = get("factor");
    if (!f) fail(r.where, ": yarn rope scaling needs 'factor'");
    c.rope.yarn_factor = r.number(*f, "factor");
    const json* orig = get("original_max_position_embeddings");
    c.rope.yarn_original_max_positions = orig && orig->is_number_integer() ? orig->get<int64_t>() : c.max_positions;
    if (const json* b = get("beta_fast")) c.rope.yarn_beta_fast = r.number(*b, "beta_fast");
    if (const json* b = get("beta_slow")) c.rope.yarn_beta_slow = r.number(*b, "beta_slow");
  }
}

}  // namespace

ModelConfig parse_hf_config(const json& root, const std::string& path) {
  if (!root.is_object()) fail(path, ": config must be a JSON object");
  ModelConfig c;
  std::string model_type = root.value("model_type", "");
  if (root.contains("architectures")) {
    const json& a = root["architectures"];
    if (!a.is_array() || a.empty() || !a[0].is_string()) fail(path, ": field 'architectures' must be a list of names");
    c.architecture = a[0].get<std::string>();
    if (!kArchitectures.count(c.architecture))
      fail(path, ": unknown architecture '", c.architecture,
           "' (supported: Qwen3_5MoeForConditionalGeneration, Qwen3_5MoeForCausalLM)");
  } else if (!kModelTypes.count(model_type)) {
    fail(path, ": unknown model_type '", model_type, "' and no 'architectures' (supported: qwen3_5_moe)");
  } else {
    c.architecture = model_type;
  }

  const json* text = &root;
  if (root.contains("text_config")) {
    text = &root["text_config"];
    if (!text->is_object()) fail(path, ": field 'text_config' must be an object");
  }
  std::string where = text == &root ? path : path + " (text_config)";
  Reader r{*text, where};

  c.vocab_size = r.integer("vocab_size");
  c.hidden = r.integer("hidden_size");
  c.n_layers = int(r.integer("num_hidden_layers"));
  c.n_heads = int(r.integer("num_attention_heads"));
  c.n_kv_heads = int(r.integer("num_key_value_heads"));
  c.head_dim = int(r.integer("head_dim"));
  c.lin_k_heads = int(r.integer("linear_num_key_heads"));
  c.lin_v_heads = int(r.integer("linear_num_value_heads"));
  c.lin_k_dim = int(r.integer("linear_key_head_dim"));
  c.lin_v_dim = int(r.integer("linear_value_head_dim"));
  c.conv_kernel = int(r.integer("linear_conv_kernel_dim", 4));
  c.n_experts = int(r.integer("num_experts"));
  c.n_experts_used = int(r.integer("num_experts_per_tok"));
  c.expert_inter = r.integer("moe_intermediate_size");
  c.shared_inter = r.integer("shared_expert_intermediate_size");
  c.rms_eps = float(r.number("rms_norm_eps", 1e-6));
  c.max_positions = r.integer("max_position_embeddings", 262144);
  c.mtp_layers = int(r.integer("mtp_num_hidden_layers", 0));
  if (c.n_layers <= 0 || c.n_layers > 4096) fail(where, ": num_hidden_layers out of range");

  bool tie = root.value("tie_word_embeddings", false);
  if (const json* t = r.find("tie_word_embeddings"); t && t->is_boolean()) tie = t->get<bool>();
  c.tie_embeddings = tie;

  if (const json* lt = r.find("layer_types")) {
    if (!lt->is_array() || int(lt->size()) != c.n_layers)
      fail(where, ": field 'layer_types' must be a list of num_hidden_layers (", c.n_layers, ") names");
    for (auto& t : *lt) {
      std::string s = t.is_string() ? t.get<std::string>() : "";
      if (s == "linear_attention") c.layers.push_back(LayerKind::DeltaNet);
      else if (s == "full_attention" || s == "attention") c.layers.push_back(LayerKind::Attention);
      else fail(where, ": unknown layer type '", t.dump(), "' in 'layer_types'");
    }
  } else {
    int64_t interval = r.integer("full_attention_interval", 4);
    if (interval <= 0) fail(where, ": field 'full_attention_interval' must be positive");
    for (int i = 0; i < c.n_layers; ++i)
      c.layers.push_back((i + 1) % interval == 0 ? LayerKind::Attention : LayerKind::DeltaNet);
  }

  parse_rope(r, c);

  c.eos_ids = token_ids(r.find("eos_token_id"), where, "eos_token_id");
  if (c.eos_ids.empty()) c.eos_ids = token_ids(root.contains("eos_token_id") ? &root["eos_token_id"] : nullptr, path, "eos_token_id");
  auto single = [&](const char* key) {
    auto ids = token_ids(r.find(key), where, key);
    return ids.empty() ? -1 : ids[0];
  };
  c.bos_id = single("bos_token_id");
  c.pad_id = single("pad_token_id");

  validate_config(c, where);
  return c;
}

ModelConfig load_hf_config(const std::string& path) {
  std::ifstream f(path);
  if (!f) fail(path, ": cannot open");
  json j;
  try {
    j = json::parse(f);
  } catch (const json::parse_error& e) {
    fail(path, ": invalid JSON: ", e.what());
  }
  return parse_hf_config(j, path);
}

}  // namespace a3b
