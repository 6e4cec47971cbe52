// Checkpoint loading: the config spellings and tensor layouts real files use, and a clear error
// (naming the file and tensor or field) for every kind of bad input.
#include <cmath>

#include "cpu/cpu_model.h"
#include "formats/hf_checkpoint.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"
#include "model/rope.h"
#include "core/error.h"
#include "test_util.h"

namespace a3b {
namespace {

using nlohmann::json;
using test::TempDir;

// All tensors of a checkpoint folder, in a form that can be edited and written back.
std::vector<TensorToWrite> read_all(const std::string& dir) {
  std::vector<TensorToWrite> out;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".safetensors") continue;
    SafetensorsFile f(e.path().string());
    for (auto& [name, t] : f.tensors())
      out.push_back({name, t.dtype_name, t.shape, std::string(reinterpret_cast<const char*>(t.data), t.nbytes)});
  }
  return out;
}

// A copy of a fixture with its tensors in one model.safetensors and its config editable.
struct Checkpoint {
  TempDir dir;
  json config;
  std::vector<TensorToWrite> tensors;

  explicit Checkpoint(const std::string& fixture) {
    config = test::read_json(test::fixture(fixture) + "/config.json");
    tensors = read_all(test::fixture(fixture));
  }
  TensorToWrite* find(const std::string& name) {
    for (auto& t : tensors)
      if (t.name == name) return &t;
    return nullptr;
  }
  std::string save() {
    test::write_file(dir / "config.json", config.dump(2));
    write_safetensors(dir / "model.safetensors", tensors);
    return dir.path();
  }
};

