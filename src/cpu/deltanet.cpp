// Gated DeltaNet (architecture.md §7): causal depthwise conv + SiLU over q|k|v, l2-normed q and k,
// decay g = A·softplus(a + dt_bias), write strength β = σ(b), the delta rule on a dk×dv state per
// value head (value head h reads q/k head h / (nv/nk)), gated RMSNorm, out_proj.
// Two exact forms of the recurrence: token by token (decode) and chunks of 64 (prefill).
#include <cmath>
#include <cstring>

#include "cpu/cpu_model.h"
#include "cpu/matmul.h"
#include "cpu/ops.h"

namespace a3b {
namespace {

constexpr int kChunk = 64;

// Per-head inputs for n consecutive tokens of one sequence; rows are strided views into the batch.
struct HeadInputs {
  const float* q; const float* k; const float* v;  // row r at q + r * stride_qk, v + r * stride_v
  int64_t stride_qk, stride_v;
  const float* beta; const float* g;               // row r at beta[r * stride_bg]
  int64_t stride_bg;
  float* o;                                         // row r at o + r * stride_v... of the output
  int64_t stride_o;
  int64_t n;
  int dk, dv;
};

// S_t = e^{g_t} (I − β_t k_t k_tᵀ) S_{t−1} + β_t k_t v_tᵀ;  o_t = S_tᵀ q_t.  S is [dk][dv].
void recurrent(const HeadInputs& in, float* S) {
  const int dk = in.dk, dv = in.dv;
  std::vector<float> m(static_cast<size_t>(dv));
  for (int64_t t = 0; t < in.n; ++t) {
    const float* q = in.q + t * in.stride_qk;
    const float* k = in.k + t * in.stride_qk;
    const float* v = in.v + t * in.stride_v;
    const float beta = in.beta[t * in.stride_bg], decay = std::exp(in.g[t * in.stride_bg]);
    std::fill(m.begin(), m.end(), 0.0f);
    for (int i = 0; i < dk; ++i) {
      float* row = S + size_t(i) * dv;
      for (int j = 0; j < dv; ++j) row[j] *= decay;
      ops::axpy(k[i], row, m.data(), dv);
    }
    for (int j = 0; j < dv; ++j) m[size_t(j)] = beta * (v[j] - m[size_t(j)]);  // m becomes δ
    float* o = in.o + t * in.stride_o;
    std::fill(o, o + dv, 0.0f);
    for (int i = 0; i < dk; ++i) {
      float* row = S + size_t(i) * dv;
      ops::axpy(k[i], m.data(), row, dv);
      ops::axpy(q[i], row, o, dv);
    }
  }
}

// The chunked form (architecture.md §7.6) for one chunk of C ≤ 64 tokens, carrying S.
void chunk(const HeadInputs& in, int64_t t0, int C, float* S) {
  const int dk = in.dk, dv = in.dv;
  auto Q = [&](int r) { return in.q + (t0 + r) * in.stride_qk; };
  auto K = [&](int r) { return in.k + (t0 + r) * in.stride_qk; };
  auto V = [&](int r) { return in.v + (t0 + r) * in.stride_v; };
  std::vector<float> gamma(static_cast<size_t>(C)), beta(static_cast<size_t>(C));
  float acc = 0;
  for (int r = 0; r < C; ++r) {
    acc += in.g[(t0 + r) * in.stride_bg];
    gamma[size_t(r)] = acc;
    beta[size_t(r)] = in.beta[(t0 + r) * in.stride_bg];
  }
  // A_ij = β_i (k_i·k_j) e^{γ_i−γ_j} for j < i; solve (I + A) [U | W] = [diag(β) V | diag(β e^γ) K].
  std::vector<float> A(size_t(C * C), 0.0f), U(size_t(C * dv)), W(size_t(C * dk));
  for (int i = 0; i < C; ++i)
    for (int j = 0; j < i; ++j)
      A[size_t(i * C + j)] = beta[size_t(i)] * ops::dot(K(i), K(j), dk) * std::exp(gamma[size_t(i)] - gamma[size_t(j)]);
  for (int i = 0; i < C; ++i) {
    float* u = &U[size_t(i * dv)];
    float* w = &W[size_t(i * dk)];
    const float bi = beta[size_t(i)], bge = bi * std::exp(gamma[size_t(i)]);
    for (int d = 0; d < dv; ++d) u[d] = bi * V(i)[d];
    for (int d = 0; d < dk; ++d) w[d] = bge * K(i)[d];
    for (int j = 0; j < i; ++j) {
      const float a = A[size_t(i * C + j)];
      ops::axpy(-a, &U[size_t(j * dv)], u, dv);
      ops::axpy(-a, &W[size_t(j * dk)], w, dk);
    }
  }
  // Vn = U − W S: the values each token really adds once the state's prediction is removed.
  std::vector<float> Vn(U);
  for (int i = 0; i < C; ++i)
    for (int d = 0; d < dk; ++d) ops::axpy(-W[size_t(i * dk + d)], S + size_t(d) * dv, &Vn[size_t(i * dv)], dv);
  // O_i = e^{γ_i} q_iᵀ S + Σ_{j≤i} (q_i·k_j) e^{γ_i−γ_j} Vn_j
  for (int i = 0; i < C; ++i) {
    float* o = in.o + (t0 + i) * in.stride_o;
    std::fill(o, o + dv, 0.0f);
    const float eg = std::exp(gamma[size_t(i)]);
    for (int d = 0; d < dk; ++d) ops::axpy(eg * Q(i)[d], S + size_t(d) * dv, o, dv);
    for (int j = 0; j <= i; ++j)
      ops::axpy(ops::dot(Q(i), K(j), dk) * std::exp(gamma[size_t(i)] - gamma[size_t(j)]), &Vn[size_t(j * dv)], o, dv);
  }
  // S ← e^{γ_C} S + Σ_r e^{γ_C−γ_r} k_r Vn_rᵀ
  const float last = gamma[size_t(C - 1)], decay = std::exp(last);
  for (int d = 0; d < dk; ++d) {
    float* row = S + size_t(d) * dv;
    for (int j = 0; j < dv; ++j) row[j] *= decay;
    for (int r = 0; r < C; ++r) ops::axpy(std::exp(last - gamma[size_t(r)]) * K(r)[d], &Vn[size_t(r * dv)], row, dv);
  }
}

}  // namespace

void deltanet_forward(const DeltaNetWeights& w, const ModelConfig& c, int slot, bool chunked,
                      std::span<const SeqRows> seqs, const float* x, int64_t T, float* y, ThreadPool& pool) {
  const int nk = c.lin_k_heads, nv = c.lin_v_heads, dk = c.lin_k_dim, dv = c.lin_v_dim, Kc = c.conv_kernel;
  const int64_t C = c.conv_dim(), key_dim = c.lin_key_dim(), value_dim = c.lin_value_dim();
  std::vector<float> mixed(size_t(T * C)), z(size_t(T * value_dim)), b(size_t(T * nv)), a(size_t(T * nv));
  matmul(w.qkv, x, T, mixed.data(), pool);
  matmul(w.z, x, T, z.data(), pool);
  matmul(w.b, x, T, b.data(), pool);
  matmul(w.a, x, T, a.data(), pool);

  // Causal depthwise conv over [state rows | new rows], then SiLU; the state keeps the last K-1 rows.
  std::vector<float> u(size_t(T * C));
  for (const SeqRows& s : seqs) {
    auto& st = s.seq->deltanet[size_t(slot)];
    std::vector<float> window(size_t((Kc - 1 + s.n) * C));
    std::memcpy(window.data(), st.conv.data(), st.conv.size() * 4);
    std::memcpy(&window[size_t((Kc - 1) * C)], &mixed[size_t(s.row0 * C)], size_t(s.n * C) * 4);
    pool.for_range(C, 64, [&](int64_t c0, int64_t c1) {
      for (int64_t i = 0; i < s.n; ++i)
        for (int64_t ch = c0; ch < c1; ++ch) {
          float acc = 0;
          for (int j = 0; j < Kc; ++j) acc += w.conv[size_t(ch * Kc + j)] * window[size_t((i + j) * C + ch)];
          u[size_t((s.row0 + i) * C + ch)] = ops::silu(acc);
        }
    });
    std::memcpy(st.conv.data(), &window[size_t(s.n * C)], st.conv.size() * 4);
  }

  // q, k: l2-normalised per head, q scaled by 1/√dk; β = σ(b); g = A · softplus(a + dt_bias).
  const float q_scale = 1.0f / std::sqrt(float(dk));
  for (int64_t t = 0; t < T; ++t) {
    float* row = &u[size_t(t * C)];
    for (int h = 0; h < nk; ++h) {
      float* q = row + int64_t(h) * dk;
      ops::l2_norm(q, dk, 1e-6f);
      for (int d = 0; d < dk; ++d) q[d] *= q_scale;
      ops::l2_norm(row + key_dim + int64_t(h) * dk, dk, 1e-6f);
    }
    for (int h = 0; h < nv; ++h) {
      b[size_t(t * nv + h)] = ops::sigmoid(b[size_t(t * nv + h)]);
      a[size_t(t * nv + h)] = w.A[size_t(h)] * ops::softplus(a[size_t(t * nv + h)] + w.dt_bias[size_t(h)]);
    }
  }

  // The recurrence, one job per (sequence, value head).
  std::vector<float> o(size_t(T * value_dim));
  const int ratio = nv / nk;
  pool.for_each(int64_t(seqs.size()) * nv, [&](int64_t job) {
    const SeqRows& s = seqs[size_t(job / nv)];
    const int h = int(job % nv), hk = w.v_heads_tiled ? h % nk : h / ratio;
    HeadInputs in;
    in.q = &u[size_t(s.row0 * C + int64_t(hk) * dk)];
    in.k = in.q + key_dim;
    in.v = &u[size_t(s.row0 * C + 2 * key_dim + int64_t(h) * dv)];
    in.stride_qk = in.stride_v = C;
    in.beta = &b[size_t(s.row0 * nv + h)];
    in.g = &a[size_t(s.row0 * nv + h)];
    in.stride_bg = nv;
    in.o = &o[size_t(s.row0 * value_dim + int64_t(h) * dv)];
    in.stride_o = value_dim;
    in.n = s.n;
    in.dk = dk;
    in.dv = dv;
    float* S = &s.seq->deltanet[size_t(slot)].S[size_t(h) * dk * dv];
    if (chunked && s.n > 1) {
      for (int64_t t0 = 0; t0 < s.n; t0 += kChunk) chunk(in, t0, int(std::min<int64_t>(kChunk, s.n - t0)), S);
    } else {
      recurrent(in, S);
    }
  });

  // Gated RMSNorm per value head (plain weight, norm before gate), then out_proj.
  for (int64_t t = 0; t < T; ++t)
    for (int h = 0; h < nv; ++h) {
      float* oh = &o[size_t(t * value_dim + int64_t(h) * dv)];
      const float* zh = &z[size_t(t * value_dim + int64_t(h) * dv)];
      ops::rms_norm(oh, w.norm.data(), dv, c.rms_eps, oh);
      for (int d = 0; d < dv; ++d) oh[d] *= ops::silu(zh[d]);
    }
  matmul(w.out, o.data(), T, y, pool);
}

}  // namespace a3b
