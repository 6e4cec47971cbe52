#include "formats/gguf_quantize.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/quant.h"
#include "core/threads.h"
#include "engine/generation_config.h"
#include "formats/gguf.h"
#include "formats/gguf_model.h"
#include "formats/model_file.h"
#include "tokenizer/load_hf.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"

namespace a3b {
namespace {

namespace fs = std::filesystem;

enum class Mix { F32, F16, BF16, Q8_0, Q4_K_M };

Mix parse_mix(const std::string& s) {
  if (s == "F32") return Mix::F32;
  if (s == "F16") return Mix::F16;
  if (s == "BF16") return Mix::BF16;
  if (s == "Q8_0") return Mix::Q8_0;
  if (s == "Q4_K_M") return Mix::Q4_K_M;
  fail("quantize: unknown type '", s, "' (supported: F32, F16, BF16, Q8_0, Q4_K_M)");
}

uint32_t file_type_of(Mix m) {  // llama_ftype
  switch (m) {
    case Mix::F32: return 0;
    case Mix::F16: return 1;
    case Mix::Q8_0: return 7;
    case Mix::Q4_K_M: return 15;
    case Mix::BF16: return 32;
  }
  return 0;
}

// llama.cpp's use_more_bits: the first and last eighth of the layers, and every third between.
bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

enum class Role { Plain, Output, AttnV, AttnQkv, FfnDown };

DType matrix_type(Mix mix, Role role, int layer, int n_layers, int64_t cols) {
  DType want;
  switch (mix) {
    case Mix::F32: return DType::F32;
    case Mix::F16: return DType::F16;
    case Mix::BF16: return DType::BF16;
    case Mix::Q8_0: want = DType::Q8_0; break;
    case Mix::Q4_K_M:
      want = DType::Q4_K;
      if (role == Role::Output) want = DType::Q6_K;
      if (role == Role::AttnQkv) want = DType::Q5_K;
      if ((role == Role::AttnV || role == Role::FfnDown) && use_more_bits(layer, n_layers)) want = DType::Q6_K;
      break;
  }
  if (cols % dtype_block_elems(want) == 0) return want;
  if (cols % 32 == 0) return DType::Q8_0;
  return DType::F32;
}

// Grouped (HF) -> tiled (llama.cpp) order of the linear-attention value heads, in units of `unit`
// consecutive elements: grouped head k*r + j goes to tiled position j*nk + k.
std::vector<float> tile_heads(const float* src, int nk, int nv, size_t unit) {
  const int r = nv / nk;
  std::vector<float> out(size_t(nv) * unit);
  for (int k = 0; k < nk; ++k)
    for (int j = 0; j < r; ++j)
      std::copy_n(src + size_t(k * r + j) * unit, unit, out.begin() + std::ptrdiff_t(size_t(j * nk + k) * unit));
  return out;
}

std::vector<float> to_floats(const Matrix& m) {
  std::vector<float> v(size_t(m.rows * m.cols));
  for (int64_t r = 0; r < m.rows; ++r) to_f32(m.dtype, m.row(r), &v[size_t(r * m.cols)], size_t(m.cols));
  return v;
}

class Encoder {
 public:
  Encoder(GgufWriter& w, Mix mix, int n_layers, int threads) : w_(w), mix_(mix), n_layers_(n_layers), pool_(threads) {}

  // rows x cols floats (a 3-D stack: `stack` matrices of rows x cols), produced on demand.
  void matrix(const std::string& name, Role role, int layer, int64_t rows, int64_t cols, int64_t stack,
              std::function<std::vector<float>()> floats) {
    const DType t = matrix_type(mix_, role, layer, n_layers_, cols);
    std::vector<int64_t> ne = {cols, rows};
    if (stack > 1) ne.push_back(stack);
    w_.add_tensor(name, t, ne, [this, t, rows, cols, stack, floats = std::move(floats)] {
      const std::vector<float> f = floats();
      const int64_t n_rows = rows * stack;
      std::string bytes(dtype_row_bytes(t, cols) * size_t(n_rows), '\0');
      pool_.for_range(n_rows, 16, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r)
          quantize(t, &f[size_t(r * cols)], &bytes[dtype_row_bytes(t, cols) * size_t(r)], cols);
      });
      return bytes;
    });
  }

  // A stored matrix, possibly a transformed copy.
  void matrix(const std::string& name, Role role, int layer, const Matrix& m) {
    matrix(name, role, layer, m.rows, m.cols, 1, [m] { return to_floats(m); });
  }

  void vector(const std::string& name, std::vector<int64_t> ne, std::vector<float> v) {
    w_.add_tensor(name, DType::F32, std::move(ne), [v = std::move(v)] {
      return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
    });
  }

