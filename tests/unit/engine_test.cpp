// The engine: continuous batching gives each request exactly what it would get alone; chunked
// prefill, sampling knobs, cancellation, limits.
#include <cmath>
#include <set>
#include <thread>

#include "core/error.h"
#include "cpu/cpu_model.h"
#include "engine/engine.h"
#include "formats/model_file.h"
#include "test_util.h"

namespace a3b {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<Model> fixture_model(const std::string& name) {
  return std::make_shared<CpuModel>(load_model_weights(test::fixture(name)), 2);
}

struct Result {
  std::vector<int32_t> tokens;
  FinishReason finish = FinishReason::None;
};

Result collect(RequestHandle& h) {
  Result r;
  for (;;) {
    auto e = h.next(60s);
    if (!e) ADD_FAILURE() << "no event within 60 s";
    if (!e) return r;
    if (e->token >= 0) r.tokens.push_back(e->token);
    if (e->finish != FinishReason::None) {
      r.finish = e->finish;
      return r;
    }
  }
}

GenerationRequest greedy(std::vector<int32_t> prompt, int64_t n) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.max_tokens = n;
  r.sampling.temperature = 0;
  r.ignore_eos = true;
  return r;
}

TEST(Engine, GreedyMatchesGoldenWithChunkedPrefill) {
  auto g = test::load_golden(test::fixture("tiny-fused"));
  EngineOptions o;
  o.max_batch_tokens = 16;  // 80-token prompt in five pieces
  Engine engine(fixture_model("tiny-fused"), o);
  auto h = engine.submit(greedy(g.prompt, int64_t(g.greedy.size())));
  Result r = collect(*h);
  EXPECT_EQ(r.tokens, g.greedy);
  EXPECT_EQ(r.finish, FinishReason::Length);
}

TEST(Engine, ConcurrentRequestsGetWhatTheyWouldAlone) {
  auto g = test::load_golden(test::fixture("tiny-sharded"));
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 6; ++i) prompts.emplace_back(g.prompt.begin() + i * 7, g.prompt.begin() + 20 + i * 9);

  std::vector<Result> alone;
  {
    Engine engine(fixture_model("tiny-sharded"), {});
    for (auto& p : prompts) alone.push_back(collect(*engine.submit(greedy(p, 12))));
  }
  Engine engine(fixture_model("tiny-sharded"), {});
  std::vector<std::shared_ptr<RequestHandle>> handles;
  for (auto& p : prompts) handles.push_back(engine.submit(greedy(p, 12)));
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ(collect(*handles[i]).tokens, alone[i].tokens) << i;
  std::string metrics = engine.metrics().prometheus();
  // Some forward pass held more than one sequence: the count of passes with ≤ 1 sequence is below the total.
  auto value = [&](const std::string& key) {
    auto at = metrics.find(key);
    return at == std::string::npos ? -1.0 : std::stod(metrics.substr(at + key.size()));
  };
  EXPECT_LT(value("a3b_batch_sequences_bucket{le=\"1\"} "), value("a3b_batch_sequences_count "));
}

TEST(Engine, SeededSamplingIsReproducible) {
  auto g = test::load_golden(test::fixture("tiny-fused"));
  Engine engine(fixture_model("tiny-fused"), {});
  auto req = [&](uint64_t seed) {
    GenerationRequest r = greedy(g.prompt, 24);
    r.sampling.temperature = 1.5f;
    r.sampling.seed = seed;
    return r;
  };
  auto a = engine.submit(req(42)), b = engine.submit(req(42)), c = engine.submit(req(43));
  auto ra = collect(*a), rb = collect(*b), rc = collect(*c);
  EXPECT_EQ(ra.tokens, rb.tokens);
  EXPECT_NE(ra.tokens, rc.tokens);
}

