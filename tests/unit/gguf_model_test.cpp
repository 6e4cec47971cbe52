// qwen35moe GGUF models end to end: HF -> GGUF (a3b quantize) -> the CPU engine, against the
// transformers goldens and the HF checkpoint; quantized mixes within stated error; tokenizer,
// chat template, MTP block, split files and bad metadata.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include "cli/model_loader.h"
#include "core/error.h"
#include "core/npy.h"
#include "cpu/cpu_model.h"
#include "formats/gguf.h"
#include "formats/gguf_model.h"
#include "formats/gguf_quantize.h"
#include "formats/model_file.h"
#include "tokenizer/tokenizer.h"
#include "test_util.h"

namespace a3b {
namespace {

std::string make_gguf(const std::string& input, const std::string& out, const std::string& type) {
  QuantizeOptions o;
  o.type = type;
  o.threads = 2;
  quantize_model(input, out, o);
  return out;
}

// Logits for every position of `tokens`, fed one token per step (the decode path: on the AVX2 /
// AVX-512 CPUs, int8 activations for Q8_0/Q4_K/Q6_K weights).
std::vector<float> stepwise_logits(const std::string& model_path, std::span<const int32_t> tokens) {
  CpuModel m(load_model_weights(model_path), 2);
  auto seq = m.new_sequence();
  const size_t V = size_t(m.config().vocab_size);
  std::vector<float> out(tokens.size() * V);
  for (size_t i = 0; i < tokens.size(); ++i) {
    BatchItem item{seq.get(), tokens.subspan(i, 1), true};
    m.forward({&item, 1}, &out[i * V]);
  }
  return out;
}

// Copies a GGUF file, letting the caller change metadata and drop or rename tensors.
void rewrite_gguf(const std::string& src, const std::string& dst, const std::function<void(GgufWriter&)>& edit_kv,
                  const std::function<bool(const GgufTensor&)>& keep = nullptr) {
  auto f = std::make_shared<GgufFile>(src);
  GgufWriter w;
  for (const std::string& k : f->keys()) w.set(k, *f->find(k));
  edit_kv(w);
  for (const GgufTensor& t : f->tensors())
    if (!keep || keep(t))
      w.add_tensor_raw(t.name, t.ggml_type, t.ne, [f, &t] { return std::string(reinterpret_cast<const char*>(t.data), t.nbytes); });
  w.write(dst);
}

void expect_load_error(const std::string& path, const std::string& what) {
  try {
    load_model_weights(path);
    ADD_FAILURE() << "no error; expected '" << what << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(".gguf"), std::string::npos) << e.what();
  }
}

TEST(GgufModel, Bf16FromTinyFixtureMatchesTransformersGolden) {
  const std::string dir = test::fixture("tiny-fused");
  test::TempDir tmp;
  const std::string gguf = make_gguf(dir, tmp / "tiny.gguf", "BF16");
  const test::Golden g = test::load_golden(dir);
  const auto from_gguf = test::prefill_logits(gguf, g.prompt);
  EXPECT_LE(test::max_rel_diff(from_gguf.data(), g.prefill.data(), g.prefill.size()), 1e-3);
  // Against the engine on the HF folder: the same BF16 values; only the summation order of the
  // (tiled) linear-attention output columns differs.
  const auto from_hf = test::prefill_logits(dir, g.prompt);
  const double diff = test::max_rel_diff(from_gguf.data(), from_hf.data(), from_hf.size());
  std::printf("tiny-fused BF16 GGUF vs HF folder: max|Δ|/max|ref| %.2e\n", diff);
  EXPECT_LE(diff, 5e-5);
}

TEST(GgufModel, RequantizingBf16GgufToBf16IsBitExact) {
  test::TempDir tmp;
  const std::string a = make_gguf(test::fixture("tiny-fused"), tmp / "a.gguf", "BF16");
  const std::string b = make_gguf(a, tmp / "b.gguf", "BF16");
  const std::vector<int32_t> prompt = {1, 5, 9, 200, 7, 7, 31};
  const auto la = test::prefill_logits(a, prompt), lb = test::prefill_logits(b, prompt);
  EXPECT_EQ(std::memcmp(la.data(), lb.data(), la.size() * 4), 0);
}

// The trained default model (random tiny fixtures are too chaotic to judge quantization error):
// logits over 96 held-out tokens, relative RMS against the BF16 HF checkpoint.
TEST(GgufModel, QuantizedDefaultModelWithinTolerance) {
  const std::string dir = test::default_model_dir();
  const Tokenizer tok = Tokenizer::load(dir);
  std::vector<int32_t> prompt = tok.encode(test::read_file(dir + "/heldout.txt").substr(0, 4000));
  prompt.resize(96);
  const auto ref = test::prefill_logits(dir, prompt);
  test::TempDir tmp;
  struct Want { const char* type; double max_rms; };
  for (Want w : {Want{"BF16", 1e-5}, Want{"Q8_0", 0.02}, Want{"Q4_K_M", 0.15}}) {
    const auto got = test::prefill_logits(make_gguf(dir, tmp / (std::string(w.type) + ".gguf"), w.type), prompt);
    const double rms = test::relative_rms(got, ref);
    int same_argmax = 0;
    const size_t V = ref.size() / prompt.size();
    for (size_t t = 0; t < prompt.size(); ++t)
      same_argmax += std::max_element(&got[t * V], &got[(t + 1) * V]) - &got[t * V] ==
                     std::max_element(&ref[t * V], &ref[(t + 1) * V]) - &ref[t * V];
    std::printf("models/default %-6s: logits relative RMS %.4f, top-1 agreement %d/%zu\n", w.type, rms, same_argmax, prompt.size());
    EXPECT_LE(rms, w.max_rms) << w.type;
    // Token by token (decode path) over the first 24 positions.
    const auto steps = stepwise_logits(tmp / (std::string(w.type) + ".gguf"), std::span(prompt).first(24));
    const std::vector<float> ref24(ref.begin(), ref.begin() + std::ptrdiff_t(steps.size()));
    const double step_rms = test::relative_rms(steps, ref24);
    std::printf("models/default %-6s: decode-path logits relative RMS %.4f\n", w.type, step_rms);
    EXPECT_LE(step_rms, w.max_rms) << w.type << " decode path";
  }
  // The Q4_K_M mix: Q6_K LM head, Q4_K elsewhere, Q8_0 where rows are not whole 256-blocks.
  GgufFile f(tmp / "Q4_K_M.gguf");
  EXPECT_STREQ(f.find_tensor("output.weight")->type_name(), "Q6_K");
  EXPECT_STREQ(f.find_tensor("blk.1.ffn_gate_exps.weight")->type_name(), "Q4_K");
  EXPECT_STREQ(f.find_tensor("blk.0.ffn_down_exps.weight")->type_name(), "Q8_0");  // 32 columns
  EXPECT_STREQ(f.find_tensor("blk.0.ffn_gate_inp.weight")->type_name(), "F32");
  EXPECT_STREQ(f.find_tensor("blk.0.ssm_alpha.weight")->type_name(), "F32");
}

// GGUF -> GGUF at another type: a Q8_0 file re-encoded as Q4_K_M keeps its metadata and stays
// within the Q4_K_M tolerance of the checkpoint.
TEST(GgufModel, RequantizeQuantizedGguf) {
  const std::string dir = test::default_model_dir();
  test::TempDir tmp;
  const std::string q8 = make_gguf(dir, tmp / "q8.gguf", "Q8_0");
  const std::string q4 = make_gguf(q8, tmp / "q4.gguf", "Q4_K_M");
  GgufFile f(q4);
  EXPECT_EQ(f.get_int("general.file_type"), 15);
  EXPECT_STREQ(f.find_tensor("blk.0.attn_qkv.weight")->type_name(), "Q5_K");
  EXPECT_EQ(f.get_string("tokenizer.chat_template"), GgufFile(q8).get_string("tokenizer.chat_template"));
  const Tokenizer tok = Tokenizer::load(q4);
  std::vector<int32_t> prompt = tok.encode(test::read_file(dir + "/heldout.txt").substr(0, 2000));
  prompt.resize(48);
  const double rms = test::relative_rms(test::prefill_logits(q4, prompt), test::prefill_logits(dir, prompt));
  std::printf("models/default Q8_0 -> Q4_K_M: logits relative RMS %.4f\n", rms);
  EXPECT_LE(rms, 0.15);
}

TEST(GgufModel, TokenizerTemplateAndDefaultsTravelInTheFile) {
  const std::string dir = test::default_model_dir();
  test::TempDir tmp;
  const std::string gguf = make_gguf(dir, tmp / "m.gguf", "Q8_0");
  const Tokenizer hf = Tokenizer::load(dir), gg = Tokenizer::load(gguf);
  const std::string text = test::read_file(dir + "/heldout.txt").substr(0, 20000) + " h\xc3\xa9llo <think>x</think><|im_end|>";
  EXPECT_EQ(gg.encode(text), hf.encode(text));
  EXPECT_EQ(gg.eos_id(), hf.eos_id());
  const auto ids = hf.encode(text);
  EXPECT_EQ(gg.decode(ids), hf.decode(ids));

  ModelArgs args;
  args.path = gguf;
  args.backend = "cpu";
  args.threads = 2;
  LoadedModel m = load_model(args, true);
  ASSERT_TRUE(m.chat_template.has_value());
  EXPECT_EQ(m.chat_template->source(), test::read_file(dir + "/chat_template.jinja"));
  EXPECT_NE(std::find(m.eos_ids.begin(), m.eos_ids.end(), *hf.eos_id()), m.eos_ids.end());
  // <|endoftext|> ends generation too (llama.cpp's end-of-generation set).
  EXPECT_NE(std::find(m.eos_ids.begin(), m.eos_ids.end(), *hf.token_id("<|endoftext|>")), m.eos_ids.end());
  EXPECT_FLOAT_EQ(m.defaults.sampling.top_p, 0.95f);
  EXPECT_EQ(m.defaults.sampling.top_k, 20);
}

TEST(GgufModel, MtpBlockIsRecognisedAndSkipped) {
  test::TempDir tmp;
  const std::string plain = make_gguf(test::fixture("tiny-fused"), tmp / "plain.gguf", "BF16");
  // Add a 9th block (a copy of the last attention block's tensors) declared as the MTP layer.
  auto f = std::make_shared<GgufFile>(plain);
  GgufWriter w;
  for (const std::string& k : f->keys()) w.set(k, *f->find(k));
  w.set("qwen35moe.block_count", GgufValue::u32(9));
  w.set("qwen35moe.nextn_predict_layers", GgufValue::u32(1));
  for (const GgufTensor& t : f->tensors()) {
    auto bytes = [f, &t] { return std::string(reinterpret_cast<const char*>(t.data), t.nbytes); };
    w.add_tensor_raw(t.name, t.ggml_type, t.ne, bytes);
    if (t.name.rfind("blk.7.", 0) == 0) w.add_tensor_raw("blk.8." + t.name.substr(6), t.ggml_type, t.ne, bytes);
  }
  w.add_tensor_raw("blk.8.nextn.eh_proj.weight", 0, {128, 64}, [] { return std::string(128 * 64 * 4, '\0'); });
  w.write(tmp / "mtp.gguf");
  ModelWeights m = load_model_weights(tmp / "mtp.gguf");
  EXPECT_EQ(m.config.n_layers, 8);
  EXPECT_EQ(m.config.mtp_layers, 1);
  const std::vector<int32_t> prompt = {3, 1, 4, 1, 5};
  const auto a = test::prefill_logits(plain, prompt), b = test::prefill_logits(tmp / "mtp.gguf", prompt);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0);
}

