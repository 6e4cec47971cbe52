#include "engine/perplexity.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace a3b {

PerplexityResult perplexity(Model& model, std::span<const int32_t> ids, int64_t window,
                            const std::function<void(int64_t, int64_t)>& progress) {
  if (window < 2) fail("perplexity: the window must hold at least 2 tokens (got ", window, ")");
  const int64_t V = model.config().vocab_size, n = int64_t(ids.size());
  const int64_t total = (n + window - 1) / window;
  PerplexityResult r;
  double nll = 0;
  std::vector<float> logits;
  for (int64_t start = 0, w = 0; start < n; start += window, ++w) {
    std::span<const int32_t> span = ids.subspan(size_t(start), size_t(std::min(window, n - start)));
    if (span.size() < 2) continue;
    auto seq = model.new_sequence();
    logits.resize(span.size() * size_t(V));
    BatchItem item{seq.get(), span, /*all_logits=*/true};
    model.forward({&item, 1}, logits.data());
    for (size_t j = 0; j + 1 < span.size(); ++j) {
      const float* row = &logits[j * size_t(V)];
      const float* top = std::max_element(row, row + V);
      double sum = 0;
      for (int64_t v = 0; v < V; ++v) sum += std::exp(double(row[v]) - double(*top));
      const int32_t next = span[j + 1];
      if (next < 0 || next >= V) fail("perplexity: token id ", next, " is outside the vocabulary (", V, ")");
      nll += double(*top) + std::log(sum) - double(row[next]);
      r.top1_correct += (top - row) == next;
    }
    r.predicted += int64_t(span.size()) - 1;
    ++r.windows;
    if (progress) progress(w + 1, total);
  }
  if (r.predicted == 0) fail("perplexity: the text has fewer than 2 tokens");
  r.mean_nll = nll / double(r.predicted);
  r.perplexity = std::exp(r.mean_nll);
  return r;
}

}  // namespace a3b
