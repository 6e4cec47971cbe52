// Gated DeltaNet on the GPU (architecture.md §7). The state of one value head is dk×dv floats;
// its dv columns evolve independently, so every kernel gives a block 32 columns of one head:
// 128 blocks per sequence for the real model. Decode fuses the causal conv into the update; the
// conv state is a ring of conv_k rows indexed by position, so no block overwrites a row another
// block of the same step still reads.
#include "cuda/deltanet.cuh"

namespace a3b::cuda {
namespace {

constexpr int kCols = kGdnCols, kMaxDk = kGdnMaxDk;
constexpr int kRows = kMaxDk / 8;
constexpr int kPreConvK = 4;  // conv widths whose taps the decode kernel fetches before waiting

// One token per block iteration: conv (fused, from the ring) or post-conv rows from u, then
// S ← e^g S + k δᵀ with δ = β (v − e^g Sᵀk), o = Sᵀq. S stays in registers across tokens.
template <bool kFused>
__global__ __launch_bounds__(256) void gdn_step_kernel(GdnArgs a) {
  __shared__ float qs[kMaxDk], ks[kMaxDk], vs[kCols], red[8][kCols], gb[2];
  const Dims d = a.d;
  const int h = blockIdx.x, cb = blockIdx.y, tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const SeqDesc sd = a.m.seqs[kFused ? int(blockIdx.z) : a.m.rec_seq[blockIdx.z]];
  const int hk = d.v_tiled ? h % d.nk : h / (d.nv / d.nk), dk = d.dk, dv = d.dv;
  const int j = cb * kCols + lane;
  const bool jok = j < dv;
  float* S = sd.gdn + (size_t(a.slot) * d.nv + h) * dk * dv;
  float* ring = sd.ring + size_t(a.slot) * d.conv_k * d.conv_dim;

  // The input channel behind item idx of the block's q, k, v rows (false: a v column past dv).
  auto channel = [&](int idx, int* ch, float** dst, bool* owner) {
    if (idx < 2 * dk) {
      const bool is_k = idx >= dk;
      const int i = is_k ? idx - dk : idx;
      *ch = (is_k ? d.key_dim : 0) + hk * dk + i;
      *dst = (is_k ? ks : qs) + i;
      *owner = (d.v_tiled ? h < d.nk : h % (d.nv / d.nk) == 0) && cb == 0;  // the one block that writes the ring row
      return true;
    }
    const int c = idx - 2 * dk;
    *dst = vs + c;
    *ch = 2 * d.key_dim + h * dv + cb * kCols + c;
    *owner = true;
    return cb * kCols + c < dv;
  };

  // Before waiting, everything an earlier step or the weights hold: the state, and (decode) the
  // conv taps with the ring rows of the previous positions (a thread has at most two items).
  float s[kRows];
#pragma unroll
  for (int r = 0; r < kRows; ++r) {
    const int i = warp + 8 * r;
    s[r] = (i < dk && jok) ? S[size_t(i) * dv + j] : 0.0f;
  }
  const int K = d.conv_k, items = 2 * dk + kCols;
  const bool pre = kFused && K <= kPreConvK && items <= 2 * int(blockDim.x);
  // Per item (pre): its channel, where it goes, the current input's tap, Σ taps · earlier inputs.
  int pch[2] = {-1, -1};
  float* pdst[2] = {nullptr, nullptr};
  bool powner[2] = {false, false};
  float w_now[2] = {0, 0}, past[2] = {0, 0};
  if (pre) {
#pragma unroll
    for (int it = 0; it < 2; ++it) {
      const int idx = tid + it * blockDim.x;
      if (idx >= items) continue;
      if (!channel(idx, &pch[it], &pdst[it], &powner[it])) {
        pch[it] = -1;  // a padding column: zero
        continue;
      }
      const float* w = a.conv_w + size_t(pch[it]) * K;
      w_now[it] = w[K - 1];
#pragma unroll
      for (int jj = 0; jj < kPreConvK - 1; ++jj) {
        const int p = sd.pos0 - (K - 1) + jj;
        if (jj < K - 1 && p >= 0) past[it] += w[jj] * ring[size_t(p % K) * d.conv_dim + pch[it]];
      }
    }
  }
  const float A = a.A[h], dt_bias = a.dt_bias[h];
  grid_sync_prev();
  const GdnOffsets off = gdn_offsets(d);
  const int n = kFused ? 1 : sd.n;
  for (int tt = 0; tt < n; ++tt) {
    const int row = sd.row0 + tt, pos = sd.pos0 + tt;
    const float* pr = a.proj + size_t(row) * a.ldp;
    // The step's own inputs, all requested at once: the items' channels and (thread 0) β, decay.
    float raw[2] = {0, 0}, in_a = 0, in_b = 0;
    if (pre)
#pragma unroll
      for (int it = 0; it < 2; ++it)
        if (pch[it] >= 0) raw[it] = pr[pch[it]];
    if (tid == 0) in_a = pr[off.a + h], in_b = pr[off.b + h];
    if (pre) {
#pragma unroll
      for (int it = 0; it < 2; ++it) {
        if (pch[it] >= 0) {
          *pdst[it] = silu(w_now[it] * raw[it] + past[it]);
          if (powner[it]) ring[size_t(pos % K) * d.conv_dim + pch[it]] = raw[it];
        } else if (pdst[it]) {
          *pdst[it] = 0.0f;
        }
      }
    } else {
      for (int idx = tid; idx < items; idx += blockDim.x) {
        int ch;
        float* dst;
        bool owner;
        if (!channel(idx, &ch, &dst, &owner)) {
          *dst = 0.0f;
          continue;
        }
        if (!kFused) {
          *dst = a.u[size_t(row) * d.conv_dim + ch];
          continue;
        }
        const float* w = a.conv_w + size_t(ch) * K;
        float acc = w[K - 1] * pr[ch];
        for (int jj = 0; jj < K - 1; ++jj) {
          const int p = pos - (K - 1) + jj;
          if (p >= 0) acc += w[jj] * ring[size_t(p % K) * d.conv_dim + ch];
        }
        *dst = silu(acc);
        if (owner) ring[size_t(pos % K) * d.conv_dim + ch] = pr[ch];
      }
    }
    if (tid == 0) {
      gb[0] = expf(A * softplus(in_a + dt_bias));
      gb[1] = sigmoid(in_b);
    }
    __syncthreads();
    if (warp < 2) {  // l2-normalise q (warp 0, also scaled by 1/√dk) and k (warp 1)
      float* v = warp ? ks : qs;
      float ss = 0;
      for (int i = lane; i < dk; i += 32) ss += v[i] * v[i];
      ss = warp_sum(ss);
      float scale = 1.0f / sqrtf(ss + 1e-6f);
      if (warp == 0) scale *= 1.0f / sqrtf(float(dk));
      for (int i = lane; i < dk; i += 32) v[i] *= scale;
    }
    __syncthreads();
    const float decay = gb[0], beta = gb[1];
    float mp = 0;
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      const int i = warp + 8 * r;
      if (i < dk) mp += s[r] * ks[i];
    }
    red[warp][lane] = mp;
    __syncthreads();
    float m = 0;
#pragma unroll
    for (int w = 0; w < 8; ++w) m += red[w][lane];
    const float delta = beta * (vs[lane] - decay * m);
    __syncthreads();
    float op = 0;
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      const int i = warp + 8 * r;
      if (i < dk) {
        s[r] = decay * s[r] + ks[i] * delta;
        op += s[r] * qs[i];
      }
    }
    red[warp][lane] = op;
    __syncthreads();
    if (warp == 0 && jok) {
      float o = 0;
#pragma unroll
      for (int w = 0; w < 8; ++w) o += red[w][lane];
      a.o[size_t(row) * d.value_dim + h * dv + j] = o;
    }
    __syncthreads();
  }
#pragma unroll
  for (int r = 0; r < kRows; ++r) {
    const int i = warp + 8 * r;
    if (i < dk && jok) S[size_t(i) * dv + j] = s[r];
  }
}

