// The shipped trained model (models/default) against its transformers float32 goldens
// (models/default/goldens.json, written by tools/train_tiny/train.py): greedy paths, first-step
// logits and the held-out perplexity computed exactly as the goldens describe.
#include <cmath>

#include "cpu/cpu_model.h"
#include "formats/model_file.h"
#include "test_util.h"

namespace a3b {
namespace {

std::string default_model_dir() { return std::string(A3B_SOURCE_DIR) + "/models/default"; }

struct Shipped {
  CpuModel model{load_model_weights(default_model_dir()), 2};
  nlohmann::json goldens = test::read_json(default_model_dir() + "/goldens.json");
  int64_t V() const { return model.config().vocab_size; }

  std::vector<float> run(SequenceState& seq, std::span<const int32_t> tokens, bool all) {
    std::vector<float> out((all ? tokens.size() : 1) * size_t(V()));
    BatchItem item{&seq, tokens, all};
    model.forward({&item, 1}, out.data());
    return out;
  }
};

int32_t argmax(const float* x, int64_t n) { return int32_t(std::max_element(x, x + n) - x); }

TEST(DefaultModel, GreedyPathsMatchTransformers) {
  Shipped s;
  ASSERT_GE(s.goldens["prompts"].size(), 10u);
  for (const auto& p : s.goldens["prompts"]) {
    const std::string name = p["name"];
    auto prompt = p["prompt_ids"].get<std::vector<int32_t>>();
    auto ref = p["greedy_ids"].get<std::vector<int32_t>>();
    const size_t stop = p["stop_at"].get<size_t>();  // up to and including the first EOS
    auto seq = s.model.new_sequence();
    auto logits = s.run(*seq, prompt, false);
    if (p.contains("first_step_logits")) {
      auto first = p["first_step_logits"].get<std::vector<float>>();
      ASSERT_EQ(int64_t(first.size()), s.V());
      EXPECT_LE(test::max_rel_diff(logits.data(), first.data(), first.size()), 1e-4) << name;
    }
    std::vector<int32_t> got;
    for (;;) {
      got.push_back(argmax(logits.data(), s.V()));
      if (got.size() == stop) break;
      logits = s.run(*seq, std::span(&got.back(), 1), false);
    }
    EXPECT_EQ(got, std::vector<int32_t>(ref.begin(), ref.begin() + long(stop))) << name;
  }
}

TEST(DefaultModel, HeldoutPerplexityMatchesTransformers) {
  Shipped s;
  const auto& ppl = s.goldens["perplexity"];
  auto ids = ppl["heldout_ids"].get<std::vector<int32_t>>();
  const size_t window = ppl["window"].get<size_t>();
  double nll = 0;
  size_t count = 0;
  for (size_t start = 0; start < ids.size(); start += window) {
    std::span<const int32_t> w(ids.data() + start, std::min(window, ids.size() - start));
    if (w.size() < 2) continue;
    auto seq = s.model.new_sequence();
    auto logits = s.run(*seq, w, true);
    for (size_t j = 0; j + 1 < w.size(); ++j) {
      const float* row = &logits[j * size_t(s.V())];
      double mx = *std::max_element(row, row + s.V()), sum = 0;
      for (int64_t v = 0; v < s.V(); ++v) sum += std::exp(double(row[v]) - mx);
      nll += mx + std::log(sum) - double(row[w[j + 1]]);
    }
    count += w.size() - 1;
  }
  EXPECT_EQ(count, ppl["predicted_tokens"].get<size_t>());
  const double got = std::exp(nll / double(count)), want = ppl["perplexity"].get<double>();
  EXPECT_NEAR(got, want, 1e-4 * want);
  std::printf("held-out perplexity: a3b %.8f, transformers %.8f\n", got, want);
}

}  // namespace
}  // namespace a3b