 private:
  GgufWriter& w_;
  Mix mix_;
  int n_layers_;
  ThreadPool pool_;
};

void add_tensors(Encoder& enc, const ModelWeights& w) {
  const ModelConfig& c = w.config;
  const int64_t H = c.hidden;
  enc.matrix("token_embd.weight", Role::Plain, 0, w.embed);
  enc.vector("output_norm.weight", {H}, w.final_norm);
  if (!c.tie_embeddings) enc.matrix("output.weight", Role::Output, 0, w.lm_head);
  for (int l = 0; l < c.n_layers; ++l) {
    const LayerWeights& L = w.layers[size_t(l)];
    const std::string p = "blk." + std::to_string(l) + ".";
    enc.vector(p + "attn_norm.weight", {H}, L.input_norm);
    enc.vector(p + "post_attention_norm.weight", {H}, L.post_norm);
    if (L.kind == LayerKind::Attention) {
      const AttentionWeights& a = L.attn;
      enc.matrix(p + "attn_q.weight", Role::Plain, l, a.q);
      enc.matrix(p + "attn_k.weight", Role::Plain, l, a.k);
      enc.matrix(p + "attn_v.weight", Role::AttnV, l, a.v);
      enc.matrix(p + "attn_output.weight", Role::Plain, l, a.o);
      enc.vector(p + "attn_q_norm.weight", {c.head_dim}, a.q_norm);
      enc.vector(p + "attn_k_norm.weight", {c.head_dim}, a.k_norm);
    } else {
      const DeltaNetWeights& d = L.deltanet;
      const int nk = c.lin_k_heads, nv = c.lin_v_heads;
      const size_t dv = size_t(c.lin_v_dim), key2 = size_t(2 * c.lin_key_dim());
      const bool tile = !d.v_heads_tiled;
      auto tiled_rows = [=](const Matrix& m, size_t first_row, size_t unit_rows) {
        return [=] {
          std::vector<float> f = to_floats(m);
          if (!tile) return f;
          const size_t cols = size_t(m.cols);
          std::vector<float> t = tile_heads(&f[first_row * cols], nk, nv, unit_rows * cols);
          std::copy(t.begin(), t.end(), f.begin() + std::ptrdiff_t(first_row * cols));
          return f;
        };
      };
      enc.matrix(p + "attn_qkv.weight", Role::AttnQkv, l, d.qkv.rows, d.qkv.cols, 1, tiled_rows(d.qkv, key2, dv));
      enc.matrix(p + "attn_gate.weight", Role::Plain, l, d.z.rows, d.z.cols, 1, tiled_rows(d.z, 0, dv));
      enc.vector(p + "ssm_beta.weight", {H, nv}, tiled_rows(d.b, 0, 1)());
      enc.vector(p + "ssm_alpha.weight", {H, nv}, tiled_rows(d.a, 0, 1)());
      enc.matrix(p + "ssm_out.weight", Role::Plain, l, d.out.rows, d.out.cols, 1, [=, m = d.out] {
        std::vector<float> f = to_floats(m);
        if (!tile) return f;
        for (int64_t r = 0; r < m.rows; ++r) {
          std::vector<float> t = tile_heads(&f[size_t(r * m.cols)], nk, nv, dv);
          std::copy(t.begin(), t.end(), f.begin() + r * m.cols);
        }
        return f;
      });
      std::vector<float> conv = d.conv, A = d.A, dt = d.dt_bias;
      if (tile) {
        const size_t K = size_t(c.conv_kernel);
        std::vector<float> v = tile_heads(&conv[key2 * K], nk, nv, dv * K);
        std::copy(v.begin(), v.end(), conv.begin() + std::ptrdiff_t(key2 * K));
        A = tile_heads(A.data(), nk, nv, 1);
        dt = tile_heads(dt.data(), nk, nv, 1);
      }
      enc.vector(p + "ssm_conv1d.weight", {c.conv_kernel, c.conv_dim()}, std::move(conv));
      enc.vector(p + "ssm_a", {nv}, std::move(A));
      enc.vector(p + "ssm_dt.bias", {nv}, std::move(dt));
      enc.vector(p + "ssm_norm.weight", {c.lin_v_dim}, d.norm);
    }
    const MoeWeights& m = L.moe;
    enc.vector(p + "ffn_gate_inp.weight", {H, c.n_experts}, to_floats(m.router));
    const int64_t E = c.n_experts, I = c.expert_inter;
    auto stack = [&m](Matrix ExpertWeights::*which) {
      return [&m, which] {
        std::vector<float> all;
        for (const ExpertWeights& e : m.experts) {
          std::vector<float> f = to_floats(e.*which);
          all.insert(all.end(), f.begin(), f.end());
        }
        return all;
      };
    };
    enc.matrix(p + "ffn_gate_exps.weight", Role::Plain, l, I, H, E, stack(&ExpertWeights::gate));
    enc.matrix(p + "ffn_up_exps.weight", Role::Plain, l, I, H, E, stack(&ExpertWeights::up));
    enc.matrix(p + "ffn_down_exps.weight", Role::FfnDown, l, H, I, E, stack(&ExpertWeights::down));
    if (c.shared_inter > 0) {
      enc.vector(p + "ffn_gate_inp_shexp.weight", {H}, to_floats(m.shared_gate));
      enc.matrix(p + "ffn_gate_shexp.weight", Role::Plain, l, m.shared.gate);
      enc.matrix(p + "ffn_up_shexp.weight", Role::Plain, l, m.shared.up);
      enc.matrix(p + "ffn_down_shexp.weight", Role::FfnDown, l, m.shared.down);
    }
  }
}

