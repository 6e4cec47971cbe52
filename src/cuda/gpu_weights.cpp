#include "cuda/gpu_weights.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "model/rope.h"

namespace a3b::cuda {
namespace {

// The shapes the kernels were written for; anything else is refused up front, by name.
void check_supported(const ModelConfig& c) {
  auto need = [&](bool ok, const char* what) {
    if (!ok) fail("CUDA backend: unsupported model shape: ", what);
  };
  need(c.hidden % 8 == 0, "hidden_size must be a multiple of 8");
  need(c.expert_inter % 8 == 0 && c.shared_inter % 8 == 0, "expert widths must be multiples of 8");
  need(c.n_experts <= 1024 && c.n_experts_used <= 16, "at most 1024 experts and 16 per token");
  if (c.n_attention_layers() > 0) {
    need(c.head_dim % 8 == 0 && c.head_dim <= 256, "head_dim must be a multiple of 8 up to 256");
    need(c.n_heads / c.n_kv_heads <= 32, "at most 32 query heads per kv head");
  }
  if (c.n_deltanet_layers() > 0) {
    need(c.lin_k_dim <= 128, "linear_key_head_dim must be at most 128");
    need(c.lin_k_dim % 4 == 0 && c.lin_v_dim % 4 == 0, "linear head dims must be multiples of 4");
    need(c.lin_value_dim() % 8 == 0, "linear value width must be a multiple of 8");
    need(c.conv_kernel >= 1 && c.conv_kernel <= 8, "linear_conv_kernel_dim must be 1..8");
  }
}

// GGUF-only layouts the kernels do not handle yet: refused up front with the way out.
void check_weights_supported(const ModelWeights& w) {
  auto check = [](const Matrix& m, const char* what) {
    if (!m.empty() && dtype_is_quantized(m.dtype))
      fail("quantized weights are not supported on CUDA yet (", what, " is ", dtype_name(m.dtype),
           "); use --backend cpu, or a BF16 model");
  };
  check(w.embed, "token_embd");
  check(w.lm_head, "output");
  for (const LayerWeights& L : w.layers) {
    if (L.kind == LayerKind::DeltaNet) {
      const DeltaNetWeights& g = L.deltanet;
      if (g.v_heads_tiled)
        fail("GGUF linear-attention layers (V heads in llama.cpp's tiled order) are not supported on CUDA yet; "
             "use --backend cpu");
      for (const Matrix* m : {&g.qkv, &g.z, &g.a, &g.b, &g.out}) check(*m, "a linear-attention projection");
    } else {
      for (const Matrix* m : {&L.attn.q, &L.attn.k, &L.attn.v, &L.attn.o}) check(*m, "an attention projection");
    }
    check(L.moe.router, "a router");
    check(L.moe.shared_gate, "a shared-expert gate");
    for (const Matrix* m : {&L.moe.shared.gate, &L.moe.shared.up, &L.moe.shared.down}) check(*m, "a shared expert");
    for (const ExpertWeights& e : L.moe.experts)
      for (const Matrix* m : {&e.gate, &e.up, &e.down}) check(*m, "an expert");
  }
}

void to_device(void* dst, const void* src, size_t bytes, const char* what) {
  cudaError_t e = cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice);
  if (e != cudaSuccess) fail("CUDA: uploading ", what, " (", bytes, " bytes) failed: ", cudaGetErrorString(e));
}

// One row of a stored matrix as bf16 bits.
void row_bf16(const Matrix& m, int64_t r, uint16_t* out) {
  if (m.dtype == DType::BF16) {
    std::memcpy(out, m.row(r), size_t(m.cols) * 2);
    return;
  }
  std::vector<float> f(static_cast<size_t>(m.cols));
  to_f32(m.dtype, m.row(r), f.data(), f.size());
  for (int64_t c = 0; c < m.cols; ++c) out[c] = f32_to_bf16(f[size_t(c)]);
}

// Rows [0, m.rows) of m to dst, converted to bf16 where stored otherwise.
void put_matrix(bf16* dst, const Matrix& m, const char* what) {
  if (m.dtype == DType::BF16) return to_device(dst, m.data, size_t(m.rows * m.cols) * 2, what);
  std::vector<uint16_t> buf(size_t(m.rows * m.cols));
  for (int64_t r = 0; r < m.rows; ++r) row_bf16(m, r, &buf[size_t(r * m.cols)]);
  to_device(dst, buf.data(), buf.size() * 2, what);
}

// gate row j and up row j become rows 2j and 2j + 1, so one warp (or one mma column pair)
// holds both halves of the SwiGLU.
void put_interleaved(bf16* dst, const Matrix& gate, const Matrix& up, std::vector<uint16_t>& buf, const char* what) {
  const int64_t I = gate.rows, H = gate.cols;
  buf.resize(size_t(2 * I * H));
  for (int64_t j = 0; j < I; ++j) {
    row_bf16(gate, j, &buf[size_t(2 * j * H)]);
    row_bf16(up, j, &buf[size_t((2 * j + 1) * H)]);
  }
  to_device(dst, buf.data(), buf.size() * 2, what);
}

void put_floats(float* dst, const std::vector<float>& v, const char* what) {
  to_device(dst, v.data(), v.size() * sizeof(float), what);
}

}  // namespace

