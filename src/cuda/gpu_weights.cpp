#include "cuda/gpu_weights.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <map>
#include <mutex>

#include "core/error.h"
#include "core/quant_tables.h"
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

// The type a stored matrix keeps on the GPU: its own where the kernels read it, else bf16.
DType gpu_type(const Matrix& m) { return gpu_quant_supported(m.dtype, m.cols) ? m.dtype : DType::BF16; }

// Row r of src in the GPU layout of type t (src's own type, or bf16).
void pack_row(const Matrix& src, int64_t r, DType t, uint8_t* dst) {
  if (t == DType::BF16) row_bf16(src, r, reinterpret_cast<uint16_t*>(dst));
  else gpu_pack_row(t, src.row(r), src.cols, dst);
}

// Host staging of a matrix's rows, uploaded in pieces of about 64 MiB; call flush() at the end.
class Uploader {
 public:
  Uploader(const GpuMatrix& dst, const char* what) : dst_(dst), what_(what) {
    per_ = std::max<int64_t>(1, (int64_t(64) << 20) / int64_t(dst.row_bytes));
    buf_.resize(size_t(std::min(per_, dst.rows)) * dst.row_bytes);
  }
  // Row `row` of the destination, to be filled by the caller.
  uint8_t* row(int64_t row) {
    if (row - first_ >= per_ || row < first_) {
      flush();
      first_ = row;
    }
    count_ = std::max(count_, row - first_ + 1);
    return buf_.data() + size_t(row - first_) * dst_.row_bytes;
  }
  void flush() {
    if (count_ > 0)
      to_device(const_cast<uint8_t*>(dst_.data) + size_t(first_) * dst_.row_bytes, buf_.data(),
                size_t(count_) * dst_.row_bytes, what_);
    count_ = 0;
  }

 private:
  GpuMatrix dst_;
  const char* what_;
  int64_t per_ = 1, first_ = 0, count_ = 0;
  std::vector<uint8_t> buf_;
};

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

bool gpu_quant_supported(DType t, int64_t cols) {
  switch (t) {
    case DType::Q8_0:
    case DType::Q4_0:
    case DType::IQ4_NL:
    case DType::MXFP4: return cols % 64 == 0;
    case DType::IQ4_XS:
    case DType::IQ2_XXS:
    case DType::IQ3_XXS:
    case DType::IQ3_S:
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K: return cols % 256 == 0;
    default: return false;
  }
}

size_t gpu_row_bytes(DType t, int64_t cols) {
  const size_t raw = t == DType::BF16 ? size_t(cols) * 2 : dtype_row_bytes(t, cols);
  return (raw + 15) / 16 * 16;
}

