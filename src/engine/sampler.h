// Per-request token sampling with the OpenAI/vLLM knobs, applied in this order:
// logit bias → repetition penalty (prompt + output) → presence/frequency penalties (output) →
// temperature (0 = greedy) → top-k → top-p → min-p → draw with the request's own RNG.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <unordered_map>
#include <vector>

namespace a3b {

struct SamplingParams {
  float temperature = 1.0f;
  int top_k = 0;                  // 0 or less: off
  float top_p = 1.0f;
  float min_p = 0.0f;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  float repetition_penalty = 1.0f;
  std::optional<uint64_t> seed;   // none: a random seed
  std::map<int32_t, float> logit_bias;
};

struct TokenLogprob {
  int32_t token;
  float logprob;
};

class Sampler {
 public:
  Sampler(const SamplingParams& p, std::span<const int32_t> prompt);

  // Picks the next token from raw logits (modified in place as scratch). `top_n` > 0 also fills
  // `top` with the n most likely tokens of the model's own distribution (log-softmax of the raw logits).
  int32_t sample(float* logits, int64_t vocab, int top_n = 0, float* chosen_logprob = nullptr,
                 std::vector<TokenLogprob>* top = nullptr);

  void accept(int32_t token);  // record an emitted token (for the penalties)

 private:
  SamplingParams p_;
  std::mt19937_64 rng_;
  std::unordered_map<int32_t, int> output_counts_;
  std::vector<int32_t> seen_;  // prompt and output tokens, for the repetition penalty
  std::vector<std::pair<float, int32_t>> cand_;
};

}  // namespace a3b
