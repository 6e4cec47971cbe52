// GGUF files written by llama.cpp's own converter (convert_hf_to_gguf.py of the llama.cpp source
// that npm node-llama-cpp 3.22.1 bundles), from the tiny fixtures, against the HF folders they
// were made from. tools/reference/llama_cpp_ggufs.sh made them on the GPU machine (the converter
// needs torch); tests/fixtures/llama-converted/README.md says how.
#include <cmath>
#include <cstdio>
#include <cstring>

#include "formats/gguf.h"
#include "formats/gguf_quantize.h"
#include "test_util.h"

namespace a3b {
namespace {

std::vector<int64_t> squeezed(std::vector<int64_t> ne) {
  while (ne.size() > 1 && ne.back() == 1) ne.pop_back();
  return ne;
}

std::string converted(const std::string& name) { return test::fixture("llama-converted/" + name); }

class LlamaConverted : public ::testing::TestWithParam<std::string> {};

// BF16 holds the checkpoint's bf16 weights unchanged: the same logits as the folder. The norms
// are the exception: the converter stores 1 + w already added, which a3b adds itself for
// folders, so they may round differently in the last float bit (amplified by these random models).
TEST_P(LlamaConverted, Bf16MatchesFolder) {
  const std::string dir = test::fixture(GetParam());
  const test::Golden g = test::load_golden(dir);
  const auto want = test::prefill_logits(dir, g.prompt);
  const auto got = test::prefill_logits(converted(GetParam() + ".bf16.gguf"), g.prompt);
  const double rms = test::relative_rms(got, want), mx = test::max_rel_diff(got.data(), want.data(), want.size());
  std::printf("%s: llama.cpp BF16 GGUF vs folder: logits relative RMS %.3g, max|Δ|/max|logit| %.3g\n", GetParam().c_str(),
              rms, mx);
  EXPECT_LE(rms, 1e-5);
  EXPECT_EQ(test::argmax(&got[got.size() - size_t(g.vocab)], g.vocab), g.greedy[0]);
}

// Q8_0: llama.cpp and a3b quantize alike (round to nearest, d = max|x| / 127), so every tensor's
// bytes equal those of a3b's own Q8_0 file of the folder, except ssm_alpha / ssm_beta, which
// llama.cpp quantizes and a3b keeps F32 (as Unsloth's files do). The logits of these random
// models are too chaotic to judge quantization error by (the default model is: 0.016 relative
// RMS against its folder for llama.cpp's Q8_0 file, measured on the GPU machine; see
// tests/fixtures/llama-converted/README.md).
TEST_P(LlamaConverted, Q8_0TensorsEqualA3bQuantization) {
  const std::string dir = test::fixture(GetParam());
  test::TempDir tmp;
  QuantizeOptions o;
  o.type = "Q8_0";
  o.threads = 2;
  quantize_model(dir, tmp / "a3b.gguf", o);
  GgufFile theirs(converted(GetParam() + ".q8_0.gguf")), ours(tmp / "a3b.gguf");
  ASSERT_EQ(theirs.tensors().size(), ours.tensors().size());
  int same = 0;
  for (const GgufTensor& t : theirs.tensors()) {
    const GgufTensor* u = ours.find_tensor(t.name);
    ASSERT_NE(u, nullptr) << t.name;
    EXPECT_EQ(squeezed(t.ne), squeezed(u->ne)) << t.name;  // the converter writes ffn_gate_inp_shexp as {H, 1}
    const bool alpha_beta = t.name.find("ssm_alpha") != std::string::npos || t.name.find("ssm_beta") != std::string::npos;
    if (alpha_beta) {
      EXPECT_STREQ(t.type_name(), "Q8_0") << t.name;
      EXPECT_STREQ(u->type_name(), "F32") << t.name;
      continue;
    }
    EXPECT_EQ(t.ggml_type, u->ggml_type) << t.name;
    if (t.nbytes == u->nbytes && std::memcmp(t.data, u->data, t.nbytes) == 0) ++same;
    else ADD_FAILURE() << t.name << " (" << t.type_name() << "): bytes differ from a3b's encoding";
  }
  std::printf("%s: %d tensors byte-identical to a3b's Q8_0 encoding\n", GetParam().c_str(), same);
  // And the file runs: its greedy first token on the golden prompt is finite and in range.
  const test::Golden g = test::load_golden(dir);
  const auto l = test::prefill_logits(converted(GetParam() + ".q8_0.gguf"), g.prompt);
  for (float v : l) ASSERT_TRUE(std::isfinite(v));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, LlamaConverted, ::testing::Values("tiny-fused"));

}  // namespace
}  // namespace a3b