void gpu_pack_row(DType t, const void* src_row, int64_t cols, uint8_t* dst) {
  const auto* src = static_cast<const uint8_t*>(src_row);
  std::memset(dst, 0, gpu_row_bytes(t, cols));
  switch (t) {
    case DType::Q4_K:
    case DType::Q5_K: std::memcpy(dst, src, dtype_row_bytes(t, cols)); return;
    case DType::Q8_0:  // blocks {fp16 d, int8 q[32]} -> all q, then all d
      for (int64_t b = 0; b < cols / 32; ++b) {
        std::memcpy(dst + 32 * b, src + 34 * b + 2, 32);
        std::memcpy(dst + cols + 2 * b, src + 34 * b, 2);
      }
      return;
    case DType::Q6_K: {  // blocks {ql[128], qh[64], int8 scales[16], fp16 d} -> four sections
      const int64_t nb = cols / 256;
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* blk = src + 210 * b;
        std::memcpy(dst + 128 * b, blk, 128);
        std::memcpy(dst + 128 * nb + 64 * b, blk + 128, 64);
        std::memcpy(dst + 192 * nb + 16 * b, blk + 192, 16);
        std::memcpy(dst + 208 * nb + 2 * b, blk + 208, 2);
      }
      return;
    }
    case DType::Q4_0:
    case DType::IQ4_NL:
    case DType::MXFP4: {  // blocks {scale, nibbles[16]} -> all nibbles, then all scales
      const int64_t nb = cols / 32, sb = t == DType::MXFP4 ? 1 : 2, bb = sb + 16;
      for (int64_t b = 0; b < nb; ++b) {
        std::memcpy(dst + 16 * b, src + bb * b + sb, 16);
        std::memcpy(dst + cols / 2 + sb * b, src + bb * b, size_t(sb));
      }
      return;
    }
    case DType::IQ4_XS: {  // blocks {fp16 d, u16 scales_h, scales_l[4], nibbles[128]} -> four sections
      const int64_t nb = cols / 256;
      uint8_t* s = dst + cols / 2;
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* blk = src + 136 * b;
        std::memcpy(dst + 128 * b, blk + 8, 128);
        std::memcpy(s + 2 * b, blk, 2);
        std::memcpy(s + 2 * nb + 2 * b, blk + 2, 2);
        std::memcpy(s + 4 * nb + 4 * b, blk + 4, 4);
      }
      return;
    }
    case DType::IQ2_XXS: {  // blocks {fp16 d, 64 bytes} -> all 64-byte parts, then all d
      const int64_t nb = cols / 256;
      for (int64_t b = 0; b < nb; ++b) {
        std::memcpy(dst + 64 * b, src + 66 * b + 2, 64);
        std::memcpy(dst + cols / 4 + 2 * b, src + 66 * b, 2);
      }
      return;
    }
    case DType::IQ3_XXS: {  // blocks {fp16 d, qs[64], scale/sign words[32]} -> qs, words, d
      const int64_t nb = cols / 256;
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* blk = src + 98 * b;
        std::memcpy(dst + 64 * b, blk + 2, 64);
        std::memcpy(dst + cols / 4 + 32 * b, blk + 66, 32);
        std::memcpy(dst + cols / 4 + cols / 8 + 2 * b, blk, 2);
      }
      return;
    }
    case DType::IQ3_S: {  // blocks {fp16 d, qs[64], qh[8], signs[32], scales[4]} -> qs, signs, qh, scales, d
      const int64_t nb = cols / 256;
      uint8_t* signs = dst + cols / 4;
      uint8_t* qh = signs + cols / 8;
      uint8_t* scales = qh + cols / 32;
      uint8_t* d = scales + cols / 64;
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* blk = src + 110 * b;
        std::memcpy(dst + 64 * b, blk + 2, 64);
        std::memcpy(qh + 8 * b, blk + 66, 8);
        std::memcpy(signs + 32 * b, blk + 74, 32);
        std::memcpy(scales + 4 * b, blk + 106, 4);
        std::memcpy(d + 2 * b, blk, 2);
      }
      return;
    }
    default: fail("CUDA: no GPU layout for ", dtype_name(t));
  }
}

const uint32_t* gpu_grid_table(DType t) {
  using namespace quant_tables;
  const void* grid = nullptr;
  size_t bytes = 0;
  switch (t) {
    case DType::IQ2_XXS: grid = kIq2xxsGrid, bytes = sizeof(kIq2xxsGrid); break;
    case DType::IQ3_XXS: grid = kIq3xxsGrid, bytes = sizeof(kIq3xxsGrid); break;
    case DType::IQ3_S: grid = kIq3sGrid, bytes = sizeof(kIq3sGrid); break;
    default: return nullptr;
  }
  static std::mutex mu;
  static std::map<DType, uint32_t*> tables;  // one device, for the life of the process
  std::lock_guard<std::mutex> lock(mu);
  uint32_t*& p = tables[t];
  if (!p) {
    std::vector<uint8_t> host(128 + bytes);
    std::memcpy(host.data(), kSigns, 128);
    std::memcpy(host.data() + 128, grid, bytes);
    A3B_CUDA(cudaMalloc(&p, host.size()));
    A3B_CUDA(cudaMemcpy(p, host.data(), host.size(), cudaMemcpyHostToDevice));
  }
  return p;
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

GpuMatrix GpuWeights::new_matrix(DType type, int64_t rows, int64_t cols, const char* what) {
  GpuMatrix m;
  m.type = type;
  m.rows = rows;
  m.cols = int(cols);
  m.row_bytes = gpu_row_bytes(type, cols);
  m.data = static_cast<const uint8_t*>(alloc(size_t(rows) * m.row_bytes, what));
  m.tables = gpu_grid_table(type);
  if (type != DType::BF16) quantized = true;
  return m;
}

void GpuWeights::allocate_small() {
  check_supported(config);
  dims = dims_of(config);
  const Dims& d = dims;
  const size_t H = size_t(d.H);
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
      L.conv_w = alloc_n<float>(size_t(d.conv_dim) * d.conv_k, "linear_attn.conv1d");
      L.A = alloc_n<float>(size_t(d.nv), "linear_attn.A_log");
      L.dt_bias = alloc_n<float>(size_t(d.nv), "linear_attn.dt_bias");
      L.gdn_norm = alloc_n<float>(size_t(d.dv), "linear_attn.norm");
    } else {
      L.q_norm = alloc_n<float>(size_t(d.D), "self_attn.q_norm");
      L.k_norm = alloc_n<float>(size_t(d.D), "self_attn.k_norm");
    }
    L.router = new_matrix(DType::BF16, d.E + 1, d.H, "mlp.gate");
    L.router_f32 = alloc_n<float>(size_t(d.E + 1) * H, "mlp.gate (float32)");
    layers.push_back(L);
  }
  RopeTable rope = make_rope_table(config.rope);
  rope_scale = rope.scale;
  put_floats(inv_freq, rope.inv_freq, "rope frequencies");
}