Dims dims_of(const ModelConfig& c) {
  Dims d;
  d.H = int(c.hidden);
  d.V = int(c.vocab_size);
  d.E = c.n_experts;
  d.k = c.n_experts_used;
  d.I = int(c.expert_inter);
  d.Is = int(c.shared_inter);
  d.nq = c.n_heads;
  d.nkv = c.n_kv_heads;
  d.D = c.head_dim;
  d.rot = c.rope.rotary_dim;
  d.nk = c.lin_k_heads;
  d.nv = c.lin_v_heads;
  d.dk = c.lin_k_dim;
  d.dv = c.lin_v_dim;
  d.conv_k = c.conv_kernel;
  d.key_dim = int(c.lin_key_dim());
  d.value_dim = int(c.lin_value_dim());
  d.conv_dim = int(c.conv_dim());
  d.eps = c.rms_eps;
  return d;
}

void* GpuWeights::alloc(size_t n, const char* what) {
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, n);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    size_t free = 0, total = 0;
    cudaMemGetInfo(&free, &total);
    fail("CUDA: cannot allocate ", what, " (", n >> 20, " MiB; ", free >> 20, " of ", total >> 20,
         " MiB free, ", bytes >> 20, " MiB of weights allocated so far): ", cudaGetErrorString(e));
  }
  allocations_.push_back(p);
  bytes += n;
  return p;
}

