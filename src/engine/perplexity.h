// Perplexity of a token stream, computed the way models/default's goldens were: non-overlapping
// windows, each run from an empty state, float64 log-softmax, the first token of a window never
// predicted. Same numbers as transformers for the same ids (see models/default/README.md).
#pragma once
#include <cstdint>
#include <functional>
#include <span>

#include "model/model.h"

namespace a3b {

struct PerplexityResult {
  double mean_nll = 0;       // natural log, per predicted token
  double perplexity = 0;     // exp(mean_nll)
  int64_t predicted = 0;     // tokens whose probability entered the mean
  int64_t top1_correct = 0;  // predictions whose argmax was the next token
  int64_t windows = 0;
};

// Windows shorter than 2 tokens are dropped. `progress(done_windows, total_windows)` may be empty.
PerplexityResult perplexity(Model& model, std::span<const int32_t> ids, int64_t window,
                            const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace a3b