namespace {

// The rows of several stored matrices one after another, as parts.
struct Source {
  const Matrix* m;
  const char* what;
};

}  // namespace

GpuWeights::GpuWeights(const ModelWeights& w) {
  config = w.config;
  try {
    allocate_small();
    const Dims& d = dims;
    auto upload = [&](const Matrix& m, const char* what) {
      GpuMatrix g = new_matrix(gpu_type(m), m.rows, m.cols, what);
      Uploader up(g, what);
      for (int64_t r = 0; r < m.rows; ++r) pack_row(m, r, g.type, up.row(r));
      up.flush();
      return g;
    };
    auto upload_parts = [&](std::initializer_list<Source> sources) {
      GpuParts parts;
      std::vector<Source> src(sources);
      for (size_t i = 0; i < src.size();) {
        const DType t = gpu_type(*src[i].m);
        size_t j = i;
        int64_t rows = 0;
        while (j < src.size() && gpu_type(*src[j].m) == t) rows += src[j++].m->rows;
        GpuMatrix g = new_matrix(t, rows, src[i].m->cols, src[i].what);
        Uploader up(g, src[i].what);
        int64_t r0 = 0;
        for (; i < j; ++i) {
          for (int64_t r = 0; r < src[i].m->rows; ++r) pack_row(*src[i].m, r, t, up.row(r0 + r));
          r0 += src[i].m->rows;
        }
        up.flush();
        parts.push_back(g);
      }
      return parts;
    };
    // Experts' gate and up rows interleaved (gate_j, up_j), so that one warp holds both halves of
    // the SwiGLU; kept quantized when every expert's gate and up share one supported type.
    // The quantized expert kernels take rows in units of 64 weights: other widths stay bf16.
    const bool experts_quantizable = d.H % 64 == 0 && d.I % 64 == 0 && d.Is % 64 == 0;
    auto upload_gate_up = [&](const std::vector<const ExpertWeights*>& ex, const char* what) {
      DType t = experts_quantizable ? gpu_type(ex[0]->gate) : DType::BF16;
      for (const ExpertWeights* x : ex)
        if (gpu_type(x->gate) != t || gpu_type(x->up) != t) t = DType::BF16;
      const int64_t I = ex[0]->gate.rows;
      GpuMatrix g = new_matrix(t, int64_t(ex.size()) * 2 * I, ex[0]->gate.cols, what);
      Uploader up(g, what);
      for (size_t e = 0; e < ex.size(); ++e)
        for (int64_t j = 0; j < I; ++j) {
          pack_row(ex[e]->gate, j, t, up.row(int64_t(e) * 2 * I + 2 * j));
          pack_row(ex[e]->up, j, t, up.row(int64_t(e) * 2 * I + 2 * j + 1));
        }
      up.flush();
      return g;
    };
    auto upload_down = [&](const std::vector<const ExpertWeights*>& ex, const char* what) {
      DType t = experts_quantizable ? gpu_type(ex[0]->down) : DType::BF16;
      for (const ExpertWeights* x : ex)
        if (gpu_type(x->down) != t) t = DType::BF16;
      const int64_t H = ex[0]->down.rows;
      GpuMatrix g = new_matrix(t, int64_t(ex.size()) * H, ex[0]->down.cols, what);
      Uploader up(g, what);
      for (size_t e = 0; e < ex.size(); ++e)
        for (int64_t r = 0; r < H; ++r) pack_row(ex[e]->down, r, t, up.row(int64_t(e) * H + r));
      up.flush();
      return g;
    };

    embed = upload(w.embed, "embed_tokens");
    lm_head = upload(w.lm_head, "lm_head");
    put_floats(final_norm, w.final_norm, "norm");
    for (size_t l = 0; l < layers.size(); ++l) {
      const LayerWeights& src = w.layers[l];
      GpuLayer& L = layers[l];
      put_floats(L.input_norm, src.input_norm, "input_layernorm");
      put_floats(L.post_norm, src.post_norm, "post_attention_layernorm");
      if (L.kind == LayerKind::DeltaNet) {
        const DeltaNetWeights& g = src.deltanet;
        if (g.v_heads_tiled) dims.v_tiled = true;
        L.in_proj = upload_parts({{&g.qkv, "in_proj_qkv"}, {&g.z, "in_proj_z"}, {&g.b, "in_proj_b"}, {&g.a, "in_proj_a"}});
        L.out_proj = upload(g.out, "out_proj");
        put_floats(L.conv_w, g.conv, "conv1d");
        put_floats(L.A, g.A, "A_log");
        put_floats(L.dt_bias, g.dt_bias, "dt_bias");
        put_floats(L.gdn_norm, g.norm, "linear_attn.norm");
      } else {
        const AttentionWeights& a = src.attn;
        L.qkv = upload_parts({{&a.q, "q_proj"}, {&a.k, "k_proj"}, {&a.v, "v_proj"}});
        L.o_proj = upload(a.o, "o_proj");
        put_floats(L.q_norm, a.q_norm, "q_norm");
        put_floats(L.k_norm, a.k_norm, "k_norm");
      }
      const MoeWeights& m = src.moe;
      {
        Uploader up(L.router, "mlp.gate");
        for (int64_t r = 0; r < d.E; ++r) pack_row(m.router, r, DType::BF16, up.row(r));
        uint8_t* last = up.row(d.E);
        if (m.shared_gate.empty()) std::memset(last, 0, L.router.row_bytes);
        else pack_row(m.shared_gate, 0, DType::BF16, last);
        up.flush();
      }
      std::vector<const ExpertWeights*> ex;
      for (const ExpertWeights& x : m.experts) ex.push_back(&x);
      L.gate_up = upload_gate_up(ex, "experts gate/up");
      L.down = upload_down(ex, "experts down");
      if (d.Is > 0) {
        L.sh_gate_up = upload_gate_up({&m.shared}, "shared_expert gate/up");
        L.sh_down = upload_down({&m.shared}, "shared_expert.down_proj");
      }
    }
    finish();
  } catch (...) {
    for (void* p : allocations_) cudaFree(p);
    throw;
  }
}