// The loader's other accepted layouts: fused ffn_gate_up_exps (gate rows, then up rows, per
// expert) and the shared-expert gate stored as {H, 1}.
TEST(GgufModel, FusedGateUpExpertsAndColumnShexpGate) {
  test::TempDir tmp;
  const std::string plain = make_gguf(test::fixture("tiny-fused"), tmp / "plain.gguf", "BF16");
  auto f = std::make_shared<GgufFile>(plain);
  GgufWriter w;
  for (const std::string& k : f->keys()) w.set(k, *f->find(k));
  for (const GgufTensor& t : f->tensors()) {
    const std::string name = t.name;
    auto bytes = [f, &t] { return std::string(reinterpret_cast<const char*>(t.data), t.nbytes); };
    if (name.find("ffn_up_exps") != std::string::npos) continue;
    if (name.find("ffn_gate_exps") != std::string::npos) {
      const GgufTensor* up = f->find_tensor(name.substr(0, name.find("ffn_gate_exps")) + "ffn_up_exps.weight");
      ASSERT_TRUE(up);
      const size_t per_expert = t.nbytes / size_t(t.ne[2]);
      w.add_tensor_raw(name.substr(0, name.find("ffn_gate_exps")) + "ffn_gate_up_exps.weight", t.ggml_type,
                       {t.ne[0], 2 * t.ne[1], t.ne[2]}, [&t, up, per_expert] {
                         std::string out;
                         for (int64_t e = 0; e < t.ne[2]; ++e) {
                           out.append(reinterpret_cast<const char*>(t.data) + e * per_expert, per_expert);
                           out.append(reinterpret_cast<const char*>(up->data) + e * per_expert, per_expert);
                         }
                         return out;
                       });
    } else if (name.find("ffn_gate_inp_shexp") != std::string::npos) {
      w.add_tensor_raw(name, t.ggml_type, {t.ne[0], 1}, bytes);
    } else {
      w.add_tensor_raw(name, t.ggml_type, t.ne, bytes);
    }
  }
  w.write(tmp / "fused.gguf");
  const std::vector<int32_t> prompt = {2, 7, 1, 8, 2, 8};
  const auto a = test::prefill_logits(plain, prompt), b = test::prefill_logits(tmp / "fused.gguf", prompt);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0);
}

