// The CPU engine against transformers' float32 goldens, and against itself in other schedules
// (chunked vs token-by-token DeltaNet, split prefill, batched sequences).
#include <cmath>

#include "cpu/cpu_model.h"
#include "formats/model_file.h"
#include "core/error.h"
#include "test_util.h"

namespace a3b {
namespace {

using test::Golden;

struct Runner {
  CpuModel model;
  explicit Runner(const std::string& dir) : model(load_model_weights(dir), 2) {}
  int64_t V() const { return model.config().vocab_size; }

  // Logits for every token of `tokens`, appended to `seq`.
  std::vector<float> all(SequenceState& seq, std::span<const int32_t> tokens) {
    std::vector<float> out(tokens.size() * size_t(V()));
    BatchItem item{&seq, tokens, true};
    model.forward({&item, 1}, out.data());
    return out;
  }
};


class FixtureForward : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureForward, MatchesTransformersGolden) {
  const std::string dir = test::fixture(GetParam());
  Golden g = test::load_golden(dir);
  Runner r(dir);
  ASSERT_EQ(r.V(), g.vocab);
  auto seq = r.model.new_sequence();
  auto prefill = r.all(*seq, g.prompt);
  double prefill_err = test::max_rel_diff(prefill.data(), g.prefill.data(), g.prefill.size());
  EXPECT_LE(prefill_err, 1e-3) << "prefill logits";

  // Greedy decoding: every step's logits and token against the reference.
  std::vector<int32_t> greedy = {test::argmax(&prefill[(g.prompt.size() - 1) * size_t(g.vocab)], g.vocab)};
  double decode_err = 0;
  for (size_t step = 0; step + 1 < g.greedy.size(); ++step) {
    auto logits = r.all(*seq, std::span(&greedy.back(), 1));
    decode_err = std::max(decode_err, test::max_rel_diff(logits.data(), &g.decode[step * size_t(g.vocab)], size_t(g.vocab)));
    greedy.push_back(test::argmax(logits.data(), g.vocab));
  }
  EXPECT_LE(decode_err, 1e-3) << "decode logits";
  EXPECT_EQ(greedy, g.greedy);
  RecordProperty("prefill_rel_err", std::to_string(prefill_err));
  RecordProperty("decode_rel_err", std::to_string(decode_err));
  std::printf("%s: prefill max|Δ|/max|ref| %.2e, decode %.2e\n", GetParam().c_str(), prefill_err, decode_err);
}

TEST_P(FixtureForward, ChunkedAndTokenByTokenPrefillAgree) {
  const std::string dir = test::fixture(GetParam());
  Golden g = test::load_golden(dir);
  Runner r(dir);
  auto a = r.model.new_sequence(), b = r.model.new_sequence();
  r.model.options.chunked_deltanet = true;
  auto chunked = r.all(*a, g.prompt);
  r.model.options.chunked_deltanet = false;
  auto recurrent = r.all(*b, g.prompt);
  EXPECT_LE(test::max_rel_diff(chunked.data(), recurrent.data(), chunked.size()), 1e-4);
  // The states they leave behind must agree too: decode the same tokens from both.
  auto next_a = r.all(*a, std::span(g.greedy).first(8));
  auto next_b = r.all(*b, std::span(g.greedy).first(8));
  EXPECT_LE(test::max_rel_diff(next_a.data(), next_b.data(), next_a.size()), 1e-4);
}

TEST_P(FixtureForward, PrefillInPiecesEqualsOnePrefill) {
  const std::string dir = test::fixture(GetParam());
  Golden g = test::load_golden(dir);
  Runner r(dir);
  auto whole = r.model.new_sequence(), pieces = r.model.new_sequence();
  auto one = r.all(*whole, g.prompt);
  std::vector<float> split;
  for (size_t at : {size_t(0), size_t(30), size_t(71)}) {  // pieces of 30, 41 and 9 tokens
    size_t end = at == 0 ? 30 : at == 30 ? 71 : g.prompt.size();
    auto part = r.all(*pieces, std::span(g.prompt).subspan(at, end - at));
    split.insert(split.end(), part.begin(), part.end());
  }
  EXPECT_EQ(pieces->n_past, int64_t(g.prompt.size()));
  EXPECT_LE(test::max_rel_diff(split.data(), one.data(), one.size()), 1e-4);
}

TEST_P(FixtureForward, BatchedSequencesMatchEachAlone) {
  const std::string dir = test::fixture(GetParam());
  Golden g = test::load_golden(dir);
  Runner r(dir);
  const int64_t V = r.V();
  std::vector<int32_t> pa(g.prompt.begin(), g.prompt.end());
  std::vector<int32_t> pb(g.prompt.rbegin(), g.prompt.rbegin() + 37);

  auto a = r.model.new_sequence(), b = r.model.new_sequence();
  auto alone_a = r.all(*a, pa);
  auto alone_b = r.all(*b, pb);
  auto alone_a2 = r.all(*a, std::span(g.greedy).first(3));
  auto alone_b2 = r.all(*b, std::span(g.greedy).first(1));

  // Same work in two batched calls: both prefills together, then decode of b beside a 3-token step of a.
  auto c = r.model.new_sequence(), d = r.model.new_sequence();
  BatchItem first[] = {{c.get(), pa, true}, {d.get(), pb, true}};
  std::vector<float> out(size_t(Model::logit_rows(first) * V));
  r.model.forward(first, out.data());
  EXPECT_LE(test::max_rel_diff(out.data(), alone_a.data(), alone_a.size()), 1e-6);
  EXPECT_LE(test::max_rel_diff(&out[alone_a.size()], alone_b.data(), alone_b.size()), 1e-6);

  BatchItem second[] = {{d.get(), std::span(g.greedy).first(1), false}, {c.get(), std::span(g.greedy).first(3), true}};
  out.assign(size_t(Model::logit_rows(second) * V), 0.0f);
  r.model.forward(second, out.data());
  EXPECT_LE(test::max_rel_diff(out.data(), alone_b2.data(), size_t(V)), 1e-6);
  EXPECT_LE(test::max_rel_diff(&out[size_t(V)], alone_a2.data(), alone_a2.size()), 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureForward, ::testing::Values("tiny-fused", "tiny-sharded"));

TEST(CpuForward, RejectsTokenOutsideVocabulary) {
  Runner r(test::fixture("tiny-fused"));
  auto seq = r.model.new_sequence();
  std::vector<int32_t> bad = {1, int32_t(r.V())};
  std::vector<float> out(2 * size_t(r.V()));
  BatchItem item{seq.get(), bad, true};
  EXPECT_THROW(r.model.forward({&item, 1}, out.data()), Error);
  EXPECT_EQ(seq->n_past, 0);
}

}  // namespace
}  // namespace a3b
