#include "formats/gguf_model.h"

#include <algorithm>
#include <filesystem>
#include <regex>

#include "core/error.h"

namespace a3b {
namespace {

namespace fs = std::filesystem;

const std::string kArch = "qwen35moe";

// Typed, shape-checked views of the model's tensors.
class TensorViews {
 public:
  explicit TensorViews(const GgufModelFiles& files) : files_(files) {}

  bool has(const std::string& name) const { return files_.find(name) != nullptr; }
  const GgufTensor* find(const std::string& name) const { return files_.find(name); }

  const GgufTensor& get(const std::string& name, std::initializer_list<int64_t> ne) const {
    const GgufTensor* t = files_.find(name);
    if (!t) fail(files_.metadata().path(), ": missing tensor '", name, "'");
    if (!std::equal(t->ne.begin(), t->ne.end(), ne.begin(), ne.end())) {
      GgufTensor want;
      want.ne.assign(ne);
      fail(files_.file_of(*t), ": tensor '", name, "' has shape ", t->shape_str(), ", expected ", want.shape_str(),
           " (ggml order, innermost first)");
    }
    return *t;
  }

  DType dtype_of(const GgufTensor& t) const {
    const GgmlTypeInfo* info = ggml_type_info(t.ggml_type);
    if (!info || !info->dtype)
      fail(files_.file_of(t), ": tensor '", t.name, "' has type ", t.type_name(),
           ", which a3b cannot compute with (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS, "
           "IQ3_XXS, IQ3_S, IQ2_XXS, MXFP4)");
    return *info->dtype;
  }

  // A 2-D tensor {cols, rows} as a [rows, cols] matrix.
  Matrix matrix(const std::string& name, int64_t rows, int64_t cols) const {
    const GgufTensor& t = get(name, {cols, rows});
    return Matrix{dtype_of(t), rows, cols, t.data};
  }

  // Slice e of a 3-D tensor {cols, rows, n}.
  Matrix slice(const GgufTensor& t, int64_t e, int64_t rows, int64_t cols) const {
    const DType d = dtype_of(t);
    return Matrix{d, rows, cols, t.data + size_t(e) * size_t(rows) * dtype_row_bytes(d, cols)};
  }

  std::vector<float> floats(const std::string& name, std::initializer_list<int64_t> ne) const {
    const GgufTensor& t = get(name, ne);
    std::vector<float> v(size_t(t.n_elements()));
    to_f32(dtype_of(t), t.data, v.data(), v.size());
    return v;
  }

