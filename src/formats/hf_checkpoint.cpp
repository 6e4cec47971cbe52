#include "formats/hf_checkpoint.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"

namespace a3b {
namespace {

namespace fs = std::filesystem;

// All tensors of the checkpoint by name, from one or several files.
class TensorSet {
 public:
  TensorSet(const std::string& dir, std::vector<std::shared_ptr<const void>>& storage) : dir_(dir) {
    fs::path index = fs::path(dir) / "model.safetensors.index.json";
    std::vector<std::string> files;
    std::map<std::string, std::string> expected;  // tensor → file named by the index
    if (fs::exists(index)) {
      nlohmann::json j;
      std::ifstream f(index);
      try {
        j = nlohmann::json::parse(f);
      } catch (const nlohmann::json::parse_error& e) {
        fail(index.string(), ": invalid JSON: ", e.what());
      }
      if (!j.contains("weight_map") || !j["weight_map"].is_object()) fail(index.string(), ": no 'weight_map' object");
      for (auto& [name, file] : j["weight_map"].items()) {
        if (!file.is_string()) fail(index.string(), ": weight_map entry '", name, "' must name a file");
        std::string fname = file.get<std::string>();
        if (fname.find('/') != std::string::npos) fail(index.string(), ": weight_map file '", fname, "' must be in the folder");
        expected[name] = fname;
        if (std::find(files.begin(), files.end(), fname) == files.end()) files.push_back(fname);
      }
    } else if (fs::exists(fs::path(dir) / "model.safetensors")) {
      files.push_back("model.safetensors");
    } else {
      for (auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".safetensors") files.push_back(e.path().filename().string());
      std::sort(files.begin(), files.end());
      if (files.empty()) fail(dir, ": no model.safetensors, model.safetensors.index.json or *.safetensors file");
    }
    for (auto& name : files) {
      SafetensorsFile st((fs::path(dir) / name).string());
      storage.push_back(st.mapping());
      for (auto& [tname, info] : st.tensors()) {
        if (tensors_.count(tname)) fail(st.path(), ": tensor '", tname, "' also appears in ", tensors_[tname].file);
        tensors_[tname] = info;
      }
    }
    for (auto& [tname, fname] : expected)
      if (!tensors_.count(tname))
        fail(index.string(), ": tensor '", tname, "' is listed in ", fname, " but that file does not contain it");
  }

  bool has(const std::string& name) const { return tensors_.count(name) > 0; }

  const TensorInfo& get(const std::string& name, std::initializer_list<int64_t> shape) const {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) fail(dir_, ": missing tensor '", name, "'");
    const TensorInfo& t = it->second;
    if (!std::equal(t.shape.begin(), t.shape.end(), shape.begin(), shape.end())) {
      TensorInfo want;
      want.shape.assign(shape);
      fail(t.file, ": tensor '", name, "' has shape ", t.shape_str(), ", expected ", want.shape_str());
    }
    if (!t.dtype) fail(t.file, ": tensor '", name, "' has unsupported dtype ", t.dtype_name, " (supported: F32, F16, BF16)");
    return t;
  }

  Matrix matrix(const std::string& name, int64_t rows, int64_t cols) const {
    const TensorInfo& t = get(name, {rows, cols});
    return Matrix{*t.dtype, rows, cols, t.data};
  }

  std::vector<float> floats(const std::string& name, std::initializer_list<int64_t> shape) const {
    const TensorInfo& t = get(name, shape);
    std::vector<float> v(size_t(t.numel()));
    to_f32(*t.dtype, t.data, v.data(), v.size());
    return v;
  }

  // Zero-centred RMSNorm weight: the model multiplies by (1 + w).
  std::vector<float> norm_1p(const std::string& name, int64_t n) const {
    auto v = floats(name, {n});
    for (float& x : v) x += 1.0f;
    return v;
  }