std::string load_error(const std::string& dir) {
  try {
    load_hf_checkpoint(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::vector<float> first_logits(const std::string& dir) {
  CpuModel m(load_hf_checkpoint(dir), 2);
  auto g = test::load_golden(test::fixture("tiny-fused"));
  auto seq = m.new_sequence();
  std::vector<float> out(size_t(m.config().vocab_size));
  BatchItem item{seq.get(), std::span(g.prompt).first(20), false};
  m.forward({&item, 1}, out.data());
  return out;
}

const char* kLayer3K = "model.language_model.layers.3.self_attn.k_proj.weight";

TEST(Loader, BareTextCheckpointWithModelPrefix) {
  Checkpoint ck("tiny-fused");
  json text = ck.config["text_config"];
  text["architectures"] = {"Qwen3_5MoeForCausalLM"};
  ck.config = text;
  std::vector<TensorToWrite> kept;
  for (auto& t : ck.tensors) {
    if (t.name.rfind("model.visual.", 0) == 0) continue;
    if (t.name.rfind("model.language_model.", 0) == 0) t.name = "model." + t.name.substr(21);
    kept.push_back(t);
  }
  ck.tensors = kept;
  EXPECT_EQ(first_logits(ck.save()), first_logits(test::fixture("tiny-fused")));
}

TEST(Loader, FullAttentionIntervalAndOldRopeSpelling) {
  Checkpoint ck("tiny-fused");
  json& t = ck.config["text_config"];
  t.erase("layer_types");
  t["full_attention_interval"] = 4;
  double theta = t["rope_parameters"]["rope_theta"];
  double partial = t["rope_parameters"]["partial_rotary_factor"];
  t.erase("rope_parameters");
  t["rope_theta"] = theta;
  t["partial_rotary_factor"] = partial;
  EXPECT_EQ(first_logits(ck.save()), first_logits(test::fixture("tiny-fused")));
}

TEST(Loader, FusedAndPerExpertLayoutsAreTheSameModel) {
  // tiny-fused stores fused experts; write them per expert and expect identical logits.
  Checkpoint ck("tiny-fused");
  std::vector<TensorToWrite> out;
  for (auto& t : ck.tensors) {
    auto at = t.name.find("mlp.experts.");
    if (at == std::string::npos || t.name.find("shared") != std::string::npos) {
      out.push_back(t);
      continue;
    }
    std::string base = t.name.substr(0, at + 12);
    int64_t E = t.shape[0], R = t.shape[1], C = t.shape[2];
    size_t es = 2, mat = size_t(R * C) * es;
    for (int64_t e = 0; e < E; ++e) {
      std::string slice = t.bytes.substr(size_t(e) * mat, mat);
      std::string p = base + std::to_string(e) + ".";
      if (t.name.ends_with("gate_up_proj")) {
        out.push_back({p + "gate_proj.weight", t.dtype_name, {R / 2, C}, slice.substr(0, mat / 2)});
        out.push_back({p + "up_proj.weight", t.dtype_name, {R / 2, C}, slice.substr(mat / 2)});
      } else {
        out.push_back({p + "down_proj.weight", t.dtype_name, {R, C}, slice});
      }
    }
  }
  ck.tensors = out;
  EXPECT_EQ(first_logits(ck.save()), first_logits(test::fixture("tiny-fused")));
}

TEST(LoaderErrors, TruncatedSafetensors) {
  Checkpoint ck("tiny-fused");
  std::string dir = ck.save();
  std::string bytes = test::read_file(dir + "/model.safetensors");
  test::write_file(dir + "/model.safetensors", bytes.substr(0, bytes.size() / 2));
  std::string msg = load_error(dir);
  EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
  EXPECT_NE(msg.find("outside the file"), std::string::npos) << msg;
}

TEST(LoaderErrors, HeaderLengthBeyondFile) {
  Checkpoint ck("tiny-fused");
  std::string dir = ck.save();
  std::string bytes(8, '\0');
  uint64_t len = 1ull << 40;
  std::memcpy(bytes.data(), &len, 8);
  test::write_file(dir + "/model.safetensors", bytes + "{}");
  std::string msg = load_error(dir);
  EXPECT_NE(msg.find("header length 1099511627776 goes beyond the end of the file"), std::string::npos) << msg;
  test::write_file(dir + "/model.safetensors", "abc");
  EXPECT_NE(load_error(dir).find("truncated safetensors file"), std::string::npos);
}

TEST(LoaderErrors, CorruptHeaderJson) {
  Checkpoint ck("tiny-fused");
  std::string dir = ck.save();
  std::string body = "{\"a\": [1, 2";
  uint64_t len = body.size();
  std::string bytes(8, '\0');
  std::memcpy(bytes.data(), &len, 8);
  test::write_file(dir + "/model.safetensors", bytes + body);
  EXPECT_NE(load_error(dir).find("header is not valid JSON"), std::string::npos);
}

TEST(LoaderErrors, MissingTensor) {
  Checkpoint ck("tiny-fused");
  std::erase_if(ck.tensors, [](auto& t) { return t.name == kLayer3K; });
  std::string msg = load_error(ck.save());
  EXPECT_NE(msg.find(std::string("missing tensor '") + kLayer3K + "'"), std::string::npos) << msg;
}

TEST(LoaderErrors, WrongShape) {
  Checkpoint ck("tiny-fused");
  const std::string name = "model.language_model.layers.3.self_attn.q_proj.weight";
  TensorToWrite* t = ck.find(name);
  ASSERT_TRUE(t);
  t->shape = {t->shape[1], t->shape[0]};  // transposed: same bytes, wrong shape
  std::string msg = load_error(ck.save());
  EXPECT_NE(msg.find("tensor '" + name + "' has shape [64, 256], expected [256, 64]"), std::string::npos) << msg;
}

TEST(LoaderErrors, UnsupportedDtype) {
  Checkpoint ck("tiny-fused");
  TensorToWrite* t = ck.find(kLayer3K);
  t->dtype_name = "I16";  // same element size, a type without kernels
  std::string msg = load_error(ck.save());
  EXPECT_NE(msg.find(kLayer3K), std::string::npos) << msg;
  EXPECT_NE(msg.find("unsupported dtype I16"), std::string::npos) << msg;
  t->dtype_name = "Q9_X";
  msg = load_error(ck.save());
  EXPECT_NE(msg.find("unknown dtype 'Q9_X'"), std::string::npos) << msg;
}

TEST(LoaderErrors, DataSizeDisagreesWithShape) {
  Checkpoint ck("tiny-fused");
  TensorToWrite* t = ck.find(kLayer3K);
  t->bytes.resize(t->bytes.size() - 2);
  std::string msg = load_error(ck.save());
  EXPECT_NE(msg.find("does not match shape"), std::string::npos) << msg;
}

TEST(LoaderErrors, ConfigMissingField) {
  Checkpoint ck("tiny-fused");
  ck.config["text_config"].erase("hidden_size");
  std::string msg = load_error(ck.save());
  EXPECT_NE(msg.find("config.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("required field 'hidden_size' is missing"), std::string::npos) << msg;
}

TEST(LoaderErrors, ConfigFieldOfWrongType) {
  Checkpoint ck("tiny-fused");
  ck.config["text_config"]["num_experts"] = "sixteen";
  EXPECT_NE(load_error(ck.save()).find("field 'num_experts' must be an integer"), std::string::npos);
}

TEST(LoaderErrors, UnknownArchitecture) {
  Checkpoint ck("tiny-fused");
  ck.config["architectures"] = {"LlamaForCausalLM"};
  std::string msg = load_error(ck.save());
  EXPECT_NE(msg.find("unknown architecture 'LlamaForCausalLM'"), std::string::npos) << msg;
}

TEST(LoaderErrors, InvalidConfigJsonAndMissingFiles) {
  TempDir dir;
  EXPECT_NE(load_error(dir.path()).find("config.json: cannot open"), std::string::npos);
  test::write_file(dir / "config.json", "{ not json");
  EXPECT_NE(load_error(dir.path()).find("invalid JSON"), std::string::npos);
  test::write_file(dir / "config.json", test::read_file(test::fixture("tiny-fused") + "/config.json"));
  EXPECT_NE(load_error(dir.path()).find("no model.safetensors"), std::string::npos);
  EXPECT_NE(load_error(dir / "nope").find("not a model folder"), std::string::npos);
}

TEST(LoaderErrors, IndexNamesTensorItsFileLacks) {
  TempDir dir;
  for (auto& e : std::filesystem::directory_iterator(test::fixture("tiny-sharded")))
    std::filesystem::copy(e.path(), dir / e.path().filename().string());
  json index = test::read_json(dir / "model.safetensors.index.json");
  index["weight_map"]["model.language_model.layers.0.extra.weight"] = "model-00001-of-00003.safetensors";
  test::write_file(dir / "model.safetensors.index.json", index.dump());
  std::string msg = load_error(dir.path());
  EXPECT_NE(msg.find("'model.language_model.layers.0.extra.weight' is listed in model-00001-of-00003.safetensors"),
            std::string::npos) << msg;
  std::filesystem::remove(dir / "model-00002-of-00003.safetensors");
  EXPECT_NE(load_error(dir.path()).find("model-00002-of-00003.safetensors: cannot open"), std::string::npos);
}

TEST(Config, YarnFrequenciesFollowTheRecipe) {
  // The real 35B-A3B text config with the official 1M-context YaRN recipe (architecture.md §11).
  json text = {{"vocab_size", 248320}, {"hidden_size", 2048}, {"num_hidden_layers", 40},
               {"num_attention_heads", 16}, {"num_key_value_heads", 2}, {"head_dim", 256},
               {"linear_num_key_heads", 16}, {"linear_num_value_heads", 32}, {"linear_key_head_dim", 128},
               {"linear_value_head_dim", 128}, {"num_experts", 256}, {"num_experts_per_tok", 8},
               {"moe_intermediate_size", 512}, {"shared_expert_intermediate_size", 512},
               {"max_position_embeddings", 262144},
               {"rope_parameters", {{"rope_type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 262144},
                                    {"rope_theta", 1e7}, {"partial_rotary_factor", 0.25}}}};
  json root = {{"architectures", {"Qwen3_5MoeForConditionalGeneration"}}, {"text_config", text}};
  ModelConfig c = parse_hf_config(root, "config.json");
  EXPECT_EQ(c.rope.rotary_dim, 64);
  EXPECT_EQ(c.n_attention_layers(), 10);
  EXPECT_EQ(c.layers[3], LayerKind::Attention);
  EXPECT_EQ(c.layers[4], LayerKind::DeltaNet);
  RopeTable t = make_rope_table(c.rope);
  EXPECT_NEAR(t.scale, 1.13863, 1e-5);
  for (int i = 0; i < 32; ++i) {
    double ext = 1.0 / std::pow(1e7, 2.0 * i / 64);
    if (i <= 14) {
      EXPECT_NEAR(t.inv_freq[i], ext, ext * 1e-6) << i;  // ramp is 0 up to low = 14
    } else if (i >= 22) {
      EXPECT_NEAR(t.inv_freq[i], ext / 4, ext * 1e-6) << i;  // fully interpolated from high = 22
    } else {
      EXPECT_TRUE(t.inv_freq[i] < ext && t.inv_freq[i] > ext / 4) << i;
    }
  }
  text["rope_parameters"]["rope_type"] = "longrope";
  root["text_config"] = text;
  EXPECT_THROW(parse_hf_config(root, "config.json"), Error);
}

}  // namespace
}  // namespace a3b