// u = silu(causal depthwise conv) for every token; earlier positions come from this step's rows
// or, before the step, from the ring.
__global__ void gdn_conv_kernel(GdnArgs a) {
  grid_sync_prev();
  const Dims d = a.d;
  const int t = blockIdx.y, ch = blockIdx.x * blockDim.x + threadIdx.x;
  if (ch >= d.conv_dim) return;
  const SeqDesc sd = a.m.seqs[a.m.tok_seq[t]];
  const int pos = a.m.tok_pos[t], K = d.conv_k;
  const float* ring = sd.ring + size_t(a.slot) * K * d.conv_dim;
  const float* w = a.conv_w + size_t(ch) * K;
  float acc = 0;
  for (int jj = 0; jj < K; ++jj) {
    const int p = pos - (K - 1) + jj;
    float v = 0;
    if (p >= sd.pos0) v = a.proj[size_t(sd.row0 + p - sd.pos0) * a.ldp + ch];
    else if (p >= 0) v = ring[size_t(p % K) * d.conv_dim + ch];
    acc += w[jj] * v;
  }
  a.u[size_t(t) * d.conv_dim + ch] = silu(acc);
}

// After the conv: the ring keeps the pre-conv rows of each sequence's last conv_k positions.
__global__ void gdn_ring_kernel(GdnArgs a) {
  grid_sync_prev();
  const Dims d = a.d;
  const int ch = blockIdx.x * blockDim.x + threadIdx.x;
  if (ch >= d.conv_dim) return;
  const SeqDesc sd = a.m.seqs[blockIdx.y];
  const int K = d.conv_k;
  float* ring = sd.ring + size_t(a.slot) * K * d.conv_dim;
  for (int tt = max(0, sd.n - K); tt < sd.n; ++tt)
    ring[size_t((sd.pos0 + tt) % K) * d.conv_dim + ch] = a.proj[size_t(sd.row0 + tt) * a.ldp + ch];
}

