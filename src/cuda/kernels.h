// The kernels of the CUDA forward, as host-callable launchers with plain argument structs.
// Layouts: activations row-major [token][feature]; weights bf16 [out][in]; the residual stream
// and everything a projection reads in the batch-1 path are float32.
#pragma once
#include <cuda_bf16.h>

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"
#include "cuda/context.h"

namespace a3b::cuda {

using bf16 = __nv_bfloat16;

// Model dimensions as kernels see them.
struct Dims {
  int H = 0, V = 0;
  int E = 0, k = 0, I = 0, Is = 0;              // experts, used per token, expert and shared widths
  int nq = 0, nkv = 0, D = 0, rot = 0;           // attention
  int nk = 0, nv = 0, dk = 0, dv = 0, conv_k = 0;  // DeltaNet
  int key_dim = 0, value_dim = 0, conv_dim = 0;
  bool v_tiled = false;  // value head h reads key head h % nk (llama.cpp's GGUF order), else h / (nv / nk)
  float eps = 1e-6f;
};

// A weight matrix in GPU memory: bf16 [rows][cols], or rows of a GGUF quant type the kernels
// read (gpu_quant_supported) in the GPU layouts of quant.cuh. Rows are row_bytes apart.
struct GpuMatrix {
  DType type = DType::BF16;
  const uint8_t* data = nullptr;
  int64_t rows = 0;
  int cols = 0;
  size_t row_bytes = 0;
  const uint32_t* tables = nullptr;  // IQ2_XXS / IQ3_XXS / IQ3_S: gpu_grid_table(type)
  const bf16* bf16_copy = nullptr;   // quantized dense matrices: the same dequantized, if kept