std::vector<int> mrope_sections(const std::string& hf_dir) {
  std::vector<int> s = {11, 11, 10, 0};
  std::ifstream f(fs::path(hf_dir) / "config.json");
  nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
  if (j.is_discarded()) return s;
  const nlohmann::json& t = j.contains("text_config") ? j["text_config"] : j;
  for (const char* key : {"rope_parameters", "rope_scaling"})
    if (t.contains(key) && t[key].is_object() && t[key].contains("mrope_section") && t[key]["mrope_section"].is_array()) {
      s.clear();
      for (const auto& v : t[key]["mrope_section"]) s.push_back(v.is_number_integer() ? v.get<int>() : 0);
      while (s.size() < 4) s.push_back(0);
      s.resize(4);
    }
  return s;
}

void add_config(GgufWriter& w, const ModelConfig& c, const std::vector<int>& sections) {
  const std::string a = "qwen35moe.";
  auto u32 = [&](const std::string& k, int64_t v) { w.set(a + k, GgufValue::u32(uint32_t(v))); };
  w.set("general.architecture", GgufValue::string("qwen35moe"));
  u32("block_count", c.n_layers);
  u32("context_length", c.max_positions);
  u32("embedding_length", c.hidden);
  u32("attention.head_count", c.n_heads);
  u32("attention.head_count_kv", c.n_kv_heads);
  u32("attention.key_length", c.head_dim);
  u32("attention.value_length", c.head_dim);
  w.set(a + "attention.layer_norm_rms_epsilon", GgufValue::f32(c.rms_eps));
  w.set(a + "rope.freq_base", GgufValue::f32(float(c.rope.theta)));
  u32("rope.dimension_count", c.rope.rotary_dim);
  w.set(a + "rope.dimension_sections", GgufValue::i32s({sections[0], sections[1], sections[2], sections[3]}));
  if (c.rope.type == "yarn") {
    w.set(a + "rope.scaling.type", GgufValue::string("yarn"));
    w.set(a + "rope.scaling.factor", GgufValue::f32(float(c.rope.yarn_factor)));
    u32("rope.scaling.original_context_length", c.rope.yarn_original_max_positions);
  }
  u32("expert_count", c.n_experts);
  u32("expert_used_count", c.n_experts_used);
  u32("expert_feed_forward_length", c.expert_inter);
  u32("expert_shared_feed_forward_length", c.shared_inter);
  u32("ssm.conv_kernel", c.conv_kernel);
  u32("ssm.state_size", c.lin_k_dim);
  u32("ssm.group_count", c.lin_k_heads);
  u32("ssm.time_step_rank", c.lin_v_heads);
  u32("ssm.inner_size", c.lin_value_dim());
  int interval = 0;
  for (int n = 1; n <= c.n_layers && !interval; ++n) {
    bool fits = true;
    for (int i = 0; i < c.n_layers; ++i)
      fits &= (c.layers[size_t(i)] == LayerKind::DeltaNet) == ((i + 1) % n != 0);
    if (fits) interval = n;
  }
  if (interval) {
    u32("full_attention_interval", interval);
  } else {
    std::vector<GgufValue> flags;
    for (LayerKind k : c.layers) flags.push_back(GgufValue::boolean(k == LayerKind::DeltaNet));
    w.set(a + "attention.recurrent_layers", GgufValue::array(GgufValueType::Bool, std::move(flags)));
  }
}