// rmsnorm(o_h) · w · silu(z_h) per value head, as bf16 rows for the out projection.
__global__ void gdn_gated_norm_kernel(GdnArgs a, const float* norm_w, bf16* out) {
  grid_sync_prev();
  const Dims d = a.d;
  const int t = blockIdx.x, lane = threadIdx.x % 32;
  const float* o = a.o + size_t(t) * d.value_dim;
  const float* z = a.proj + size_t(t) * a.ldp + d.conv_dim;
  for (int hh = threadIdx.x / 32; hh < d.nv; hh += blockDim.x / 32) {
    const float* v = o + hh * d.dv;
    float ss = 0;
    for (int i = lane; i < d.dv; i += 32) ss += v[i] * v[i];
    ss = warp_sum(ss);
    const float inv = 1.0f / sqrtf(ss / float(d.dv) + d.eps);
    for (int i = lane; i < d.dv; i += 32)
      out[size_t(t) * d.value_dim + hh * d.dv + i] = __float2bfloat16_rn(v[i] * inv * norm_w[i] * silu(z[hh * d.dv + i]));
  }
}

}  // namespace

void gdn_decode(const Ctx& ctx, const GdnArgs& a) {
  gdn_check_dims(a.d);
  launch(ctx, "deltanet/decode", gdn_step_kernel<true>, gdn_head_grid(a.d, a.m.S), 256, 0, a);
}

void gdn_conv(const Ctx& ctx, const GdnArgs& a) {
  launch(ctx, "deltanet/conv", gdn_conv_kernel, dim3(blocks_for(a.d.conv_dim, 256), unsigned(a.m.T)), 256, 0, a);
  launch(ctx, "deltanet/ring", gdn_ring_kernel, dim3(blocks_for(a.d.conv_dim, 256), unsigned(a.m.S)), 256, 0, a);
}

void gdn_recurrent(const Ctx& ctx, const GdnArgs& a) {
  gdn_check_dims(a.d);
  launch(ctx, "deltanet/recurrent", gdn_step_kernel<false>, gdn_head_grid(a.d, a.m.Sr), 256, 0, a);
}

void gdn_gated_norm(const Ctx& ctx, const GdnArgs& a, const float* norm_w, bf16* out) {
  launch(ctx, "deltanet/gated_norm", gdn_gated_norm_kernel, unsigned(a.m.T), 256, 0, a, norm_w, out);
}

}  // namespace a3b::cuda
