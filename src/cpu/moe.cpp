// Sparse MoE (architecture.md §8): softmax router over all experts, top-k, renormalised weights,
// SwiGLU experts; plus the shared expert scaled by a sigmoid gate. Tokens are grouped by expert
// so that each expert's weights are read once per forward, however many tokens chose it.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "cpu/cpu_model.h"
#include "cpu/matmul.h"
#include "cpu/ops.h"

namespace a3b {
namespace {

// y[n, hidden] = down(silu(gate x) ⊙ up x) for n rows of x.
void swiglu(const ExpertWeights& e, const float* x, int64_t n, float* y, ThreadPool& pool) {
  const int64_t I = e.gate.rows;
  std::vector<float> g(size_t(n * I)), u(size_t(n * I));
  matmul(e.gate, x, n, g.data(), pool);
  matmul(e.up, x, n, u.data(), pool);
  for (size_t i = 0; i < g.size(); ++i) g[i] = ops::silu(g[i]) * u[i];
  matmul(e.down, g.data(), n, y, pool);
}

}  // namespace

void moe_forward(const MoeWeights& w, const ModelConfig& c, const float* x, int64_t T, float* y, ThreadPool& pool) {
  const int E = c.n_experts, k = c.n_experts_used;
  const int64_t H = c.hidden;
  std::vector<float> logits(size_t(T * E));
  matmul(w.router, x, T, logits.data(), pool);

  // Route: softmax over all experts, keep the k largest, renormalise them to sum to one.
  std::vector<std::vector<std::pair<int64_t, float>>> routed(static_cast<size_t>(E));  // expert → (token, weight)
  std::vector<int> order(static_cast<size_t>(E));
  for (int64_t t = 0; t < T; ++t) {
    float* l = &logits[size_t(t * E)];
    float mx = *std::max_element(l, l + E), sum = 0;
    for (int e = 0; e < E; ++e) sum += (l[e] = std::exp(l[e] - mx));
    for (int e = 0; e < E; ++e) l[e] /= sum;
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int a, int b) { return l[a] > l[b] || (l[a] == l[b] && a < b); });
    float top = 0;
    for (int j = 0; j < k; ++j) top += l[order[size_t(j)]];
    for (int j = 0; j < k; ++j) routed[size_t(order[size_t(j)])].push_back({t, l[order[size_t(j)]] / top});
  }

  std::fill(y, y + T * H, 0.0f);
  std::vector<float> xe, ye;
  for (int e = 0; e < E; ++e) {
    const auto& toks = routed[size_t(e)];
    if (toks.empty()) continue;
    const int64_t n = int64_t(toks.size());
    xe.resize(size_t(n * H));
    ye.resize(size_t(n * H));
    for (int64_t i = 0; i < n; ++i) std::copy_n(x + toks[size_t(i)].first * H, H, &xe[size_t(i * H)]);
    swiglu(w.experts[size_t(e)], xe.data(), n, ye.data(), pool);
    for (int64_t i = 0; i < n; ++i) ops::axpy(toks[size_t(i)].second, &ye[size_t(i * H)], y + toks[size_t(i)].first * H, H);
  }

  if (!w.shared.gate.empty()) {
    std::vector<float> ys(size_t(T * H)), gate(static_cast<size_t>(T));
    swiglu(w.shared, x, T, ys.data(), pool);
    matmul(w.shared_gate, x, T, gate.data(), pool);
    for (int64_t t = 0; t < T; ++t) ops::axpy(ops::sigmoid(gate[size_t(t)]), &ys[size_t(t * H)], y + t * H, H);
  }
}

}  // namespace a3b
