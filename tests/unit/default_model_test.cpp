// The shipped trained model (models/default) against its transformers float32 goldens
// (models/default/goldens.json, written by tools/train_tiny/train.py): greedy paths, first-step
// logits and the held-out perplexity computed exactly as the goldens describe.
#include <cmath>

#include "cpu/cpu_model.h"
#include "engine/perplexity.h"
#include "formats/model_file.h"
#include "test_util.h"

namespace a3b {
namespace {

struct Shipped {
  CpuModel model{load_model_weights(test::default_model_dir()), 2};
  nlohmann::json goldens = test::read_json(test::default_model_dir() + "/goldens.json");
  int64_t V() const { return model.config().vocab_size; }

  std::vector<float> run(SequenceState& seq, std::span<const int32_t> tokens, bool all) {
    std::vector<float> out((all ? tokens.size() : 1) * size_t(V()));
    BatchItem item{&seq, tokens, all};
    model.forward({&item, 1}, out.data());
    return out;
  }
};


// All 128 greedy tokens of every prompt, EOS included and decoding past it (as the goldens were
// made). Past EOS the text is off-distribution and the reference's top-2 gaps shrink to ~0.01, still
// far above the ~1e-5 by which a3b's logits differ from transformers', so the paths must agree.
TEST(DefaultModel, GreedyPathsMatchTransformers) {
  Shipped s;
  ASSERT_GE(s.goldens["prompts"].size(), 10u);
  for (const auto& p : s.goldens["prompts"]) {
    const std::string name = p["name"];
    auto prompt = p["prompt_ids"].get<std::vector<int32_t>>();
    auto ref = p["greedy_ids"].get<std::vector<int32_t>>();
    ASSERT_EQ(ref.size(), 128u) << name;
    auto seq = s.model.new_sequence();
    auto logits = s.run(*seq, prompt, false);
    if (p.contains("first_step_logits")) {
      auto first = p["first_step_logits"].get<std::vector<float>>();
      ASSERT_EQ(int64_t(first.size()), s.V());
      EXPECT_LE(test::max_rel_diff(logits.data(), first.data(), first.size()), 1e-4) << name;
    }
    std::vector<int32_t> got;
    for (;;) {
      got.push_back(test::argmax(logits.data(), s.V()));
      if (got.size() == ref.size()) break;
      logits = s.run(*seq, std::span(&got.back(), 1), false);
    }
    EXPECT_EQ(got, ref) << name << " (first EOS at " << p["stop_at"].get<int>() << ")";
  }
}

TEST(DefaultModel, HeldoutPerplexityMatchesTransformers) {
  Shipped s;
  const auto& ppl = s.goldens["perplexity"];
  auto ids = ppl["heldout_ids"].get<std::vector<int32_t>>();
  PerplexityResult r = perplexity(s.model, ids, ppl["window"].get<int64_t>());
  EXPECT_EQ(r.predicted, ppl["predicted_tokens"].get<int64_t>());
  const double want = ppl["perplexity"].get<double>();
  EXPECT_NEAR(r.perplexity, want, 1e-4 * want);
  EXPECT_NEAR(double(r.top1_correct) / double(r.predicted), ppl["top1_accuracy"].get<double>(), 1e-3);
  std::printf("held-out perplexity: a3b %.8f, transformers %.8f\n", r.perplexity, want);
}

// The command users run: text in, the model's own tokenizer, within 0.5% of transformers (the
// issue's bar; in practice it agrees to ~1e-8).
TEST(DefaultModel, PerplexityCommandOnHeldoutText) {
  auto goldens = test::read_json(test::default_model_dir() + "/goldens.json");
  std::string out;
  int rc = test::run_command(test::a3b_binary() + " perplexity --backend cpu -f " + test::default_model_dir() +
                                 "/heldout.txt --json", &out);
  ASSERT_EQ(rc, 0) << out;
  auto j = nlohmann::json::parse(out);
  const auto& ppl = goldens["perplexity"];
  EXPECT_EQ(j["tokens"].get<int64_t>(), ppl["tokens"].get<int64_t>());
  EXPECT_EQ(j["predicted_tokens"].get<int64_t>(), ppl["predicted_tokens"].get<int64_t>());
  const double want = ppl["perplexity"].get<double>();
  EXPECT_NEAR(j["perplexity"].get<double>(), want, 5e-3 * want);
}

TEST(DefaultModel, PerplexityRejectsBadInput) {
  std::string out;
  EXPECT_NE(test::run_command(test::a3b_binary() + " perplexity -f /nonexistent.txt", &out), 0);
  EXPECT_NE(out.find("cannot read '/nonexistent.txt'"), std::string::npos) << out;
  test::TempDir tmp;
  test::write_file(tmp / "one.txt", "a");
  EXPECT_NE(test::run_command(test::a3b_binary() + " perplexity --backend cpu -f " + (tmp / "one.txt"), &out), 0);
  EXPECT_NE(out.find("fewer than 2 tokens"), std::string::npos) << out;
}

}  // namespace
}  // namespace a3b