void GpuWeights::allocate_layout() {
  check_supported(config);
  dims = dims_of(config);
  const Dims& d = dims;
  const size_t H = size_t(d.H);
  embed = alloc_n<bf16>(size_t(d.V) * H, "embed_tokens");
  lm_head = alloc_n<bf16>(size_t(d.V) * H, "lm_head");
  final_norm = alloc_n<float>(H, "norm");
  inv_freq = alloc_n<float>(size_t(d.rot / 2), "rope frequencies");
  int n_attn = 0, n_gdn = 0;
  for (int l = 0; l < config.n_layers; ++l) {
    GpuLayer L;
    L.kind = config.layers[size_t(l)];
    L.slot = L.kind == LayerKind::Attention ? n_attn++ : n_gdn++;
    L.input_norm = alloc_n<float>(H, "input_layernorm");
    L.post_norm = alloc_n<float>(H, "post_attention_layernorm");
    if (L.kind == LayerKind::DeltaNet) {
      L.in_proj = alloc_n<bf16>(size_t(in_proj_rows()) * H, "linear_attn in projections");
      L.out_proj = alloc_n<bf16>(H * d.value_dim, "linear_attn.out_proj");
      L.conv_w = alloc_n<float>(size_t(d.conv_dim) * d.conv_k, "linear_attn.conv1d");
      L.A = alloc_n<float>(size_t(d.nv), "linear_attn.A_log");
      L.dt_bias = alloc_n<float>(size_t(d.nv), "linear_attn.dt_bias");
      L.gdn_norm = alloc_n<float>(size_t(d.dv), "linear_attn.norm");
    } else {
      L.qkv = alloc_n<bf16>(size_t(qkv_rows()) * H, "self_attn q/k/v projections");
      L.o_proj = alloc_n<bf16>(H * d.nq * d.D, "self_attn.o_proj");
      L.q_norm = alloc_n<float>(size_t(d.D), "self_attn.q_norm");
      L.k_norm = alloc_n<float>(size_t(d.D), "self_attn.k_norm");
    }
    L.router = alloc_n<bf16>(size_t(d.E + 1) * H, "mlp.gate");
    L.router_f32 = alloc_n<float>(size_t(d.E + 1) * H, "mlp.gate (float32)");
    L.gate_up = alloc_n<bf16>(size_t(d.E) * 2 * d.I * H, "mlp.experts gate/up");
    L.down = alloc_n<bf16>(size_t(d.E) * H * d.I, "mlp.experts down");
    if (d.Is > 0) {
      L.sh_gate_up = alloc_n<bf16>(size_t(2) * d.Is * H, "mlp.shared_expert gate/up");
      L.sh_down = alloc_n<bf16>(H * d.Is, "mlp.shared_expert.down_proj");
    }
    layers.push_back(L);
  }
  RopeTable rope = make_rope_table(config.rope);
  rope_scale = rope.scale;
  put_floats(inv_freq, rope.inv_freq, "rope frequencies");
}

GpuWeights::GpuWeights(const ModelWeights& w) {
  check_weights_supported(w);
  config = w.config;
  try {
    allocate_layout();
    const Dims& d = dims;
    const size_t H = size_t(d.H);
    put_matrix(embed, w.embed, "embed_tokens");
    put_matrix(lm_head, w.lm_head, "lm_head");
    put_floats(final_norm, w.final_norm, "norm");
    std::vector<uint16_t> buf;
    for (size_t l = 0; l < layers.size(); ++l) {
      const LayerWeights& src = w.layers[l];
      GpuLayer& L = layers[l];
      put_floats(L.input_norm, src.input_norm, "input_layernorm");
      put_floats(L.post_norm, src.post_norm, "post_attention_layernorm");
      if (L.kind == LayerKind::DeltaNet) {
        const DeltaNetWeights& g = src.deltanet;
        put_matrix(L.in_proj, g.qkv, "in_proj_qkv");
        put_matrix(L.in_proj + size_t(d.conv_dim) * H, g.z, "in_proj_z");
        put_matrix(L.in_proj + size_t(d.conv_dim + d.value_dim) * H, g.b, "in_proj_b");
        put_matrix(L.in_proj + size_t(d.conv_dim + d.value_dim + d.nv) * H, g.a, "in_proj_a");
        put_matrix(L.out_proj, g.out, "out_proj");
        put_floats(L.conv_w, g.conv, "conv1d");
        put_floats(L.A, g.A, "A_log");
        put_floats(L.dt_bias, g.dt_bias, "dt_bias");
        put_floats(L.gdn_norm, g.norm, "linear_attn.norm");
      } else {
        const AttentionWeights& a = src.attn;
        put_matrix(L.qkv, a.q, "q_proj");
        put_matrix(L.qkv + size_t(2 * d.nq * d.D) * H, a.k, "k_proj");
        put_matrix(L.qkv + size_t(2 * d.nq * d.D + d.nkv * d.D) * H, a.v, "v_proj");
        put_matrix(L.o_proj, a.o, "o_proj");
        put_floats(L.q_norm, a.q_norm, "q_norm");
        put_floats(L.k_norm, a.k_norm, "k_norm");
      }
      const MoeWeights& m = src.moe;
      put_matrix(L.router, m.router, "mlp.gate");
      if (m.shared_gate.empty()) {
        A3B_CUDA(cudaMemset(L.router + size_t(d.E) * H, 0, H * sizeof(bf16)));
      } else {
        put_matrix(L.router + size_t(d.E) * H, m.shared_gate, "shared_expert_gate");
      }
      for (int e = 0; e < d.E; ++e) {
        const ExpertWeights& x = m.experts[size_t(e)];
        put_interleaved(L.gate_up + size_t(e) * 2 * d.I * H, x.gate, x.up, buf, "experts gate/up");
        put_matrix(L.down + size_t(e) * H * d.I, x.down, "experts down");
      }
      if (L.sh_gate_up) {
        put_interleaved(L.sh_gate_up, m.shared.gate, m.shared.up, buf, "shared_expert gate/up");
        put_matrix(L.sh_down, m.shared.down, "shared_expert.down_proj");
      }
    }
    finish();
  } catch (...) {
    for (void* p : allocations_) cudaFree(p);
    throw;
  }
}

