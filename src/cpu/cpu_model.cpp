#include "cpu/cpu_model.h"

#include "core/error.h"
#include "cpu/matmul.h"
#include "cpu/ops.h"

namespace a3b {

CpuModel::CpuModel(ModelWeights weights, int n_threads)
    : w_(std::move(weights)), pool_(n_threads), rope_(make_rope_table(w_.config.rope)) {
  int n_attn = 0, n_delta = 0;
  for (LayerKind k : w_.config.layers) slot_.push_back(k == LayerKind::Attention ? n_attn++ : n_delta++);
}

std::string CpuModel::backend() const { return std::string("cpu-") + cpu_isa(); }

std::unique_ptr<SequenceState> CpuModel::new_sequence() {
  const ModelConfig& c = w_.config;
  auto s = std::make_unique<CpuSequence>();
  s->kv.resize(size_t(c.n_attention_layers()));
  s->deltanet.resize(size_t(c.n_deltanet_layers()));
  for (auto& d : s->deltanet) {
    d.conv.assign(size_t((c.conv_kernel - 1) * c.conv_dim()), 0.0f);
    d.S.assign(size_t(c.lin_v_heads) * c.lin_k_dim * c.lin_v_dim, 0.0f);
  }
  return s;
}

std::unique_ptr<SequenceState> CpuModel::clone_sequence(const SequenceState& s) {
  auto* cpu = dynamic_cast<const CpuSequence*>(&s);
  if (!cpu) fail("clone_sequence: sequence state does not belong to the CPU backend");
  return std::make_unique<CpuSequence>(*cpu);
}

void CpuModel::forward(std::span<const BatchItem> batch, float* logits) {
  const ModelConfig& c = w_.config;
  const int64_t H = c.hidden;
  std::vector<SeqRows> seqs;
  int64_t T = 0;
  for (auto& item : batch) {
    auto* seq = dynamic_cast<CpuSequence*>(item.seq);
    if (!seq) fail("forward: sequence state does not belong to the CPU backend");
    for (int32_t tok : item.tokens)
      if (tok < 0 || tok >= c.vocab_size) fail("token id ", tok, " is outside the vocabulary (0..", c.vocab_size - 1, ")");
    if (item.tokens.empty()) continue;
    seqs.push_back({seq, T, int64_t(item.tokens.size()), seq->n_past});
    T += int64_t(item.tokens.size());
  }

  // Embedding rows, widened to float.
  std::vector<float> h(size_t(T * H)), x(size_t(T * H)), y(size_t(T * H));
  {
    int64_t row = 0;
    for (auto& item : batch)
      for (int32_t tok : item.tokens) to_f32(w_.embed.dtype, w_.embed.row(tok), &h[size_t(row++ * H)], size_t(H));
  }

  for (int l = 0; l < c.n_layers; ++l) {
    const LayerWeights& L = w_.layers[size_t(l)];
    for (int64_t t = 0; t < T; ++t) ops::rms_norm(&h[t * H], L.input_norm.data(), H, c.rms_eps, &x[t * H]);
    if (L.kind == LayerKind::Attention)
      attention_forward(L.attn, c, rope_, slot_[l], seqs, x.data(), T, y.data(), pool_);
    else
      deltanet_forward(L.deltanet, c, slot_[l], options.chunked_deltanet, seqs, x.data(), T, y.data(), pool_);
    for (int64_t i = 0; i < T * H; ++i) h[i] += y[i];
    for (int64_t t = 0; t < T; ++t) ops::rms_norm(&h[t * H], L.post_norm.data(), H, c.rms_eps, &x[t * H]);
    moe_forward(L.moe, c, x.data(), T, y.data(), pool_);
    for (int64_t i = 0; i < T * H; ++i) h[i] += y[i];
  }

  for (auto& s : seqs) s.seq->n_past += s.n;

  // Final norm and lm_head for the rows that want logits.
  std::vector<float> out_rows;
  size_t idx = 0;
  for (auto& item : batch) {
    if (item.tokens.empty()) continue;
    const SeqRows& s = seqs[idx++];
    int64_t first = item.all_logits ? s.row0 : s.row0 + s.n - 1;
    for (int64_t r = first; r < s.row0 + s.n; ++r) {
      out_rows.resize(out_rows.size() + size_t(H));
      ops::rms_norm(&h[r * H], w_.final_norm.data(), H, c.rms_eps, &out_rows[out_rows.size() - size_t(H)]);
    }
  }
  matmul(w_.lm_head, out_rows.data(), int64_t(out_rows.size()) / H, logits, pool_);
}

}  // namespace a3b