 private:
  const GgufModelFiles& files_;
};

std::vector<ExpertWeights> load_experts(const TensorViews& tv, const std::string& p, const ModelConfig& c) {
  const int64_t E = c.n_experts, I = c.expert_inter, H = c.hidden;
  std::vector<ExpertWeights> experts(static_cast<size_t>(E));
  const GgufTensor& down = tv.get(p + "ffn_down_exps.weight", {I, H, E});
  if (tv.has(p + "ffn_gate_up_exps.weight")) {  // fused: gate rows, then up rows, per expert
    const GgufTensor& gu = tv.get(p + "ffn_gate_up_exps.weight", {H, 2 * I, E});
    for (int64_t e = 0; e < E; ++e) {
      Matrix both = tv.slice(gu, e, 2 * I, H);
      experts[size_t(e)].gate = Matrix{both.dtype, I, H, both.data};
      experts[size_t(e)].up = Matrix{both.dtype, I, H, both.row(I)};
    }
  } else {
    const GgufTensor& gate = tv.get(p + "ffn_gate_exps.weight", {H, I, E});
    const GgufTensor& up = tv.get(p + "ffn_up_exps.weight", {H, I, E});
    for (int64_t e = 0; e < E; ++e) {
      experts[size_t(e)].gate = tv.slice(gate, e, I, H);
      experts[size_t(e)].up = tv.slice(up, e, I, H);
    }
  }
  for (int64_t e = 0; e < E; ++e) experts[size_t(e)].down = tv.slice(down, e, H, I);
  return experts;
}

MoeWeights load_moe(const TensorViews& tv, const std::string& p, const ModelConfig& c) {
  const int64_t H = c.hidden, Is = c.shared_inter;
  MoeWeights m;
  m.router = tv.matrix(p + "ffn_gate_inp.weight", c.n_experts, H);
  m.experts = load_experts(tv, p, c);
  if (Is > 0) {
    m.shared.gate = tv.matrix(p + "ffn_gate_shexp.weight", Is, H);
    m.shared.up = tv.matrix(p + "ffn_up_shexp.weight", Is, H);
    m.shared.down = tv.matrix(p + "ffn_down_shexp.weight", H, Is);
    const std::string g = p + "ffn_gate_inp_shexp.weight";
    const GgufTensor* found = tv.find(g);
    const GgufTensor& t = found && found->ne.size() == 2 ? tv.get(g, {H, 1}) : tv.get(g, {H});
    m.shared_gate = Matrix{tv.dtype_of(t), 1, H, t.data};
  }
  return m;
}

AttentionWeights load_attention(const TensorViews& tv, const std::string& p, const ModelConfig& c) {
  const int64_t H = c.hidden, D = c.head_dim;
  if (tv.has(p + "attn_qkv.weight") && !tv.has(p + "attn_q.weight"))
    fail("GGUF: fused attn_qkv in full-attention layer '", p, "' is not supported (expected attn_q/attn_k/attn_v)");
  AttentionWeights a;
  a.q = tv.matrix(p + "attn_q.weight", 2 * c.n_heads * D, H);
  a.k = tv.matrix(p + "attn_k.weight", c.n_kv_heads * D, H);
  a.v = tv.matrix(p + "attn_v.weight", c.n_kv_heads * D, H);
  a.o = tv.matrix(p + "attn_output.weight", H, c.n_heads * D);
  a.q_norm = tv.floats(p + "attn_q_norm.weight", {D});
  a.k_norm = tv.floats(p + "attn_k_norm.weight", {D});
  return a;
}

DeltaNetWeights load_deltanet(const TensorViews& tv, const std::string& p, const ModelConfig& c) {
  const int64_t H = c.hidden, nv = c.lin_v_heads, C = c.conv_dim(), K = c.conv_kernel;
  DeltaNetWeights d;
  d.qkv = tv.matrix(p + "attn_qkv.weight", C, H);
  d.z = tv.matrix(p + "attn_gate.weight", c.lin_value_dim(), H);
  d.b = tv.matrix(p + "ssm_beta.weight", nv, H);
  d.a = tv.matrix(p + "ssm_alpha.weight", nv, H);
  d.out = tv.matrix(p + "ssm_out.weight", H, c.lin_value_dim());
  d.conv = tv.floats(p + "ssm_conv1d.weight", {K, C});
  d.A = tv.floats(p + "ssm_a", {nv});
  d.dt_bias = tv.floats(p + "ssm_dt.bias", {nv});
  d.norm = tv.floats(p + "ssm_norm.weight", {c.lin_v_dim});
  d.v_heads_tiled = true;
  return d;
}

int to_int(int64_t v, const GgufFile& f, const std::string& key) {
  if (v < 0 || v > (int64_t(1) << 30)) fail(f.path(), ": metadata '", key, "' = ", v, " is out of range");
  return int(v);
}

}  // namespace

bool is_gguf_path(const std::string& path) {
  return path.size() > 5 && path.compare(path.size() - 5, 5, ".gguf") == 0;
}

std::vector<std::string> gguf_shard_paths(const std::string& path) {
  static const std::regex kSplit(R"(^(.*)-(\d{5})-of-(\d{5})\.gguf$)");
  std::smatch m;
  if (!std::regex_match(path, m, kSplit)) return {path};
  const int count = std::stoi(m[3].str());
  if (count < 1) fail(path, ": split count 0 in the file name");
  std::vector<std::string> paths;
  for (int i = 1; i <= count; ++i) {
    char part[32];
    std::snprintf(part, sizeof part, "-%05d-of-%05d.gguf", i, count);
    paths.push_back(m[1].str() + part);
    if (!fs::exists(paths.back())) fail(path, ": shard ", i, " of ", count, " (", paths.back(), ") is missing");
  }
  return paths;
}

GgufModelFiles::GgufModelFiles(const std::string& path) {
  for (const std::string& p : gguf_shard_paths(path)) files_.emplace_back(p);
  const GgufFile& first = files_.front();
  if (auto n = first.get_int("split.count"); n && *n != int64_t(files_.size()))
    fail(first.path(), ": split.count is ", *n, " but ", files_.size(), " shard file(s) were found");
  for (size_t i = 0; i < files_.size(); ++i) {
    if (auto no = files_[i].get_int("split.no"); no && *no != int64_t(i))
      fail(files_[i].path(), ": split.no is ", *no, ", expected ", i);
    for (const GgufTensor& t : files_[i].tensors()) {
      auto [it, fresh] = tensors_.emplace(t.name, std::make_pair(i, &t));
      if (!fresh) fail(files_[i].path(), ": tensor '", t.name, "' also appears in ", files_[it->second.first].path());
    }
  }
}

const GgufTensor* GgufModelFiles::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : it->second.second;
}

const std::string& GgufModelFiles::file_of(const GgufTensor& t) const {
  auto it = tensors_.find(t.name);
  return files_[it == tensors_.end() ? 0 : it->second.first].path();
}