// tokenizer.ggml.* from an HF tokenizer (vocabulary padded to the embedding rows, as llama.cpp's
// converter does: holes become "[PAD<id>]" of type unused).
void add_hf_tokenizer(GgufWriter& w, const std::string& dir, const ModelConfig& c) {
  TokenizerSpec spec = load_hf_tokenizer(dir);
  const Tokenizer tok = Tokenizer::from_spec(spec);
  std::string pre;
  if (tok.pre_tokenizer_regex() == kQwen35Regex) pre = "qwen35";
  else if (tok.pre_tokenizer_regex() == kQwen2Regex) pre = "qwen2";
  else fail(dir, ": the tokenizer's pre-tokenizer is neither Qwen2's nor Qwen3.5's; GGUF cannot name it");
  const int64_t n = std::max<int64_t>(c.vocab_size, tok.vocab_size());
  std::vector<std::string> tokens(static_cast<size_t>(n));
  std::vector<int32_t> types(static_cast<size_t>(n), 1);
  for (int64_t id = 0; id < n; ++id) {
    if (id < int64_t(spec.tokens.size()) && !spec.tokens[size_t(id)].empty()) tokens[size_t(id)] = spec.tokens[size_t(id)];
    else {
      tokens[size_t(id)] = "[PAD" + std::to_string(id) + "]";
      types[size_t(id)] = 5;
    }
  }
  for (const AddedToken& t : tok.added_tokens()) {
    if (t.id < 0 || t.id >= n) continue;
    tokens[size_t(t.id)] = t.content;
    types[size_t(t.id)] = t.special ? 3 : 4;
  }
  std::vector<std::string> merges;
  merges.reserve(spec.merges.size());
  for (const auto& m : spec.merges) merges.push_back(m[0] + " " + m[1]);
  w.set("tokenizer.ggml.model", GgufValue::string("gpt2"));
  w.set("tokenizer.ggml.pre", GgufValue::string(pre));
  w.set("tokenizer.ggml.tokens", GgufValue::strings(tokens));
  w.set("tokenizer.ggml.token_type", GgufValue::i32s(types));
  w.set("tokenizer.ggml.merges", GgufValue::strings(merges));
  std::optional<int32_t> eos = tok.eos_id();
  if (!eos && !c.eos_ids.empty()) eos = c.eos_ids.front();
  if (eos) w.set("tokenizer.ggml.eos_token_id", GgufValue::u32(uint32_t(*eos)));
  if (auto id = tok.bos_id()) w.set("tokenizer.ggml.bos_token_id", GgufValue::u32(uint32_t(*id)));
  if (auto id = tok.pad_id()) w.set("tokenizer.ggml.padding_token_id", GgufValue::u32(uint32_t(*id)));
  w.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(false));
  if (auto t = tok.chat_template()) w.set("tokenizer.chat_template", GgufValue::string(*t));
  const GenerationDefaults g = load_generation_defaults(dir);
  w.set("general.sampling.temp", GgufValue::f32(g.sampling.temperature));
  w.set("general.sampling.top_p", GgufValue::f32(g.sampling.top_p));
  if (g.sampling.top_k > 0) w.set("general.sampling.top_k", GgufValue::i32(g.sampling.top_k));
}

}  // namespace

void quantize_model(const std::string& input, const std::string& output, const QuantizeOptions& options) {
  const Mix mix = parse_mix(options.type);
  if (fs::exists(output) && fs::equivalent(input, output)) fail(output, ": output would overwrite the input");
  const ModelWeights weights = load_model_weights(input);
  const ModelConfig& c = weights.config;
  GgufWriter w;
  if (is_gguf_path(input)) {
    // Keep the source's metadata (tokenizer, template, provenance) but not what described its
    // tensors or split; the MTP block is not carried over.
    GgufFile src(gguf_shard_paths(input).front());
    for (const std::string& k : src.keys())
      if (k.rfind("split.", 0) != 0 && k.rfind("quantize.", 0) != 0 && k != "general.file_type" &&
          k != "qwen35moe.nextn_predict_layers" && k != "general.alignment")
        w.set(k, *src.find(k));
    w.set("qwen35moe.block_count", GgufValue::u32(uint32_t(c.n_layers)));
  } else {
    w.set("general.architecture", GgufValue::string("qwen35moe"));
    w.set("general.type", GgufValue::string("model"));
    w.set("general.name", GgufValue::string(fs::path(input).filename().string()));
    add_config(w, c, mrope_sections(input));
    if (Tokenizer::exists_at(input) && (fs::exists(fs::path(input) / "tokenizer.json") || fs::exists(fs::path(input) / "vocab.json")))
      add_hf_tokenizer(w, input, c);
  }
  w.set("general.quantization_version", GgufValue::u32(2));
  w.set("general.file_type", GgufValue::u32(file_type_of(mix)));
  Encoder enc(w, mix, c.n_layers, options.threads);
  add_tensors(enc, weights);
  const std::string tmp = output + ".part";
  try {
    w.write(tmp, options.progress);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  fs::rename(tmp, output);
}

}  // namespace a3b