TEST(Engine, StopTokenAndCancellation) {
  auto g = test::load_golden(test::fixture("tiny-fused"));
  Engine engine(fixture_model("tiny-fused"), {});
  GenerationRequest r = greedy(g.prompt, 100);
  r.stop_token_ids = {g.greedy[3]};
  Result stopped = collect(*engine.submit(r));
  EXPECT_EQ(stopped.finish, FinishReason::Stop);
  EXPECT_EQ(stopped.tokens, std::vector<int32_t>(g.greedy.begin(), g.greedy.begin() + 4));

  auto h = engine.submit(greedy(g.prompt, 100000));
  auto first = h->next(60s);
  ASSERT_TRUE(first);
  h->cancel();
  Result rest = collect(*h);
  EXPECT_EQ(rest.finish, FinishReason::Cancelled);
  EXPECT_LT(rest.tokens.size(), 50u);
  for (int i = 0; i < 100 && engine.metrics().prometheus().find("a3b_running_sequences 0\n") == std::string::npos; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_NE(engine.metrics().prometheus().find("a3b_running_sequences 0\n"), std::string::npos);
}

TEST(Engine, RejectsBadRequestsAndFullQueue) {
  EngineOptions o;
  o.max_context = 64;
  o.max_queue = 2;
  o.max_sequences = 1;
  Engine engine(fixture_model("tiny-fused"), o);
  EXPECT_THROW(engine.submit(greedy({}, 4)), Error);
  EXPECT_THROW(engine.submit(greedy({1, 99999}, 4)), Error);
  EXPECT_THROW(engine.submit(greedy(std::vector<int32_t>(64, 1), 4)), Error);  // no room for one token
  // Long requests occupy the one slot; the queue takes two more; the next is refused.
  std::vector<std::shared_ptr<RequestHandle>> held;
  bool busy = false;
  for (int i = 0; i < 10 && !busy; ++i) {
    try {
      held.push_back(engine.submit(greedy({1, 2, 3}, 60)));
    } catch (const EngineBusy&) {
      busy = true;
    }
  }
  EXPECT_TRUE(busy);
  for (auto& h : held) h->cancel();
}

TEST(Engine, PrefixCacheResumesAFollowUpTurnExactly) {
  auto g = test::load_golden(test::fixture("tiny-sharded"));
  std::vector<int32_t> first(g.prompt.begin(), g.prompt.begin() + 40);
  auto follow_up = [&](const std::vector<int32_t>& answer) {
    std::vector<int32_t> p = first;
    p.insert(p.end(), answer.begin(), answer.end());
    p.insert(p.end(), g.prompt.begin() + 50, g.prompt.begin() + 57);  // the next "user message"
    return p;
  };
  std::vector<int32_t> expect;
  {
    EngineOptions off;
    off.prefix_cache_bytes = 0;
    Engine engine(fixture_model("tiny-sharded"), off);
    auto answer = collect(*engine.submit(greedy(first, 10))).tokens;
    auto h = engine.submit(greedy(follow_up(answer), 12));
    expect = collect(*h).tokens;
    EXPECT_EQ(h->cached_tokens(), 0);
  }
  Engine engine(fixture_model("tiny-sharded"), {});
  auto answer = collect(*engine.submit(greedy(first, 10))).tokens;
  auto h = engine.submit(greedy(follow_up(answer), 12));
  EXPECT_EQ(collect(*h).tokens, expect);
  EXPECT_EQ(h->cached_tokens(), 40 + 9);  // prompt and answer but its last token, never fed
  EXPECT_NE(engine.metrics().prometheus().find("a3b_prefix_cache_hits_total 1\n"), std::string::npos);
}

TEST(Sampler, KnobsDoWhatTheySay) {
  const int64_t V = 6;
  auto run = [&](SamplingParams p, std::vector<float> logits, std::vector<int32_t> history = {}) {
    Sampler s(p, {});
    for (int32_t t : history) s.accept(t);
    return s.sample(logits.data(), V);
  };
  std::vector<float> l = {1.0f, 3.0f, 2.9f, 0.5f, -1.0f, 2.95f};
  SamplingParams greedy;
  greedy.temperature = 0;
  EXPECT_EQ(run(greedy, l), 1);
  SamplingParams bias = greedy;
  bias.logit_bias[4] = 100;
  EXPECT_EQ(run(bias, l), 4);
  SamplingParams presence = greedy;
  presence.presence_penalty = 0.2f;
  EXPECT_EQ(run(presence, l, {1}), 5);
  SamplingParams rep = greedy;
  rep.repetition_penalty = 1.1f;
  EXPECT_EQ(run(rep, l, {1}), 5);  // 3.0 / 1.1 < 2.95
  SamplingParams topk;
  topk.top_k = 1;
  topk.seed = 1;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(run(topk, l), 1);
  SamplingParams hot;  // top_p small enough to keep only the best
  hot.temperature = 1;
  hot.top_p = 0.01f;
  hot.seed = 3;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(run(hot, l), 1);
  SamplingParams minp;  // min_p 0.9 of the best keeps 1, 5 and 2 (e^-0.1 ≈ 0.905 of the best)
  minp.min_p = 0.9f;
  std::set<int32_t> seen;
  for (uint64_t s = 0; s < 200; ++s) {
    minp.seed = s;
    seen.insert(run(minp, l));
  }
  EXPECT_EQ(seen, (std::set<int32_t>{1, 2, 5}));
}

TEST(Sampler, LogprobsAreTheModelsOwn) {
  std::vector<float> l = {0.0f, std::log(3.0f)};  // probabilities 1/4 and 3/4
  SamplingParams p;
  p.temperature = 0;
  p.logit_bias[0] = 50;  // the knob changes the choice, not the reported distribution
  Sampler s(p, {});
  float lp;
  std::vector<TokenLogprob> top;
  EXPECT_EQ(s.sample(l.data(), 2, 2, &lp, &top), 0);
  EXPECT_NEAR(lp, std::log(0.25), 1e-6);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].token, 1);
  EXPECT_NEAR(top[0].logprob, std::log(0.75), 1e-6);
}

}  // namespace
}  // namespace a3b