ModelConfig gguf_model_config(const GgufFile& f, const GgufTensor* token_embd, bool has_output) {
  const std::string arch = f.require_string("general.architecture");
  if (arch != kArch) fail(f.path(), ": architecture '", arch, "' is not supported (a3b runs qwen35moe)");
  auto key = [&](const char* k) { return kArch + "." + k; };
  // Hyper-parameters far beyond any real model are refused before they size anything.
  auto limit_of = [](const std::string& k) -> int64_t {
    if (k == "block_count" || k == "nextn_predict_layers" || k == "full_attention_interval") return 4096;
    if (k == "context_length") return int64_t(1) << 30;
    if (k == "ssm.conv_kernel") return 64;
    return int64_t(1) << 24;
  };
  auto req = [&](const char* k) {
    const int v = to_int(f.require_int(key(k)), f, key(k));
    if (v > limit_of(k)) fail(f.path(), ": metadata '", key(k), "' = ", v, " is out of range (at most ", limit_of(k), ")");
    return v;
  };
  auto opt = [&](const char* k, int dflt) { return f.find(key(k)) ? req(k) : dflt; };
  ModelConfig c;
  c.architecture = "qwen35moe (GGUF)";
  if (!token_embd) fail(f.path(), ": missing tensor 'token_embd.weight'");
  if (token_embd->ne.size() != 2) fail(f.path(), ": tensor 'token_embd.weight' must be 2-D, is ", token_embd->shape_str());
  c.vocab_size = token_embd->ne[1];
  c.hidden = req("embedding_length");
  const int blocks = req("block_count");
  if (blocks < 1) fail(f.path(), ": ", key("block_count"), " must be at least 1");
  c.mtp_layers = opt("nextn_predict_layers", 0);
  if (c.mtp_layers >= blocks) fail(f.path(), ": nextn_predict_layers (", c.mtp_layers, ") must be less than block_count (", blocks, ")");
  c.n_layers = blocks - c.mtp_layers;
  if (const GgufValue* rec = f.find(key("attention.recurrent_layers"))) {
    std::vector<int64_t> flags;
    if (rec->type == GgufValueType::Array)
      for (const GgufValue& v : rec->items) flags.push_back(v.i);
    if (flags.size() < size_t(c.n_layers)) fail(f.path(), ": ", key("attention.recurrent_layers"), " must have block_count entries");
    for (int i = 0; i < c.n_layers; ++i) c.layers.push_back(flags[size_t(i)] ? LayerKind::DeltaNet : LayerKind::Attention);
  } else {
    const int interval = opt("full_attention_interval", 4);
    if (interval < 1) fail(f.path(), ": ", key("full_attention_interval"), " must be positive");
    for (int i = 0; i < c.n_layers; ++i) c.layers.push_back((i + 1) % interval != 0 ? LayerKind::DeltaNet : LayerKind::Attention);
  }
  c.rms_eps = float(f.require_float(key("attention.layer_norm_rms_epsilon")));
  c.tie_embeddings = !has_output;
  c.max_positions = opt("context_length", 262144);
  c.n_heads = req("attention.head_count");
  c.n_kv_heads = req("attention.head_count_kv");
  c.head_dim = req("attention.key_length");
  if (opt("attention.value_length", c.head_dim) != c.head_dim)
    fail(f.path(), ": attention.key_length and attention.value_length differ (not a qwen35moe layout)");
  c.rope.theta = f.get_float(key("rope.freq_base")).value_or(10000000.0);
  c.rope.rotary_dim = req("rope.dimension_count");
  if (auto type = f.get_string(key("rope.scaling.type")); type && *type != "none") {
    if (*type != "yarn") fail(f.path(), ": rope scaling '", *type, "' is not supported (none, yarn)");
    c.rope.type = "yarn";
    c.rope.yarn_factor = f.require_float(key("rope.scaling.factor"));
    c.rope.yarn_original_max_positions = f.get_int(key("rope.scaling.original_context_length")).value_or(c.max_positions);
  }
  c.lin_k_heads = req("ssm.group_count");
  c.lin_v_heads = req("ssm.time_step_rank");
  c.lin_k_dim = c.lin_v_dim = req("ssm.state_size");
  c.conv_kernel = req("ssm.conv_kernel");
  if (int64_t inner = opt("ssm.inner_size", int(c.lin_value_dim())); inner != c.lin_value_dim())
    fail(f.path(), ": ssm.inner_size (", inner, ") != ssm.time_step_rank x ssm.state_size (", c.lin_value_dim(), ")");
  c.n_experts = req("expert_count");
  c.n_experts_used = req("expert_used_count");
  c.expert_inter = req("expert_feed_forward_length");
  c.shared_inter = opt("expert_shared_feed_forward_length", 0);
  if (auto eos = f.get_int("tokenizer.ggml.eos_token_id")) c.eos_ids.push_back(int32_t(*eos));
  // As llama.cpp does, the Qwen end-of-generation tokens end generation too, whichever one the
  // file names as eos.
  if (const GgufValue* tokens = f.find("tokenizer.ggml.tokens"); tokens && tokens->type == GgufValueType::Array)
    for (size_t id = 0; id < tokens->items.size(); ++id) {
      const std::string& t = tokens->items[id].str;
      if ((t == "<|endoftext|>" || t == "<|im_end|>" || t == "<|fim_pad|>" || t == "<|repo_name|>" || t == "<|file_sep|>") &&
          std::find(c.eos_ids.begin(), c.eos_ids.end(), int32_t(id)) == c.eos_ids.end())
        c.eos_ids.push_back(int32_t(id));
    }
  if (auto bos = f.get_int("tokenizer.ggml.bos_token_id")) c.bos_id = int32_t(*bos);
  if (auto pad = f.get_int("tokenizer.ggml.padding_token_id")) c.pad_id = int32_t(*pad);
  validate_config(c, f.path());
  if (c.conv_kernel < 1 || c.conv_kernel > 64) fail(f.path(), ": ssm.conv_kernel must be 1..64");
  return c;
}

