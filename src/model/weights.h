// The weights of a Qwen3.5/3.6-MoE text model as views: large matrices point into mapped files
// in their stored type; small per-channel parameters are converted to float once at load, with
// the model's conventions applied (zero-centred norms stored as 1+w, A as -exp(A_log)).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/dtype.h"
#include "model/config.h"

namespace a3b {

// Row-major [rows, cols]; y = W x reads one row per output. Never owns its data. Quantized rows are
// whole blocks (cols is a multiple of the block size).
struct Matrix {
  DType dtype = DType::F32;
  int64_t rows = 0, cols = 0;
  const void* data = nullptr;

  size_t row_bytes() const { return dtype_row_bytes(dtype, cols); }
  const void* row(int64_t r) const { return static_cast<const uint8_t*>(data) + r * row_bytes(); }
  bool empty() const { return data == nullptr; }
};

struct AttentionWeights {
  Matrix q;                      // [n_heads * 2 * head_dim, hidden]: per head query rows, then gate rows
  Matrix k, v;                   // [n_kv_heads * head_dim, hidden]
  Matrix o;                      // [hidden, n_heads * head_dim]
  std::vector<float> q_norm, k_norm;  // [head_dim], 1 + w
};

struct DeltaNetWeights {
  Matrix qkv;                    // [2 * key_dim + value_dim, hidden]: q | k | v
  Matrix z;                      // [value_dim, hidden]
  Matrix b, a;                   // [v_heads, hidden]
  Matrix out;                    // [hidden, value_dim]
  std::vector<float> conv;       // [conv_dim, kernel]; tap kernel-1 multiplies the current token
  std::vector<float> A;          // [v_heads], -exp(A_log)
  std::vector<float> dt_bias;    // [v_heads]
  std::vector<float> norm;       // [v_dim], plain weight (not 1 + w)
  // Value head h reads key/query head h / (v_heads / k_heads) (HF order, false) or h % k_heads
  // (true: llama.cpp's GGUF order, whose V rows, z rows, a/b/A/dt_bias and out columns are tiled).
  bool v_heads_tiled = false;
};

struct ExpertWeights {
  Matrix gate, up;               // [inter, hidden]
  Matrix down;                   // [hidden, inter]
};

struct MoeWeights {
  Matrix router;                 // [n_experts, hidden]
  std::vector<ExpertWeights> experts;
  ExpertWeights shared;
  Matrix shared_gate;            // [1, hidden]
};

struct LayerWeights {
  LayerKind kind = LayerKind::DeltaNet;
  std::vector<float> input_norm, post_norm;  // [hidden], 1 + w
  AttentionWeights attn;         // when kind == Attention
  DeltaNetWeights deltanet;      // when kind == DeltaNet
  MoeWeights moe;
};

struct ModelWeights {
  ModelConfig config;
  Matrix embed;                  // [vocab, hidden]
  Matrix lm_head;                // [vocab, hidden]
  std::vector<float> final_norm; // [hidden], 1 + w
  std::vector<LayerWeights> layers;
  std::vector<std::shared_ptr<const void>> storage;  // keeps the mapped files alive
};

}  // namespace a3b
