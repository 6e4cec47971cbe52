// The Qwen3.5/3.6-MoE forward on the CPU in float32: the reference engine every other backend
// is checked against. Weights stay in their stored type and are widened inside the kernels.
#pragma once
#include <memory>
#include <vector>

#include "core/threads.h"
#include "model/model.h"
#include "model/rope.h"
#include "model/weights.h"

namespace a3b {

struct CpuSequence : SequenceState {
  struct KvCache {
    std::vector<float> k, v;  // [position][kv_heads * head_dim]: post-norm post-RoPE keys, raw values
  };
  struct DeltaNetState {
    std::vector<float> conv;  // [kernel - 1][conv_dim]: the last pre-conv qkv rows, oldest first
    std::vector<float> S;     // [v_heads][k_dim][v_dim]: the recurrent state
  };
  std::vector<KvCache> kv;             // one per attention layer
  std::vector<DeltaNetState> deltanet; // one per DeltaNet layer

  int64_t bytes() const override {
    size_t n = 0;
    for (auto& c : kv) n += c.k.capacity() + c.v.capacity();
    for (auto& d : deltanet) n += d.conv.capacity() + d.S.capacity();
    return int64_t(n * sizeof(float));
  }
};

// The rows of the batch that belong to one sequence.
struct SeqRows {
  CpuSequence* seq;
  int64_t row0, n;  // rows [row0, row0 + n) of the batch's activations
  int64_t pos0;     // position of the first of them
};

class CpuModel : public Model {
 public:
  CpuModel(ModelWeights weights, int n_threads = 0);

  const ModelConfig& config() const override { return w_.config; }
  std::string backend() const override;
  std::unique_ptr<SequenceState> new_sequence() override;
  std::unique_ptr<SequenceState> clone_sequence(const SequenceState& s) override;
  void forward(std::span<const BatchItem> batch, float* logits) override;

  const ModelWeights& weights() const { return w_; }
  ThreadPool& pool() { return pool_; }

 private:
  ModelWeights w_;
  ThreadPool pool_;
  RopeTable rope_;
  std::vector<int> slot_;  // layer → index into its kind's state vector
};

// One layer kind each (cpu/attention.cpp, cpu/deltanet.cpp, cpu/moe.cpp). x and y are [T, hidden].
void attention_forward(const AttentionWeights& w, const ModelConfig& c, const RopeTable& rope, int slot,
                       std::span<const SeqRows> seqs, const float* x, int64_t T, float* y, ThreadPool& pool);
void deltanet_forward(const DeltaNetWeights& w, const ModelConfig& c, int slot, bool chunked,
                      std::span<const SeqRows> seqs, const float* x, int64_t T, float* y, ThreadPool& pool);
void moe_forward(const MoeWeights& w, const ModelConfig& c, const float* x, int64_t T, float* y, ThreadPool& pool);

}  // namespace a3b