ModelWeights load_gguf_model(const std::string& path) {
  GgufModelFiles files(path);
  TensorViews tv(files);
  ModelWeights w;
  for (const GgufFile& f : files.files()) w.storage.push_back(f.mapping());
  w.config = gguf_model_config(files.metadata(), files.find("token_embd.weight"), tv.has("output.weight"));
  const ModelConfig& c = w.config;
  w.embed = tv.matrix("token_embd.weight", c.vocab_size, c.hidden);
  w.lm_head = c.tie_embeddings ? w.embed : tv.matrix("output.weight", c.vocab_size, c.hidden);
  w.final_norm = tv.floats("output_norm.weight", {c.hidden});
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    LayerWeights L;
    L.kind = c.layers[size_t(l)];
    L.input_norm = tv.floats(p + "attn_norm.weight", {c.hidden});
    L.post_norm = tv.floats(p + "post_attention_norm.weight", {c.hidden});
    if (L.kind == LayerKind::Attention) L.attn = load_attention(tv, p, c);
    else L.deltanet = load_deltanet(tv, p, c);
    L.moe = load_moe(tv, p, c);
    w.layers.push_back(std::move(L));
  }
  // Blocks n_layers.. are the MTP head (blk.N.nextn.*): not used by the trunk.
  return w;
}

GgufTokenizerData gguf_tokenizer_data(const GgufFile& f) {
  GgufTokenizerData g;
  g.source = f.path();
  const std::string model = f.require_string("tokenizer.ggml.model");
  if (model != "gpt2") fail(f.path(), ": tokenizer.ggml.model '", model, "' is not supported (gpt2 byte-level BPE)");
  auto tokens = f.get_strings("tokenizer.ggml.tokens");
  if (!tokens) fail(f.path(), ": missing required metadata 'tokenizer.ggml.tokens'");
  g.tokens = std::move(*tokens);
  if (auto types = f.get_ints("tokenizer.ggml.token_type"))
    for (int64_t t : *types) g.token_types.push_back(int32_t(t));
  if (auto merges = f.get_strings("tokenizer.ggml.merges")) g.merges = std::move(*merges);
  g.pre = f.get_string("tokenizer.ggml.pre").value_or("qwen35");
  auto id = [&](const char* k) -> std::optional<int32_t> {
    auto v = f.get_int(k);
    if (!v) return std::nullopt;
    if (*v < 0 || *v >= int64_t(g.tokens.size())) fail(f.path(), ": metadata '", k, "' = ", *v, " is not a token id");
    return int32_t(*v);
  };
  g.bos_id = id("tokenizer.ggml.bos_token_id");
  g.eos_id = id("tokenizer.ggml.eos_token_id");
  g.pad_id = id("tokenizer.ggml.padding_token_id");
  g.unk_id = id("tokenizer.ggml.unknown_token_id");
  g.chat_template = f.get_string("tokenizer.chat_template");
  return g;
}

TokenizerSpec load_gguf_tokenizer(const std::string& path) {
  GgufFile f(gguf_shard_paths(path).front());
  return spec_from_gguf(gguf_tokenizer_data(f));
}

GgufSamplingDefaults gguf_sampling_defaults(const GgufFile& f) {
  GgufSamplingDefaults d;
  if (auto v = f.get_float("general.sampling.temp")) d.temperature = float(*v);
  if (auto v = f.get_float("general.sampling.top_p")) d.top_p = float(*v);
  if (auto v = f.get_int("general.sampling.top_k")) d.top_k = int(*v);
  return d;
}

}  // namespace a3b
