#include "engine/sampler.h"

#include <algorithm>
#include <cmath>

namespace a3b {

Sampler::Sampler(const SamplingParams& p, std::span<const int32_t> prompt)
    : p_(p), rng_(p.seed ? *p.seed : std::random_device{}()), seen_(prompt.begin(), prompt.end()) {
  std::sort(seen_.begin(), seen_.end());
  seen_.erase(std::unique(seen_.begin(), seen_.end()), seen_.end());
}

void Sampler::accept(int32_t token) {
  ++output_counts_[token];
  auto it = std::lower_bound(seen_.begin(), seen_.end(), token);
  if (it == seen_.end() || *it != token) seen_.insert(it, token);
}

int32_t Sampler::sample(float* logits, int64_t vocab, int top_n, float* chosen_logprob, std::vector<TokenLogprob>* top) {
  // The model's own distribution, for logprobs, before any request knob touches it.
  double log_z = 0;
  if (top_n > 0 || chosen_logprob) {
    float mx = *std::max_element(logits, logits + vocab);
    double z = 0;
    for (int64_t i = 0; i < vocab; ++i) z += std::exp(double(logits[i] - mx));
    log_z = mx + std::log(z);
  }
  std::vector<float> raw;
  if (chosen_logprob) raw.assign(logits, logits + vocab);
  if (top && top_n > 0) {
    std::vector<int32_t> idx(static_cast<size_t>(vocab));
    for (int64_t i = 0; i < vocab; ++i) idx[size_t(i)] = int32_t(i);
    int n = int(std::min<int64_t>(top_n, vocab));
    std::partial_sort(idx.begin(), idx.begin() + n, idx.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
    top->clear();
    for (int i = 0; i < n; ++i) top->push_back({idx[size_t(i)], float(logits[idx[size_t(i)]] - log_z)});
  }

  for (auto [tok, bias] : p_.logit_bias)
    if (tok >= 0 && tok < vocab) logits[tok] += bias;
  if (p_.repetition_penalty != 1.0f)
    for (int32_t tok : seen_)
      if (tok >= 0 && tok < vocab) logits[tok] = logits[tok] > 0 ? logits[tok] / p_.repetition_penalty : logits[tok] * p_.repetition_penalty;
  if (p_.presence_penalty != 0.0f || p_.frequency_penalty != 0.0f)
    for (auto [tok, count] : output_counts_)
      if (tok >= 0 && tok < vocab) logits[tok] -= p_.presence_penalty + p_.frequency_penalty * float(count);

  int32_t chosen;
  if (p_.temperature <= 0.0f) {
    chosen = int32_t(std::max_element(logits, logits + vocab) - logits);
  } else {
    // Candidates sorted by logit; the filters cut the tail, then one draw.
    cand_.clear();
    for (int64_t i = 0; i < vocab; ++i) cand_.push_back({logits[i], int32_t(i)});
    size_t keep = cand_.size();
    if (p_.top_k > 0) keep = std::min(keep, size_t(p_.top_k));
    std::partial_sort(cand_.begin(), cand_.begin() + long(keep), cand_.end(), std::greater<>());
    cand_.resize(keep);
    const float mx = cand_[0].first;
    std::vector<double> prob(keep);
    double z = 0;
    for (size_t i = 0; i < keep; ++i) z += (prob[i] = std::exp(double(cand_[i].first - mx) / p_.temperature));
    size_t n = keep;
    if (p_.top_p < 1.0f) {
      double acc = 0;
      for (size_t i = 0; i < keep; ++i) {
        acc += prob[i] / z;
        if (acc >= p_.top_p) {
          n = i + 1;
          break;
        }
      }
    }
    if (p_.min_p > 0.0f) {
      const double floor = p_.min_p * prob[0];
      size_t m = 1;
      while (m < n && prob[m] >= floor) ++m;
      n = m;
    }
    double total = 0;
    for (size_t i = 0; i < n; ++i) total += prob[i];
    double r = std::uniform_real_distribution<double>(0.0, total)(rng_);
    chosen = cand_[n - 1].second;
    for (size_t i = 0; i < n; ++i) {
      if ((r -= prob[i]) < 0) {
        chosen = cand_[i].second;
        break;
      }
    }
  }
  if (chosen_logprob) *chosen_logprob = float(raw[size_t(chosen)] - log_z);
  return chosen;
}

}  // namespace a3b