GpuWeights::GpuWeights(const ModelConfig& c, uint64_t seed, SyntheticMix mix) {
  config = c;
  try {
    allocate_small();
    const Dims& d = dims;
    const size_t H = size_t(d.H);
    const bool ud = mix == SyntheticMix::UD_Q4_K_M;
    uint64_t n = 0;  // one stream of random numbers per tensor
    auto next_seed = [&] { return seed * 1000003u + ++n; };
    // A matrix of the type (bf16 unless quantized), unit-variance outputs for unit-variance inputs.
    auto mat = [&](DType t, int64_t rows, int64_t cols, const char* what) {
      if (!ud) t = DType::BF16;
      GpuMatrix m = new_matrix(t, rows, cols, what);
      const float s = std::sqrt(3.0f / float(cols));
      if (t == DType::BF16) fill_uniform_bf16(nullptr, const_cast<bf16*>(m.bf()), rows * cols, -s, s, next_seed());
      else fill_random_quant(nullptr, m, s, next_seed());
      return m;
    };
    auto vec = [&](float* p, size_t len, float lo, float hi) { fill_uniform_f32(nullptr, p, int64_t(len), lo, hi, next_seed()); };
    // UD-Q4_K_M: token_embd Q8_0 (values in ±1 as for bf16: scale so), output Q6_K, attention and
    // GDN projections and shared experts Q8_0, routed gate/up Q4_K, down Q5_K (Q6_K in 3 layers).
    embed = new_matrix(ud ? DType::Q8_0 : DType::BF16, d.V, d.H, "embed_tokens");
    if (ud) fill_random_quant(nullptr, embed, 1.0f, next_seed());
    else fill_uniform_bf16(nullptr, const_cast<bf16*>(embed.bf()), int64_t(size_t(d.V) * H), -1.0f, 1.0f, next_seed());
    lm_head = mat(DType::Q6_K, d.V, d.H, "lm_head");
    vec(final_norm, H, 0.9f, 1.1f);
    for (size_t l = 0; l < layers.size(); ++l) {
      GpuLayer& L = layers[l];
      vec(L.input_norm, H, 0.9f, 1.1f);
      vec(L.post_norm, H, 0.9f, 1.1f);
      if (L.kind == LayerKind::DeltaNet) {
        if (ud) L.in_proj = {mat(DType::Q8_0, d.conv_dim + d.value_dim, d.H, "in_proj qkv|z"),
                             mat(DType::BF16, 2 * d.nv, d.H, "in_proj b|a")};
        else L.in_proj = {mat(DType::BF16, in_proj_rows(), d.H, "in_proj")};
        L.out_proj = mat(DType::Q8_0, d.H, d.value_dim, "out_proj");
        vec(L.conv_w, size_t(d.conv_dim) * d.conv_k, -0.5f, 0.5f);
        vec(L.A, size_t(d.nv), -8.0f, -1.0f);
        vec(L.dt_bias, size_t(d.nv), -1.0f, 1.0f);
        vec(L.gdn_norm, size_t(d.dv), 0.9f, 1.1f);
      } else {
        L.qkv = {mat(DType::Q8_0, qkv_rows(), d.H, "qkv")};
        L.o_proj = mat(DType::Q8_0, d.H, int64_t(d.nq) * d.D, "o_proj");
        vec(L.q_norm, size_t(d.D), 0.9f, 1.1f);
        vec(L.k_norm, size_t(d.D), 0.9f, 1.1f);
      }
      const float s = std::sqrt(3.0f / float(H));
      fill_uniform_bf16(nullptr, const_cast<bf16*>(L.router.bf()), int64_t(d.E + 1) * d.H, -s, s, next_seed());
      L.gate_up = mat(DType::Q4_K, int64_t(d.E) * 2 * d.I, d.H, "experts gate/up");
      const bool more_bits = l < 2 || l + 1 == layers.size();
      L.down = mat(more_bits ? DType::Q6_K : DType::Q5_K, int64_t(d.E) * d.H, d.I, "experts down");
      if (d.Is > 0) {
        L.sh_gate_up = mat(DType::Q8_0, int64_t(2) * d.Is, d.H, "shared gate/up");
        L.sh_down = mat(DType::Q8_0, d.H, d.Is, "shared down");
      }
    }
    finish();
  } catch (...) {
    for (void* p : allocations_) cudaFree(p);
    throw;
  }
}