 private:
  std::string dir_;
  std::map<std::string, TensorInfo> tensors_;
};

// Experts come fused ([E, 2I, H] gate rows first, [E, H, I], no ".weight") or one tensor each.
std::vector<ExpertWeights> load_experts(const TensorSet& ts, const std::string& p, const ModelConfig& c) {
  const int64_t E = c.n_experts, I = c.expert_inter, H = c.hidden;
  std::vector<ExpertWeights> experts(static_cast<size_t>(E));
  if (ts.has(p + "gate_up_proj")) {
    const TensorInfo& gu = ts.get(p + "gate_up_proj", {E, 2 * I, H});
    const TensorInfo& dn = ts.get(p + "down_proj", {E, H, I});
    const size_t es = dtype_size(*gu.dtype), ds = dtype_size(*dn.dtype);
    for (int64_t e = 0; e < E; ++e) {
      const uint8_t* g = gu.data + size_t(e * 2 * I * H) * es;
      experts[e].gate = Matrix{*gu.dtype, I, H, g};
      experts[e].up = Matrix{*gu.dtype, I, H, g + size_t(I * H) * es};
      experts[e].down = Matrix{*dn.dtype, H, I, dn.data + size_t(e * H * I) * ds};
    }
  } else {
    for (int64_t e = 0; e < E; ++e) {
      std::string q = p + std::to_string(e) + ".";
      experts[e].gate = ts.matrix(q + "gate_proj.weight", I, H);
      experts[e].up = ts.matrix(q + "up_proj.weight", I, H);
      experts[e].down = ts.matrix(q + "down_proj.weight", H, I);
    }
  }
  return experts;
}

MoeWeights load_moe(const TensorSet& ts, const std::string& p, const ModelConfig& c) {
  const int64_t H = c.hidden, Is = c.shared_inter;
  MoeWeights m;
  m.router = ts.matrix(p + "gate.weight", c.n_experts, H);
  m.experts = load_experts(ts, p + "experts.", c);
  if (Is > 0) {
    m.shared.gate = ts.matrix(p + "shared_expert.gate_proj.weight", Is, H);
    m.shared.up = ts.matrix(p + "shared_expert.up_proj.weight", Is, H);
    m.shared.down = ts.matrix(p + "shared_expert.down_proj.weight", H, Is);
    m.shared_gate = ts.matrix(p + "shared_expert_gate.weight", 1, H);
  }
  return m;
}

AttentionWeights load_attention(const TensorSet& ts, const std::string& p, const ModelConfig& c) {
  const int64_t H = c.hidden, D = c.head_dim;
  AttentionWeights a;
  a.q = ts.matrix(p + "q_proj.weight", 2 * c.n_heads * D, H);
  a.k = ts.matrix(p + "k_proj.weight", c.n_kv_heads * D, H);
  a.v = ts.matrix(p + "v_proj.weight", c.n_kv_heads * D, H);
  a.o = ts.matrix(p + "o_proj.weight", H, c.n_heads * D);
  a.q_norm = ts.norm_1p(p + "q_norm.weight", D);
  a.k_norm = ts.norm_1p(p + "k_norm.weight", D);
  return a;
}

DeltaNetWeights load_deltanet(const TensorSet& ts, const std::string& p, const ModelConfig& c) {
  const int64_t H = c.hidden, nv = c.lin_v_heads, C = c.conv_dim(), K = c.conv_kernel;
  DeltaNetWeights d;
  d.qkv = ts.matrix(p + "in_proj_qkv.weight", C, H);
  d.z = ts.matrix(p + "in_proj_z.weight", c.lin_value_dim(), H);
  d.b = ts.matrix(p + "in_proj_b.weight", nv, H);
  d.a = ts.matrix(p + "in_proj_a.weight", nv, H);
  d.out = ts.matrix(p + "out_proj.weight", H, c.lin_value_dim());
  d.conv = ts.floats(p + "conv1d.weight", {C, 1, K});
  d.A = ts.floats(p + "A_log", {nv});
  for (float& a : d.A) a = -std::exp(a);
  d.dt_bias = ts.floats(p + "dt_bias", {nv});
  d.norm = ts.floats(p + "norm.weight", {c.lin_v_dim});
  return d;
}

}  // namespace

ModelWeights load_hf_checkpoint(const std::string& dir) {
  if (!fs::is_directory(dir)) fail(dir, ": not a model folder");
  ModelWeights w;
  w.config = load_hf_config((fs::path(dir) / "config.json").string());
  const ModelConfig& c = w.config;
  TensorSet ts(dir, w.storage);

  // Multimodal checkpoints keep the text tower under model.language_model.; text-only ones under model.
  std::string base = ts.has("model.language_model.embed_tokens.weight") ? "model.language_model." : "model.";
  w.embed = ts.matrix(base + "embed_tokens.weight", c.vocab_size, c.hidden);
  if (ts.has("lm_head.weight")) w.lm_head = ts.matrix("lm_head.weight", c.vocab_size, c.hidden);
  else if (c.tie_embeddings) w.lm_head = w.embed;
  else fail(dir, ": missing tensor 'lm_head.weight' (and tie_word_embeddings is false)");
  w.final_norm = ts.norm_1p(base + "norm.weight", c.hidden);

  for (int l = 0; l < c.n_layers; ++l) {
    std::string p = base + "layers." + std::to_string(l) + ".";
    LayerWeights L;
    L.kind = c.layers[l];
    L.input_norm = ts.norm_1p(p + "input_layernorm.weight", c.hidden);
    L.post_norm = ts.norm_1p(p + "post_attention_layernorm.weight", c.hidden);
    if (L.kind == LayerKind::Attention) L.attn = load_attention(ts, p + "self_attn.", c);
    else L.deltanet = load_deltanet(ts, p + "linear_attn.", c);
    L.moe = load_moe(ts, p + "mlp.", c);
    w.layers.push_back(std::move(L));
  }
  return w;
}

}  // namespace a3b
