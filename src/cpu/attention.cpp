// Gated full attention (architecture.md §6): per-head interleaved query|gate projection, q/k
// zero-centred RMSNorm, partial NeoX RoPE, GQA over the sequence's KV cache, sigmoid output gate.
#include <algorithm>
#include <cmath>

#include "cpu/cpu_model.h"
#include "cpu/matmul.h"
#include "cpu/ops.h"

namespace a3b {

void attention_forward(const AttentionWeights& w, const ModelConfig& c, const RopeTable& rope, int slot,
                       std::span<const SeqRows> seqs, const float* x, int64_t T, float* y, ThreadPool& pool) {
  const int nq = c.n_heads, nkv = c.n_kv_heads, D = c.head_dim, group = nq / nkv;
  const int64_t qg_width = 2 * int64_t(nq) * D, kv_width = int64_t(nkv) * D;
  std::vector<float> qg(size_t(T * qg_width)), k(size_t(T * kv_width)), v(size_t(T * kv_width));
  matmul(w.q, x, T, qg.data(), pool);
  matmul(w.k, x, T, k.data(), pool);
  matmul(w.v, x, T, v.data(), pool);

  // Norms and rotation in place; queries stay interleaved with their gates.
  for (const SeqRows& s : seqs) {
    for (int64_t i = 0; i < s.n; ++i) {
      const int64_t t = s.row0 + i, pos = s.pos0 + i;
      for (int h = 0; h < nq; ++h) {
        float* q = &qg[size_t(t * qg_width + int64_t(h) * 2 * D)];
        ops::rms_norm(q, w.q_norm.data(), D, c.rms_eps, q);
        apply_rope(q, c.rope.rotary_dim, rope, pos);
      }
      for (int h = 0; h < nkv; ++h) {
        float* kh = &k[size_t(t * kv_width + int64_t(h) * D)];
        ops::rms_norm(kh, w.k_norm.data(), D, c.rms_eps, kh);
        apply_rope(kh, c.rope.rotary_dim, rope, pos);
      }
    }
    auto& cache = s.seq->kv[size_t(slot)];
    cache.k.insert(cache.k.end(), &k[size_t(s.row0 * kv_width)], &k[size_t((s.row0 + s.n) * kv_width)]);
    cache.v.insert(cache.v.end(), &v[size_t(s.row0 * kv_width)], &v[size_t((s.row0 + s.n) * kv_width)]);
  }

  // One work item per (token, head): causal softmax over the cache, then the gate.
  std::vector<float> o(size_t(T * nq * D));
  std::vector<std::pair<const SeqRows*, int64_t>> rows;  // token → its sequence and index
  for (const SeqRows& s : seqs)
    for (int64_t i = 0; i < s.n; ++i) rows.push_back({&s, i});
  const float scale = 1.0f / std::sqrt(float(D));
  pool.for_each(T * nq, [&](int64_t job) {
    const int64_t r = job / nq;
    const int h = int(job % nq), g = h / group;
    const SeqRows& s = *rows[size_t(r)].first;
    const int64_t t = s.row0 + rows[size_t(r)].second, n_ctx = s.pos0 + rows[size_t(r)].second + 1;
    const auto& cache = s.seq->kv[size_t(slot)];
    const float* q = &qg[size_t(t * qg_width + int64_t(h) * 2 * D)];
    std::vector<float> p(static_cast<size_t>(n_ctx));
    float mx = -INFINITY;
    for (int64_t j = 0; j < n_ctx; ++j) {
      p[size_t(j)] = ops::dot(q, &cache.k[size_t(j * kv_width + int64_t(g) * D)], D) * scale;
      mx = std::max(mx, p[size_t(j)]);
    }
    float sum = 0;
    for (float& e : p) sum += (e = std::exp(e - mx));
    float* out = &o[size_t(t * nq * D + int64_t(h) * D)];
    std::fill(out, out + D, 0.0f);
    for (int64_t j = 0; j < n_ctx; ++j) ops::axpy(p[size_t(j)] / sum, &cache.v[size_t(j * kv_width + int64_t(g) * D)], out, D);
    const float* gate = q + D;
    for (int d = 0; d < D; ++d) out[d] *= ops::sigmoid(gate[d]);
  });
  matmul(w.o, o.data(), T, y, pool);
}

}  // namespace a3b