  __host__ __device__ bool quantized() const { return type != DType::BF16; }
  __host__ __device__ const bf16* bf() const { return reinterpret_cast<const bf16*>(data); }
};

// Types the CUDA kernels read quantized; other GGUF types are converted to bf16 at upload.
bool gpu_quant_supported(DType t, int64_t cols);
size_t gpu_row_bytes(DType t, int64_t cols);
// The codebook of a grid type on the current device (uploaded once, kept for the process), else null.
const uint32_t* gpu_grid_table(DType t);
// One row from the file's layout to the GPU's (quant.cuh), host side; dst has gpu_row_bytes.
void gpu_pack_row(DType t, const void* src, int64_t cols, uint8_t* dst);

// One sequence of a step, as the kernels find its state.
struct SeqDesc {
  float* gdn;      // [n_gdn][nv][dk][dv] recurrent states
  float* ring;     // [n_gdn][conv_k][conv_dim] pre-conv rows of the last positions, slot = position % conv_k
  bf16* kv;        // [n_attn][2][nkv][kv_cap][D] post-RoPE keys, values
  int kv_cap;
  int row0, n, pos0;  // its rows in the step, position of the first
  int chunk0;         // chunked DeltaNet: its first slot in the chunk records (GdnArgs::chunks)
};

// Device pointers into a step's metadata, copied from the host before the step.
struct StepMeta {
  const int* tok_id = nullptr;     // [T]
  const int* tok_pos = nullptr;    // [T]
  const int* tok_seq = nullptr;    // [T]
  const SeqDesc* seqs = nullptr;   // [S]
  const int* logit_rows = nullptr; // [R]
  const int* short_tok = nullptr;  // [Ts] tokens for the split-K attention kernel
  const int* long_seq = nullptr;   // [Sl] sequences for the flash attention kernel
  const int* rec_seq = nullptr;    // [Sr] sequences whose DeltaNet runs token by token
  const int* chunk_seq = nullptr;  // [Sc] sequences whose DeltaNet runs in chunks
  const int* all_seg = nullptr;    // {0, T}: one group holding every token (shared expert)
  const int* all_tiles = nullptr;  // {0, ceil(T / kGemmTileM)}
  int T = 0, S = 0, R = 0, Ts = 0, Sl = 0, Sr = 0, Sc = 0;
  int max_long_n = 0;              // most tokens of one long_seq sequence
  int max_chunks = 0;              // most 64-token chunks of one chunk_seq sequence
};

constexpr int kGemvMaxTokens = 4;  // steps with at most this many tokens use the GEMV path
constexpr int kGemmTileM = 128;

// ---------------------------------------------------------------------------------------------
// gemv.cu: y = W x for up to kGemvMaxTokens rows, x built in shared memory by a prologue.
enum class GemvInput { Plain, Norm, GatedNorm };

struct GemvArgs {
  GpuMatrix w;               // bf16 or quantized (no top-k epilogue then)
  int rows = 0, cols = 0;    // set by gemv() from w
  int ntok = 0;
  GemvInput input = GemvInput::Plain;
  const float* x = nullptr;  // Plain: rows to multiply; Norm: residual rows; GatedNorm: DeltaNet outputs
  int ldx = 0;
  const int* x_rows = nullptr;  // row of x for token t (null: t)
  const float* norm_w = nullptr;
  float eps = 1e-6f;
  const float* z = nullptr;  // GatedNorm: gate rows
  int ldz = 0, head_dim = 0;
  float* x_out = nullptr;    // Norm: block 0 writes the normalised rows [ntok][cols]
  float* y = nullptr;
  int ldy = 0;
  bool accumulate = false;   // y += W x
  // Quantized w only: bf16 rows that follow w's in y (a projection whose last rows the file
  // keeps in float, as GGUF's ssm_alpha / ssm_beta), computed by extra blocks of the same launch.
  GpuMatrix tail;
  // bf16 w only: a second bf16 matrix whose row pairs (2j, 2j + 1) give silu(gate·x) · (up·x)
  // into pair_out[t · pair_ld + j], in the same launch (the shared expert's gate/up beside the
  // router, which reads the same normalised rows).
  GpuMatrix pair_w;
  float* pair_out = nullptr;
  int pair_ld = 0;
  // Router epilogue: the last block to finish takes the top-k of each token's first topk_E
  // outputs (softmax, renormalised) into topk_id / topk_w. counter is 0 before and after.
  int* counter = nullptr;
  int topk_E = 0, topk_k = 0;
  int* topk_id = nullptr;
  float* topk_w = nullptr;
};
void gemv(const Ctx& ctx, GemvArgs a, const char* name);
// qgemv.cu: the same for quantized weights (int8 activations, dp4a).
void gemv_quant(const Ctx& ctx, const GemvArgs& a, const char* name);
// Rows [r0, r0 + n) of w as bf16 into out [n][cols].
void dequant_rows(const Ctx& ctx, const GpuMatrix& w, int64_t r0, int64_t n, bf16* out, const char* name);
// Embedding rows of quantized tables (embed() calls it).
void embed_quant(const Ctx& ctx, const GpuMatrix& table, const int* ids, int T, float* h);
// Experts e with counts[e] > 0 (all with counts null): rows [e·per, (e+1)·per) into out, same place.
void dequant_experts(const Ctx& ctx, const GpuMatrix& w, int experts, int64_t per, const int* counts, bf16* out,
                     const char* name);

// ---------------------------------------------------------------------------------------------
// gemm.cu: dense products through cuBLAS, grouped (per-expert) products on tensor cores.

// y[T, N] (+)= x[T, K] · w[N, K]ᵀ, bf16 inputs, fp32 output and accumulation.
void gemm_dense(const Ctx& ctx, const bf16* x, int ldx, int T, const bf16* w, int N, int K, float* y, int ldy,
                bool accumulate, const char* name);

// y[T, N] = x[T, K] · w[N, K]ᵀ all in float32 (no TF32): the router, whose top-k must not flip
// on bf16 rounding of its input.
void gemm_dense_f32(const Ctx& ctx, const float* x, int ldx, int T, const float* w, int N, int K, float* y, int ldy,
                    const char* name);

// For every group g, rows [seg[g], seg[g+1]) of the output: out[r] = w_g · a[a_index[r]] (or a[r]).
// swiglu: w_g rows are (gate, up) pairs and out[r][j] = silu(gate_j) · up_j is written as bf16;
// otherwise out[r][n] is written as float.
struct GroupGemmArgs {
  const bf16* a = nullptr;
  int lda = 0;
  const int* a_index = nullptr;
  const bf16* w = nullptr;
  int64_t w_stride = 0;       // elements between groups' weights
  // Quantized weights instead (w unused): group g's rows [g·N, g·N + N) of wq, dequantized tile
  // by tile into shared memory (qgemm.cu; K a multiple of 64, a type gpu_quant_supported reads).
  GpuMatrix wq;
  bool few_rows = false;      // wq: groups get a few rows each (16 at a time suit them best)
  int N = 0, K = 0;
  int groups = 0;
  const int* seg = nullptr;   // [groups + 1]
  const int* tiles = nullptr; // [groups + 1]: prefix sums of ceil(rows / kGemmTileM)
  int max_tiles = 0;          // an upper bound of tiles[groups]
  bool swiglu = false;
  bool accumulate = false;    // float output: out += product
  void* out = nullptr;
  int ldo = 0;
};
void group_gemm(const Ctx& ctx, const GroupGemmArgs& a, const char* name);
void group_gemm_quant(const Ctx& ctx, const GroupGemmArgs& a, const char* name);  // a.wq set

// ---------------------------------------------------------------------------------------------
// misc.cu
void embed(const Ctx& ctx, const GpuMatrix& table, const int* ids, int T, float* h);
// out rows i = rmsnorm(h[rows ? rows[i] : i]) * w, as float and/or bf16.
void rms_norm_rows(const Ctx& ctx, const float* h, int H, const int* rows, int n, const float* w, float eps,
                   float* out_f32, bf16* out_bf16);
void to_bf16(const Ctx& ctx, const float* x, int64_t n, bf16* out);
void widen_bf16(cudaStream_t s, const bf16* x, int64_t n, float* out);
// Deterministic uniform values in [lo, hi), from a counter-based hash of (seed, index).
void fill_uniform_bf16(cudaStream_t s, bf16* p, int64_t n, float lo, float hi, uint64_t seed);
// Random quantized weights of about ±spread (qgemv.cu; Q8_0, Q4_K, Q5_K, Q6_K: the synthetic mixes).
void fill_random_quant(cudaStream_t s, const GpuMatrix& m, float spread, uint64_t seed);
void fill_uniform_f32(cudaStream_t s, float* p, int64_t n, float lo, float hi, uint64_t seed);

// ---------------------------------------------------------------------------------------------
// deltanet.cu
struct GdnArgs {
  Dims d;
  int slot = 0;              // index among the DeltaNet layers
  const float* proj = nullptr;  // in-proj rows: mixed qkv | z | b | a
  int ldp = 0;
  float* u = nullptr;        // [T][conv_dim] post-conv rows (multi-token path)
  const float* conv_w = nullptr;  // [conv_dim][conv_k]
  const float* A = nullptr;       // [nv], -exp(A_log)
  const float* dt_bias = nullptr; // [nv]
  float* o = nullptr;        // [T][value_dim] outputs before the gated norm
  float* chunks = nullptr;   // chunked form: per chunk slot and head, kGdnChunkRecord floats
  StepMeta m;
};
constexpr int kGdnChunk = 64;  // tokens per chunk of the chunked form
// A chunk's state-independent part: (I + A)⁻¹ and P = (Q Kᵀ) ⊙ D (kGdnChunk² each), γ, β.
constexpr int kGdnChunkRecord = 2 * kGdnChunk * kGdnChunk + 2 * kGdnChunk;
// Chunk slots a workspace of `tokens` rows provides (what the step plan may hand out).
inline int gdn_chunk_slots(int tokens) { return tokens / kGdnChunk + 64; }
void gdn_decode(const Ctx& ctx, const GdnArgs& a);    // every sequence one token; conv fused
void gdn_conv(const Ctx& ctx, const GdnArgs& a);      // conv + SiLU into u, then the ring update
void gdn_recurrent(const Ctx& ctx, const GdnArgs& a); // m.rec_seq, token by token from u
void gdn_chunked(const Ctx& ctx, const GdnArgs& a);   // m.chunk_seq, chunks of 64 from u (deltanet_chunked.cu)
// bf16 rows of rmsnorm(o_h) · w · silu(z_h) per value head, for the out projection.
void gdn_gated_norm(const Ctx& ctx, const GdnArgs& a, const float* norm_w, bf16* out);

// ---------------------------------------------------------------------------------------------
// attention.cu
struct AttnArgs {
  Dims d;
  int slot = 0;              // index among the attention layers
  const float* proj = nullptr;  // rows: per head query | gate, then k, then v
  int ldp = 0;
  const float* q_norm = nullptr, * k_norm = nullptr;
  const float* inv_freq = nullptr;
  float rope_scale = 1.0f;
  float* q = nullptr;        // [T][nq][D] normalised, rotated queries
  float* part_o = nullptr;   // split-K partials [tokens][nq][n_chunks][D]
  float* part_ml = nullptr;  // [tokens][nq][n_chunks][2]: running max, sum
  int n_chunks = 1, chunk_len = 64;
  int short_begin = 0, short_count = 0;  // the slice of m.short_tok this launch handles
  float* out_f32 = nullptr;  // [T][nq * D] gated output (either or both)
  bf16* out_bf16 = nullptr;
  StepMeta m;
};
void attn_prepare(const Ctx& ctx, const AttnArgs& a);  // q/k norms, RoPE, K and V into the cache
void attn_decode(const Ctx& ctx, const AttnArgs& a);   // split-K over context, then combine + gate
void attn_prefill(const Ctx& ctx, const AttnArgs& a);  // flash attention on tensor cores + gate
// Chunking of the split-K kernel for a context of at most max_ctx tokens.
void attn_decode_split(int max_ctx, int* n_chunks, int* chunk_len);

// ---------------------------------------------------------------------------------------------
// moe.cu
struct MoeArgs {
  Dims d;
  int T = 0;
  bool shared_act_ready = false;  // the shared expert's act came with the router (GemvArgs::pair_w)
  const float* logits = nullptr;  // [T][E + 1]: router logits, then the shared expert's gate logit
  const float* x = nullptr;       // [T][H] normalised input (small path)
  const bf16* xb = nullptr;       // the same in bf16 (grouped path)
  GpuMatrix gate_up;              // [E·2I][H], rows (gate_j, up_j) interleaved
  GpuMatrix down;                 // [E·H][I]
  GpuMatrix sh_gate_up;           // [2Is][H] interleaved, no data without a shared expert
  GpuMatrix sh_down;              // [H][Is]
  bf16* deq = nullptr;            // grouped path, quantized experts: bf16 scratch of E·max(2I·H, H·I)
  bool quant_gemm = false;        // grouped path: quantized experts through group_gemm_quant, no scratch
  float* h = nullptr;             // residual rows: h += MoE(x)
  int* topk_id = nullptr;         // [T][k]
  float* topk_w = nullptr;        // [T][k]
  float* act = nullptr;           // small path: [T][k + 1][max(I, Is)]
  int* counts = nullptr;          // grouped path: [E]
  int* seg = nullptr;             // [E + 1]
  int* tiles = nullptr;           // [E + 1]
  int* fill = nullptr;            // [E]
  int* perm_tok = nullptr;        // [T * k] token of each expert-sorted row
  int* slot_of = nullptr;         // [T * k] expert-sorted row of (token, j)
  bf16* act_b = nullptr;          // [T * k][I]
  bf16* sh_act_b = nullptr;       // [T][Is]
  float* y_exp = nullptr;         // [T * k][H]
  float* y_sh = nullptr;          // [T][H]
  StepMeta m;
};
// T ≤ kGemvMaxTokens: fused gather-GEMV. topk_ready: topk_id / topk_w already hold the routing.
void moe_small(const Ctx& ctx, const MoeArgs& a, bool topk_ready = false);
// Quantized experts: moe_small's kernels route each token from the logits themselves (every
// block, before its grid wait), so the router needs no top-k and topk_ready is ignored.
inline bool moe_routes_in_experts(const MoeArgs& a) {
  return a.gate_up.quantized() || a.down.quantized() || a.sh_gate_up.quantized() || a.sh_down.quantized();
}
// qmoe.cu: the two gather-GEMV kernels of moe_small for quantized experts.
void moe_small_quant(const Ctx& ctx, const MoeArgs& a, int act_stride);
void moe_grouped(const Ctx& ctx, const MoeArgs& a);  // sort by expert, grouped GEMMs, combine

}  // namespace a3b::cuda
