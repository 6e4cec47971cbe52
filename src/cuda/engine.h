// Inside the CUDA backend: the device context, the step workspace, sequences' GPU state, and
// the step plan that the forward turns into kernels (cuda/forward.cpp).
#pragma once
#include <map>
#include <memory>
#include <span>
#include <tuple>
#include <vector>

#include "core/threads.h"
#include "cuda/context.h"
#include "cuda/cuda_model.h"
#include "cuda/gpu_weights.h"
#include "cuda/kernels.h"

namespace a3b::cuda {

constexpr int kLongSeqTokens = 16;  // a sequence with this many tokens in a step uses flash attention and chunked DeltaNet
constexpr int kMaxLogitRows = 256;  // logits rows produced per lm_head launch
constexpr int kMaxShortTokens = 256;  // tokens per split-K attention launch

struct Engine;

struct CudaSequence : SequenceState {
  std::shared_ptr<Engine> eng;
  float* gdn = nullptr;   // recurrent states, then conv rings (one allocation)
  bf16* kv = nullptr;     // [n_attn][2][nkv][kv_cap][D]
  int kv_cap = 0;
  size_t gdn_bytes = 0, kv_bytes = 0;
  ~CudaSequence() override;
  int64_t bytes() const override { return int64_t(gdn_bytes + kv_bytes); }
};

// Device buffers of a step of up to `tokens` tokens.
struct Workspace {
  int tokens = 0;
  float* h = nullptr;         // [T][H] residual stream
  float* x = nullptr;         // [T][H] normalised input of the MoE (small path)
  bf16* xb = nullptr;         // [T][H] normalised input in bf16 (GEMM path)
  float* proj = nullptr;      // [T][max(in_proj, qkv rows)]
  float* u = nullptr;         // [T][conv_dim]
  float* o = nullptr;         // [T][max(value_dim, nq D)]
  bf16* ob = nullptr;         // [T][max(value_dim, nq D)]
  float* q = nullptr;         // [T][nq D]
  float* part_o = nullptr;    // [kMaxShortTokens][nq][64][D]
  float* part_ml = nullptr;   // [kMaxShortTokens][nq][64][2]
  float* router = nullptr;    // [T][E + 1]
  int* topk_id = nullptr;     // [T][k]
  float* topk_w = nullptr;
  float* act = nullptr;       // [kGemvMaxTokens][k + 1][max(I, Is)]
  int* counts = nullptr, * seg = nullptr, * tiles = nullptr, * fill = nullptr;
  int* counter = nullptr;     // the router's last-block ticket, 0 between launches
  int* perm_tok = nullptr, * slot_of = nullptr;  // [T k]
  bf16* act_b = nullptr;      // [T k][I]
  bf16* sh_act_b = nullptr;   // [T][Is]
  float* y_exp = nullptr;     // [T k][H]
  float* y_sh = nullptr;      // [T][H]
  float* gdn_chunks = nullptr;  // [gdn_chunk_slots(T)][nv][kGdnChunkRecord] chunked DeltaNet
  bf16* deq = nullptr;        // quantized models: weights dequantized for a tensor-core product
  int64_t deq_elems = 0;
  float* logits = nullptr;    // [kMaxLogitRows][V]
  float* logits_host = nullptr;  // pinned, same shape
  void* meta_dev = nullptr;
  void* meta_host = nullptr;     // pinned
  size_t meta_bytes = 0;
  std::vector<void*> device_allocs;
};

// One piece of a batch item inside a step.
struct Piece {
  CudaSequence* seq;
  const int32_t* tokens;
  int n;
  int logit_rows;  // rows of logits it produces (all its tokens, its last, or none)
};

struct Plan {
  int T = 0, S = 0, R = 0;
  bool small = false;   // ≤ kGemvMaxTokens tokens: GEMV kernels, float32 activations
  bool decode = false;  // every sequence one token: fused DeltaNet decode, graph replay
  int n_chunks = 1, chunk_len = 64;
  size_t meta_bytes = 0;
  StepMeta m;
};

struct Engine {
  explicit Engine(const CudaOptions& o);
  ~Engine();

  CudaOptions opt;
  cudaDeviceProp prop = {};
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  void* blas_workspace = nullptr;
  Profiler prof;
  bool profiling = false;
  std::unique_ptr<GpuWeights> w;
  Workspace ws;
  using GraphKey = std::tuple<int, int, int, bool>;  // tokens, attention chunks, chunk length, copy logits
  std::map<GraphKey, cudaGraphExec_t> graphs;
  std::map<GraphKey, int> graph_seen;
  std::unique_ptr<ThreadPool> copy_pool;  // started by the first large logits copy
  bool dense_copies = false;              // a quantized model's dense matrices have bf16 copies

  Ctx ctx() const;
  void keep_dense_copies();  // after the weights: CudaOptions::dense_bf16_copies
  std::unique_ptr<SequenceState> new_sequence(std::shared_ptr<Engine> self);
  std::unique_ptr<SequenceState> clone_sequence(std::shared_ptr<Engine> self, const CudaSequence& src);
  void forward(std::span<const BatchItem> batch, float* logits, const ForwardOptions& fo);

 private:
  void logits_to_caller(float* dst, size_t n);
  float* run_step(std::span<const Piece> pieces, float* logits, const ForwardOptions& fo);
  void ensure_workspace(int tokens);
  void free_workspace();
  void clear_graphs();
  void grow_kv(CudaSequence& s, int needed);
  Plan plan_step(std::span<const Piece> pieces, const ForwardOptions& fo);

  // cuda/forward.cpp: the kernels of one step.
  void enqueue_layers(const Plan& p, const Ctx& c);
  void dense(const Plan& p, const Ctx& c, const bf16* x, int ldx, int T, const GpuMatrix& w, float* y, int ldy,
             bool accumulate, const char* name);
  void project_normed(const Plan& p, const Ctx& c, const GpuParts& W, const float* norm_w, float* y, int ldy,
                      float* x_out, const char* name);
  void enqueue_lm_head(const Plan& p, const Ctx& c, int r0, int n);
  void deltanet_layer(const Plan& p, const Ctx& c, const GpuLayer& L);
  GemvArgs on_normed_h(int ntok, const float* norm_w) const;
  void attention_layer(const Plan& p, const Ctx& c, const GpuLayer& L);
  void moe_layer(const Plan& p, const Ctx& c, const GpuLayer& L);
};

}  // namespace a3b::cuda