TEST(GgufModel, SplitFilesLoadAsOne) {
  test::TempDir tmp;
  const std::string whole = make_gguf(test::fixture("tiny-fused"), tmp / "whole.gguf", "Q8_0");
  GgufFile f(whole);
  std::set<std::string> first_half;
  for (size_t i = 0; i < f.tensors().size() / 2; ++i) first_half.insert(f.tensors()[i].name);
  rewrite_gguf(whole, tmp / "m-00001-of-00002.gguf", [](GgufWriter& w) {
    w.set("split.no", GgufValue::integer(GgufValueType::U16, 0));
    w.set("split.count", GgufValue::integer(GgufValueType::U16, 2));
  }, [&](const GgufTensor& t) { return first_half.count(t.name) > 0; });
  GgufWriter second;
  second.set("split.no", GgufValue::integer(GgufValueType::U16, 1));
  second.set("split.count", GgufValue::integer(GgufValueType::U16, 2));
  for (const GgufTensor& t : f.tensors())
    if (!first_half.count(t.name))
      second.add_tensor_raw(t.name, t.ggml_type, t.ne, [&t] { return std::string(reinterpret_cast<const char*>(t.data), t.nbytes); });
  second.write(tmp / "m-00002-of-00002.gguf");
  const std::vector<int32_t> prompt = {10, 20, 30};
  const auto a = test::prefill_logits(whole, prompt);
  for (const char* shard : {"m-00001-of-00002.gguf", "m-00002-of-00002.gguf"}) {
    const auto b = test::prefill_logits(tmp / shard, prompt);
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0) << shard;
  }
  std::filesystem::remove(tmp / "m-00002-of-00002.gguf");
  expect_load_error(tmp / "m-00001-of-00002.gguf", "shard 2 of 2");
}