void GpuWeights::finish() {
  for (GpuLayer& L : layers) widen_bf16(nullptr, L.router.bf(), int64_t(dims.E + 1) * dims.H, L.router_f32);
  // Copies from pageable memory may still be in flight; the engine's stream does not wait for them.
  A3B_CUDA(cudaDeviceSynchronize());
}

size_t GpuWeights::add_dense_bf16_copies(size_t keep_free) {
  std::vector<GpuMatrix*> dense;
  auto consider = [&](GpuMatrix& m) {
    if (m.data && m.quantized()) dense.push_back(&m);
  };
  for (GpuLayer& L : layers) {
    for (GpuMatrix& m : L.in_proj) consider(m);
    for (GpuMatrix& m : L.qkv) consider(m);
    for (GpuMatrix* m : {&L.out_proj, &L.o_proj, &L.sh_gate_up, &L.sh_down}) consider(*m);
  }
  consider(lm_head);
  size_t need = 0;
  for (const GpuMatrix* m : dense) need += size_t(m->rows) * size_t(m->cols) * sizeof(bf16);
  size_t free = 0, total = 0;
  A3B_CUDA(cudaMemGetInfo(&free, &total));
  if (need == 0 || free < need + keep_free) return 0;
  Ctx ctx;
  for (GpuMatrix* m : dense) {
    bf16* copy = alloc_n<bf16>(size_t(m->rows) * size_t(m->cols), "a dense matrix's bf16 copy");
    dequant_rows(ctx, *m, 0, m->rows, copy, "dense bf16 copies");
    m->bf16_copy = copy;
  }
  A3B_CUDA(cudaDeviceSynchronize());
  return need;  // counted in `bytes` by alloc()
}

GpuWeights::~GpuWeights() {
  for (void* p : allocations_) cudaFree(p);
}

}  // namespace a3b::cuda