GpuWeights::GpuWeights(const ModelConfig& c, uint64_t seed) {
  config = c;
  try {
    allocate_layout();
    const Dims& d = dims;
    const size_t H = size_t(d.H);
    uint64_t n = 0;  // one stream of random numbers per tensor
    auto mat = [&](bf16* p, size_t rows, size_t cols) {
      const float s = std::sqrt(3.0f / float(cols));  // unit-variance outputs for unit-variance inputs
      fill_uniform_bf16(nullptr, p, int64_t(rows * cols), -s, s, seed * 1000003u + ++n);
    };
    auto vec = [&](float* p, size_t len, float lo, float hi) { fill_uniform_f32(nullptr, p, int64_t(len), lo, hi, seed * 1000003u + ++n); };
    fill_uniform_bf16(nullptr, embed, int64_t(size_t(d.V) * H), -1.0f, 1.0f, seed * 1000003u + ++n);
    mat(lm_head, size_t(d.V), H);
    vec(final_norm, H, 0.9f, 1.1f);
    for (GpuLayer& L : layers) {
      vec(L.input_norm, H, 0.9f, 1.1f);
      vec(L.post_norm, H, 0.9f, 1.1f);
      if (L.kind == LayerKind::DeltaNet) {
        mat(L.in_proj, size_t(in_proj_rows()), H);
        mat(L.out_proj, H, size_t(d.value_dim));
        vec(L.conv_w, size_t(d.conv_dim) * d.conv_k, -0.5f, 0.5f);
        vec(L.A, size_t(d.nv), -8.0f, -1.0f);
        vec(L.dt_bias, size_t(d.nv), -1.0f, 1.0f);
        vec(L.gdn_norm, size_t(d.dv), 0.9f, 1.1f);
      } else {
        mat(L.qkv, size_t(qkv_rows()), H);
        mat(L.o_proj, H, size_t(d.nq) * d.D);
        vec(L.q_norm, size_t(d.D), 0.9f, 1.1f);
        vec(L.k_norm, size_t(d.D), 0.9f, 1.1f);
      }
      mat(L.router, size_t(d.E + 1), H);
      mat(L.gate_up, size_t(d.E) * 2 * d.I, H);
      mat(L.down, size_t(d.E) * H, size_t(d.I));
      if (L.sh_gate_up) {
        mat(L.sh_gate_up, size_t(2) * d.Is, H);
        mat(L.sh_down, H, size_t(d.Is));
      }
    }
    finish();
  } catch (...) {
    for (void* p : allocations_) cudaFree(p);
    throw;
  }
}

void GpuWeights::finish() {
  for (GpuLayer& L : layers) widen_bf16(nullptr, L.router, int64_t(dims.E + 1) * dims.H, L.router_f32);
  // Copies from pageable memory may still be in flight; the engine's stream does not wait for them.
  A3B_CUDA(cudaDeviceSynchronize());
}

GpuWeights::~GpuWeights() {
  for (void* p : allocations_) cudaFree(p);
}

}  // namespace a3b::cuda