TEST(GgufModel, BadMetadataAndTensorsAreClearErrors) {
  test::TempDir tmp;
  const std::string good = make_gguf(test::fixture("tiny-fused"), tmp / "good.gguf", "BF16");
  auto without_key = [&](const std::string& key, const std::string& name) {
    auto f = std::make_shared<GgufFile>(good);
    GgufWriter w;
    for (const std::string& k : f->keys())
      if (k != key) w.set(k, *f->find(k));
    for (const GgufTensor& t : f->tensors())
      w.add_tensor_raw(t.name, t.ggml_type, t.ne, [f, &t] { return std::string(reinterpret_cast<const char*>(t.data), t.nbytes); });
    w.write(tmp / name);
    return tmp / name;
  };
  expect_load_error(without_key("qwen35moe.expert_count", "a.gguf"), "missing required metadata 'qwen35moe.expert_count'");
  expect_load_error(without_key("general.architecture", "b.gguf"), "missing required metadata 'general.architecture'");
  rewrite_gguf(good, tmp / "c.gguf", [](GgufWriter& w) { w.set("general.architecture", GgufValue::string("llama")); });
  expect_load_error(tmp / "c.gguf", "architecture 'llama' is not supported");
  rewrite_gguf(good, tmp / "d.gguf", [](GgufWriter& w) { w.set("qwen35moe.expert_count", GgufValue::string("16")); });
  expect_load_error(tmp / "d.gguf", "must be an integer");
  rewrite_gguf(good, tmp / "e.gguf", [](GgufWriter&) {}, [](const GgufTensor& t) { return t.name != "blk.3.attn_k.weight"; });
  expect_load_error(tmp / "e.gguf", "missing tensor 'blk.3.attn_k.weight'");
  rewrite_gguf(good, tmp / "f.gguf", [](GgufWriter& w) { w.set("qwen35moe.expert_feed_forward_length", GgufValue::u32(64)); });
  expect_load_error(tmp / "f.gguf", "has shape");
  rewrite_gguf(good, tmp / "g.gguf", [](GgufWriter& w) { w.set("qwen35moe.block_count", GgufValue::u32(0)); });
  expect_load_error(tmp / "g.gguf", "block_count must be at least 1");
  // A matrix stored in a ggml type a3b has no kernels for (Q4_1: same block geometry as Q4_0 + 2 bytes).
  {
    auto f = std::make_shared<GgufFile>(good);
    GgufWriter w;
    for (const std::string& k : f->keys()) w.set(k, *f->find(k));
    for (const GgufTensor& t : f->tensors()) {
      if (t.name == "blk.3.attn_v.weight") {
        const size_t n = size_t(t.n_elements() / 32 * 20);
        w.add_tensor_raw(t.name, 3, t.ne, [n] { return std::string(n, '\0'); });
      } else {
        w.add_tensor_raw(t.name, t.ggml_type, t.ne, [f, &t] { return std::string(reinterpret_cast<const char*>(t.data), t.nbytes); });
      }
    }
    w.write(tmp / "h.gguf");
  }
  expect_load_error(tmp / "h.gguf", "has type Q4_1, which a3b cannot compute with");
}

