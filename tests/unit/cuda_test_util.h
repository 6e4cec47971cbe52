// Helpers of the CUDA tests: skipping without a GPU, random host weights of any shape, greedy
// comparison that tolerates flips only at near-ties of the reference.
#pragma once
#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cuda/cuda_model.h"
#include "model/presets.h"
#include "model/weights.h"
#include "test_util.h"

#define A3B_REQUIRE_GPU()                                             \
  do {                                                                \
    if (::a3b::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA GPU"; \
  } while (0)

namespace a3b::test {

// bf16 logits tolerance of the GPU against the float32 CPU engine: max|Δ| / max|ref|. The prefill
// path rounds activations entering matrix products to bf16 (relative 2^-9 each), over 8 layers.
constexpr double kGpuTol = 2e-2;


// Gap between the largest logit and the logit of `tok` in the reference row.
inline double gap_to(const float* ref, int64_t n, int32_t tok) { return double(ref[argmax(ref, n)] - ref[tok]); }

inline double max_abs(const float* x, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; ++i) m = std::max(m, double(std::fabs(x[i])));
  return m;
}

// Random weights of config c held in memory (bf16 matrices, float small parameters).
inline ModelWeights random_weights(const ModelConfig& c, uint32_t seed, float gain = 1.0f) {
  std::mt19937 rng(seed);
  ModelWeights w;
  w.config = c;
  auto matrix = [&](int64_t rows, int64_t cols, float scale) {
    auto data = std::make_shared<std::vector<uint16_t>>(size_t(rows * cols));
    std::uniform_real_distribution<float> u(-scale, scale);
    for (auto& x : *data) x = f32_to_bf16(u(rng));
    w.storage.push_back(data);
    return Matrix{DType::BF16, rows, cols, data->data()};
  };
  auto floats = [&](int64_t n, float lo, float hi) {
    std::uniform_real_distribution<float> u(lo, hi);
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = u(rng);
    return v;
  };
  const int64_t H = c.hidden;
  const float s = gain * std::sqrt(3.0f / float(H));
  w.embed = matrix(c.vocab_size, H, 1.0f);
  w.lm_head = matrix(c.vocab_size, H, s);
  w.final_norm = floats(H, 0.8f, 1.2f);
  for (LayerKind kind : c.layers) {
    LayerWeights L;
    L.kind = kind;
    L.input_norm = floats(H, 0.8f, 1.2f);
    L.post_norm = floats(H, 0.8f, 1.2f);
    if (kind == LayerKind::Attention) {
      const int64_t D = c.head_dim;
      L.attn.q = matrix(2 * c.n_heads * D, H, s);
      L.attn.k = matrix(c.n_kv_heads * D, H, s);
      L.attn.v = matrix(c.n_kv_heads * D, H, s);
      L.attn.o = matrix(H, c.n_heads * D, gain * std::sqrt(3.0f / float(c.n_heads * D)));
      L.attn.q_norm = floats(D, 0.8f, 1.2f);
      L.attn.k_norm = floats(D, 0.8f, 1.2f);
    } else {
      L.deltanet.qkv = matrix(c.conv_dim(), H, s);
      L.deltanet.z = matrix(c.lin_value_dim(), H, s);
      L.deltanet.b = matrix(c.lin_v_heads, H, s);
      L.deltanet.a = matrix(c.lin_v_heads, H, s);
      L.deltanet.out = matrix(H, c.lin_value_dim(), gain * std::sqrt(3.0f / float(c.lin_value_dim())));
      L.deltanet.conv = floats(c.conv_dim() * c.conv_kernel, -0.5f, 0.5f);
      L.deltanet.A = floats(c.lin_v_heads, -4.0f, -0.5f);
      L.deltanet.dt_bias = floats(c.lin_v_heads, -1.0f, 1.0f);
      L.deltanet.norm = floats(c.lin_v_dim, 0.8f, 1.2f);
    }
    L.moe.router = matrix(c.n_experts, H, s);
    for (int e = 0; e < c.n_experts; ++e)
      L.moe.experts.push_back({matrix(c.expert_inter, H, s), matrix(c.expert_inter, H, s),
                               matrix(H, c.expert_inter, gain * std::sqrt(3.0f / float(c.expert_inter)))});
    if (c.shared_inter > 0) {
      L.moe.shared = {matrix(c.shared_inter, H, s), matrix(c.shared_inter, H, s),
                      matrix(H, c.shared_inter, gain * std::sqrt(3.0f / float(c.shared_inter)))};
      L.moe.shared_gate = matrix(1, H, s);
    }
    w.layers.push_back(std::move(L));
  }
  return w;
}

// The real model's attention and DeltaNet head shapes (head_dim 256, dk = dv = 128), few heads,
// a narrow hidden size and few experts: the CPU engine runs it in seconds.
inline ModelConfig mid_config() {
  ModelConfig c = preset_config("qwen3.6-35b-a3b");
  c.vocab_size = 512;
  c.hidden = 256;
  c = with_layers(c, 4);  // DeltaNet ×3, attention
  c.n_heads = 4;
  c.lin_k_heads = 2;
  c.lin_v_heads = 4;
  c.n_experts = 16;
  c.n_experts_used = 4;
  c.expert_inter = 64;
  c.shared_inter = 96;
  c.max_positions = 4096;
  validate_config(c, "mid_config");
  return c;
}

}  // namespace a3b::test
