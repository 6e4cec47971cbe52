// The kernels of one step, layer by layer (architecture.md §5): few tokens go through the GEMV
// kernels with float32 activations, many through cuBLAS and the grouped expert GEMMs.
#include <algorithm>

#include "core/error.h"
#include "cuda/engine.h"

namespace a3b::cuda {

// y[T, N] (+)= x · wᵀ for T rows: cuBLAS, or our GEMM as one group (opt.cublas = false).
// Quantized weights: their bf16 copy where one is kept (CudaOptions::dense_bf16_copies), else
// dequantized into the scratch first, as many rows at a time as it holds (a dense matrix gives
// the grouped GEMM one tile row: too few blocks to read it quantized).
void Engine::dense(const Plan& p, const Ctx& c, const bf16* x, int ldx, int T, const GpuMatrix& W, float* y, int ldy,
                   bool accumulate, const char* name) {
  const int K = W.cols;
  if (W.quantized() && W.bf16_copy) {
    GpuMatrix copy;
    copy.data = reinterpret_cast<const uint8_t*>(W.bf16_copy);
    copy.rows = W.rows;
    copy.cols = K;
    copy.row_bytes = size_t(K) * 2;
    return dense(p, c, x, ldx, T, copy, y, ldy, accumulate, name);
  }
  if (W.quantized()) {
    const int64_t chunk = std::max<int64_t>(1, ws.deq_elems / K);
    for (int64_t n0 = 0; n0 < W.rows; n0 += chunk) {
      const int64_t n = std::min(chunk, W.rows - n0);
      dequant_rows(c, W, n0, n, ws.deq, "dequant");
      GpuMatrix part;
      part.data = reinterpret_cast<const uint8_t*>(ws.deq);
      part.rows = n;
      part.cols = K;
      part.row_bytes = size_t(K) * 2;
      dense(p, c, x, ldx, T, part, y + n0, ldy, accumulate, name);
    }
    return;
  }
  const int N = int(W.rows);
  if (opt.cublas || T != p.T) return gemm_dense(c, x, ldx, T, W.bf(), N, K, y, ldy, accumulate, name);
  GroupGemmArgs g;
  g.a = x;
  g.lda = ldx;
  g.w = W.bf();
  g.N = N;
  g.K = K;
  g.groups = 1;
  g.seg = p.m.all_seg;
  g.tiles = p.m.all_tiles;
  g.max_tiles = (p.T + kGemmTileM - 1) / kGemmTileM;
  g.accumulate = accumulate;
  g.out = y;
  g.ldo = ldy;
  group_gemm(c, g, name);
}

// GEMV arguments for W · (rmsnorm(h) · norm_w), over h's first ntok rows.
GemvArgs Engine::on_normed_h(int ntok, const float* norm_w) const {
  GemvArgs a;
  a.ntok = ntok;
  a.input = GemvInput::Norm;
  a.x = ws.h;
  a.ldx = w->dims.H;
  a.norm_w = norm_w;
  a.eps = w->dims.eps;
  return a;
}

void Engine::enqueue_layers(const Plan& p, const Ctx& c) {
  {
    ProfileScope scope(c, "embed");
    A3B_CUDA(cudaMemcpyAsync(ws.meta_dev, ws.meta_host, p.meta_bytes, cudaMemcpyHostToDevice, c.stream));
  }
  embed(c, w->embed, p.m.tok_id, p.T, ws.h);
  for (const GpuLayer& L : w->layers) {
    if (L.kind == LayerKind::DeltaNet) deltanet_layer(p, c, L);
    else attention_layer(p, c, L);
    moe_layer(p, c, L);
  }
}

// y = W · norm(h) for the step's rows, through the GEMV (few tokens) or norm + a GEMM, part by part.
void Engine::project_normed(const Plan& p, const Ctx& c, const GpuParts& W, const float* norm_w, float* y, int ldy,
                            float* x_out, const char* name) {
  const Dims& d = w->dims;
  if (!p.small) rms_norm_rows(c, ws.h, d.H, nullptr, p.T, norm_w, d.eps, x_out, ws.xb);
  // A quantized part followed by a bf16 one (GGUF's float ssm_alpha/beta rows): one launch.
  const bool with_tail = p.small && W.size() == 2 && W[0].quantized() && W[1].type == DType::BF16;
  int64_t row0 = 0;
  for (size_t i = 0; i < W.size(); ++i) {
    const GpuMatrix& part = W[i];
    if (p.small) {
      if (with_tail && i == 1) break;
      GemvArgs a = on_normed_h(p.T, norm_w);
      a.w = part;
      if (with_tail) a.tail = W[1];
      a.x_out = row0 == 0 ? x_out : nullptr;
      a.y = y + row0;
      a.ldy = ldy;
      gemv(c, a, name);
    } else {
      dense(p, c, ws.xb, d.H, p.T, part, y + row0, ldy, false, name);
    }
    row0 += part.rows;
  }
}

void Engine::deltanet_layer(const Plan& p, const Ctx& c, const GpuLayer& L) {
  const Dims& d = w->dims;
  const int P = w->in_proj_rows();
  project_normed(p, c, L.in_proj, L.input_norm, ws.proj, P, nullptr, "deltanet/in_proj");
  GdnArgs g;
  g.d = d;
  g.slot = L.slot;
  g.proj = ws.proj;
  g.ldp = P;
  g.u = ws.u;
  g.conv_w = L.conv_w;
  g.A = L.A;
  g.dt_bias = L.dt_bias;
  g.o = ws.o;
  g.chunks = ws.gdn_chunks;
  g.m = p.m;
  if (p.decode) {
    gdn_decode(c, g);
  } else {
    gdn_conv(c, g);
    if (p.m.Sr) gdn_recurrent(c, g);
    if (p.m.Sc) gdn_chunked(c, g);
  }
  if (p.small) {
    GemvArgs a;
    a.w = L.out_proj;
    a.ntok = p.T;
    a.input = GemvInput::GatedNorm;
    a.x = ws.o;
    a.ldx = d.value_dim;
    a.z = ws.proj + d.conv_dim;
    a.ldz = P;
    a.head_dim = d.dv;
    a.norm_w = L.gdn_norm;
    a.eps = d.eps;
    a.y = ws.h;
    a.ldy = d.H;
    a.accumulate = true;
    gemv(c, a, "deltanet/out_proj");
  } else {
    gdn_gated_norm(c, g, L.gdn_norm, ws.ob);
    dense(p, c, ws.ob, d.value_dim, p.T, L.out_proj, ws.h, d.H, true, "deltanet/out_proj");
  }
}

void Engine::attention_layer(const Plan& p, const Ctx& c, const GpuLayer& L) {
  const Dims& d = w->dims;
  const int P = w->qkv_rows(), width = d.nq * d.D;
  project_normed(p, c, L.qkv, L.input_norm, ws.proj, P, nullptr, "attention/qkv_proj");
  AttnArgs a;
  a.d = d;
  a.slot = L.slot;
  a.proj = ws.proj;
  a.ldp = P;
  a.q_norm = L.q_norm;
  a.k_norm = L.k_norm;
  a.inv_freq = w->inv_freq;
  a.rope_scale = w->rope_scale;
  a.q = ws.q;
  a.part_o = ws.part_o;
  a.part_ml = ws.part_ml;
  a.n_chunks = p.n_chunks;
  a.chunk_len = p.chunk_len;
  a.m = p.m;
  if (p.small) a.out_f32 = ws.o;
  else a.out_bf16 = ws.ob;
  attn_prepare(c, a);
  for (int b = 0; b < p.m.Ts; b += kMaxShortTokens) {
    a.short_begin = b;
    a.short_count = std::min(kMaxShortTokens, p.m.Ts - b);
    attn_decode(c, a);
  }
  if (p.m.Sl) attn_prefill(c, a);
  if (p.small) {
    GemvArgs g;
    g.w = L.o_proj;
    g.ntok = p.T;
    g.x = ws.o;
    g.ldx = width;
    g.y = ws.h;
    g.ldy = d.H;
    g.accumulate = true;
    gemv(c, g, "attention/o_proj");
  } else {
    dense(p, c, ws.ob, width, p.T, L.o_proj, ws.h, d.H, true, "attention/o_proj");
  }
}

void Engine::moe_layer(const Plan& p, const Ctx& c, const GpuLayer& L) {
  const Dims& d = w->dims;
  MoeArgs m;
  m.d = d;
  m.T = p.T;
  m.logits = ws.router;
  m.x = ws.x;
  m.xb = ws.xb;
  m.gate_up = L.gate_up;
  m.down = L.down;
  m.sh_gate_up = L.sh_gate_up;
  m.sh_down = L.sh_down;
  m.h = ws.h;
  m.topk_id = ws.topk_id;
  m.topk_w = ws.topk_w;
  m.act = ws.act;
  m.counts = ws.counts;
  m.seg = ws.seg;
  m.tiles = ws.tiles;
  m.fill = ws.fill;
  m.perm_tok = ws.perm_tok;
  m.slot_of = ws.slot_of;
  m.act_b = ws.act_b;
  m.sh_act_b = ws.sh_act_b;
  m.y_exp = ws.y_exp;
  m.y_sh = L.sh_gate_up.data ? ws.y_sh : nullptr;
  m.deq = ws.deq;
  m.quant_gemm = !p.small && p.T <= opt.quant_gemm_tokens;
  m.m = p.m;
  if (p.small) {
    GemvArgs a = on_normed_h(p.T, L.post_norm);  // router logits, and (bf16 experts) the top-k in the last block
    a.w = L.router;
    a.x_out = ws.x;
    a.y = ws.router;
    a.ldy = d.E + 1;
    if (!moe_routes_in_experts(m)) {
      a.counter = ws.counter;
      a.topk_E = d.E;
      a.topk_k = d.k;
      a.topk_id = ws.topk_id;
      a.topk_w = ws.topk_w;
      // The shared expert's gate/up in the router's launch: its rows stream while the router's
      // few blocks wait on their chain, and the routed experts' launch fits in one wave.
      if (L.sh_gate_up.data && d.H < 4096) {
        const int act_stride = std::max(d.I, d.Is);
        a.pair_w = L.sh_gate_up;
        a.pair_out = ws.act + size_t(d.k) * act_stride;
        a.pair_ld = (d.k + 1) * act_stride;
        m.shared_act_ready = true;
      }
    }
    gemv(c, a, "moe/router");
  } else {
    // Router logits from float32 rows: bf16 rounding would flip near-tie expert choices.
    rms_norm_rows(c, ws.h, d.H, nullptr, p.T, L.post_norm, d.eps, ws.x, ws.xb);
    gemm_dense_f32(c, ws.x, d.H, p.T, L.router_f32, d.E + 1, d.H, ws.router, d.E + 1, "moe/router");
  }
  if (p.small) {
    moe_small(c, m, true);
  } else if (opt.grouped_moe) {
    moe_grouped(c, m);
  } else {
    for (int t0 = 0; t0 < p.T; t0 += kGemvMaxTokens) {  // the gather-GEMV, a few rows at a time
      MoeArgs s = m;
      s.T = std::min(kGemvMaxTokens, p.T - t0);
      s.logits = ws.router + size_t(t0) * (d.E + 1);
      s.x = ws.x + size_t(t0) * d.H;
      s.h = ws.h + size_t(t0) * d.H;
      moe_small(c, s);
    }
  }
}

void Engine::enqueue_lm_head(const Plan& p, const Ctx& c, int r0, int n) {
  const Dims& d = w->dims;
  if (n <= kGemvMaxTokens) {
    GemvArgs a = on_normed_h(n, w->final_norm);
    a.w = w->lm_head;
    a.x_rows = p.m.logit_rows + r0;
    a.y = ws.logits;
    a.ldy = d.V;
    gemv(c, a, "lm_head");
  } else {
    rms_norm_rows(c, ws.h, d.H, p.m.logit_rows + r0, n, w->final_norm, d.eps, nullptr, ws.xb);
    dense(p, c, ws.xb, d.H, n, w->lm_head, ws.logits, d.V, false, "lm_head");
  }
}

}  // namespace a3b::cuda