TEST(GgufModel, CliGenerateOnGgufMatchesFolder) {
  const std::string dir = test::default_model_dir();
  test::TempDir tmp;
  std::string out_q, out_g, out_f;
  const std::string gguf = tmp / "m.gguf";
  ASSERT_EQ(test::run_command(test::a3b_binary() + " quantize " + dir + " " + gguf + " --type BF16", &out_q), 0) << out_q;
  EXPECT_NE(out_q.find("wrote"), std::string::npos) << out_q;
  const std::string gen = " generate -p 'The capital of France is' -n 8 --ids --ignore-eos --backend cpu -t 2 --dump-logits ";
  ASSERT_EQ(test::run_command(test::a3b_binary() + gen + (tmp / "g.npy") + " -m " + gguf, &out_g), 0) << out_g;
  ASSERT_EQ(test::run_command(test::a3b_binary() + gen + (tmp / "f.npy") + " -m " + dir, &out_f), 0) << out_f;
  EXPECT_EQ(out_g, out_f);
  const NpyArray lg = read_npy(tmp / "g.npy"), lf = read_npy(tmp / "f.npy");
  ASSERT_EQ(lg.shape, lf.shape);
  EXPECT_LE(test::max_rel_diff(lg.data.data(), lf.data.data(), lf.data.size()), 5e-5);
  EXPECT_EQ(test::run_command(test::a3b_binary() + " quantize " + dir + " " + (tmp / "x.gguf") + " --type Q3_K", &out_q), 1);
  EXPECT_NE(out_q.find("unknown type 'Q3_K'"), std::string::npos) << out_q;
}

}  // namespace
}  // namespace a3b
