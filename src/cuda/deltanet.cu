// Gated DeltaNet on the GPU (architecture.md §7). The state of one value head is dk×dv floats;
// its dv columns evolve independently, so every kernel gives a block 32 columns of one head:
// 128 blocks per sequence for the real model. Decode fuses the causal conv into the update; the
// conv state is a ring of conv_k rows indexed by position, so no block overwrites a row another
// block of the same step still reads.
#include "cuda/common.cuh"
#include "cuda/kernels.h"

namespace a3b::cuda {
namespace {

constexpr int kCols = 32;     // value columns per block
constexpr int kMaxDk = 128;   // key dimension the kernels hold (8 warps × 16 rows)
constexpr int kRows = kMaxDk / 8;
constexpr int kC = 64;        // chunk length of the parallel form
constexpr int kPreConvK = 4;  // conv widths whose taps the decode kernel fetches before waiting

struct GdnOffsets {
  int b, a;  // columns of β and decay inputs in the in-proj rows
};
__device__ __forceinline__ GdnOffsets offsets(const Dims& d) {
  return {d.conv_dim + d.value_dim, d.conv_dim + d.value_dim + d.nv};
}

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
  const GdnOffsets off = offsets(d);
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

// The chunked form (architecture.md §7.6), one 64-token chunk after another, for 32 columns.
constexpr int kDkP = kMaxDk + 1, kCP = kCols + 1, kAP = kC + 1;  // padded strides: no bank conflicts
constexpr size_t kChunkSmemFloats = 3 * kC * kDkP + kC * kCP + kMaxDk * kCP + kC * kAP + 2 * kC;

__global__ __launch_bounds__(256) void gdn_chunk_kernel(GdnArgs a) {
  extern __shared__ float4 smem4[];
  float* Qs = reinterpret_cast<float*>(smem4);  // [kC][kDkP]
  float* Ks = Qs + kC * kDkP;                    // [kC][kDkP]
  float* Ws = Ks + kC * kDkP;                    // [kC][kDkP]: W = (I+A)⁻¹ diag(β e^γ) K
  float* Us = Ws + kC * kDkP;                    // [kC][kCP]: U = (I+A)⁻¹ diag(β) V, then Vn = U − W S
  float* Ss = Us + kC * kCP;                     // [kMaxDk][kCP]: the state's columns
  float* As = Ss + kMaxDk * kCP;                 // [kC][kAP]: A, then P = (Q Kᵀ) ⊙ D
  float* gam = As + kC * kAP;                    // [kC] cumulative log-decay
  float* fac = gam + kC;                         // [kC] β, later e^{γ_last − γ_r}
  grid_sync_prev();
  const Dims d = a.d;
  const int h = blockIdx.x, cb = blockIdx.y, tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const SeqDesc sd = a.m.seqs[a.m.chunk_seq[blockIdx.z]];
  const int hk = d.v_tiled ? h % d.nk : h / (d.nv / d.nk), dk = d.dk, dv = d.dv;
  const GdnOffsets off = offsets(d);
  const float A = a.A[h], dt_bias = a.dt_bias[h], q_scale = 1.0f / sqrtf(float(dk));
  float* S = sd.gdn + (size_t(a.slot) * d.nv + h) * dk * dv;

  for (int idx = tid; idx < dk * kCols; idx += blockDim.x) {
    const int i = idx / kCols, c = idx % kCols, jc = cb * kCols + c;
    Ss[i * kCP + c] = jc < dv ? S[size_t(i) * dv + jc] : 0.0f;
  }
  for (int c0 = 0; c0 < sd.n; c0 += kC) {
    const int nc = min(kC, sd.n - c0);
    __syncthreads();
    // 1. Rows of the chunk (zero past its end: β = g = 0 there leaves the state alone), read as
    //    16-byte pieces, all of a thread's pieces in flight before the first store.
    {
      const int q4 = dk / 4;  // float4 pieces per q or k row
      constexpr int kPer = (kC * (kMaxDk / 4) * 2 + 255) / 256;  // pieces per thread, at most
      float4 buf[kPer];
#pragma unroll
      for (int i = 0; i < kPer; ++i) {
        const int idx = tid + i * 256, which = idx / (kC * q4), rem = idx % (kC * q4), r = rem / q4, c4 = rem % q4;
        buf[i] = make_float4(0, 0, 0, 0);
        if (which < 2 && r < nc)
          buf[i] = *reinterpret_cast<const float4*>(a.u + size_t(sd.row0 + c0 + r) * d.conv_dim + (which ? d.key_dim : 0) +
                                                    hk * dk + 4 * c4);
      }
#pragma unroll
      for (int i = 0; i < kPer; ++i) {
        const int idx = tid + i * 256, which = idx / (kC * q4), rem = idx % (kC * q4), r = rem / q4, c4 = rem % q4;
        if (which < 2) {
          float* dst = (which ? Ks : Qs) + r * kDkP + 4 * c4;
          dst[0] = buf[i].x, dst[1] = buf[i].y, dst[2] = buf[i].z, dst[3] = buf[i].w;
        }
      }
      float4 vb[2];
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        const int idx = tid + i * 256, r = idx / (kCols / 4), c4 = idx % (kCols / 4), jc = cb * kCols + 4 * c4;
        vb[i] = make_float4(0, 0, 0, 0);
        if (r < nc && jc < dv)
          vb[i] = *reinterpret_cast<const float4*>(a.u + size_t(sd.row0 + c0 + r) * d.conv_dim + 2 * d.key_dim + h * dv + jc);
      }
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        const int idx = tid + i * 256, r = idx / (kCols / 4), c4 = idx % (kCols / 4);
        float* dst = Us + r * kCP + 4 * c4;
        dst[0] = vb[i].x, dst[1] = vb[i].y, dst[2] = vb[i].z, dst[3] = vb[i].w;
      }
    }
    if (tid < kC) {
      const float* pr = a.proj + size_t(sd.row0 + c0 + tid) * a.ldp;
      fac[tid] = tid < nc ? sigmoid(pr[off.b + h]) : 0.0f;
      gam[tid] = tid < nc ? A * softplus(pr[off.a + h] + dt_bias) : 0.0f;
    }
    __syncthreads();
    // 2. l2 norms (q also scaled), cumulative decay.
    for (int r = warp; r < 2 * kC; r += 8) {
      float* v = (r < kC ? Qs : Ks) + (r % kC) * kDkP;
      float ss = 0;
      for (int i = lane; i < dk; i += 32) ss += v[i] * v[i];
      ss = warp_sum(ss);
      const float scale = (1.0f / sqrtf(ss + 1e-6f)) * (r < kC ? q_scale : 1.0f);
      for (int i = lane; i < dk; i += 32) v[i] *= scale;
    }
    if (tid == 0)
      for (int r = 1; r < kC; ++r) gam[r] += gam[r - 1];
    __syncthreads();
    // Products below give each thread a micro-tile: rows ti + 16·m, columns tj + 16·n.
    const int ti = tid / 16, tj = tid % 16;
    // 3. A_ij = β_i (k_i·k_j) e^{γ_i − γ_j} for j < i; right-hand sides β e^γ K and β V.
    {
      float acc[4][4] = {};
#pragma unroll 4
      for (int x = 0; x < dk; ++x) {
        float ka[4], kb[4];
#pragma unroll
        for (int m = 0; m < 4; ++m) ka[m] = Ks[(ti + 16 * m) * kDkP + x], kb[m] = Ks[(tj + 16 * m) * kDkP + x];
#pragma unroll
        for (int m = 0; m < 4; ++m)
#pragma unroll
          for (int n = 0; n < 4; ++n) acc[m][n] += ka[m] * kb[n];
      }
#pragma unroll
      for (int m = 0; m < 4; ++m)
#pragma unroll
        for (int n = 0; n < 4; ++n) {
          const int i = ti + 16 * m, jj = tj + 16 * n;
          As[i * kAP + jj] = jj < i ? acc[m][n] * fac[i] * expf(gam[i] - gam[jj]) : 0.0f;
        }
    }
    for (int idx = tid; idx < kC * dk; idx += blockDim.x) {
      const int r = idx / dk, i = idx % dk;
      Ws[r * kDkP + i] = fac[r] * expf(gam[r]) * Ks[r * kDkP + i];
    }
    for (int idx = tid; idx < kC * kCols; idx += blockDim.x) Us[(idx / kCols) * kCP + idx % kCols] *= fac[idx / kCols];
    __syncthreads();
    // 4. (I + A)⁻¹ by forward substitution; every column is independent, so one thread owns one.
    if (tid < dk + kCols) {
      float* X = tid < dk ? Ws + tid : Us + (tid - dk);
      const int stride = tid < dk ? kDkP : kCP;
      for (int i = 1; i < kC; ++i) {
        const float* Ai = As + i * kAP;
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int jj = 0;
        for (; jj + 4 <= i; jj += 4) {
          s0 += Ai[jj] * X[jj * stride];
          s1 += Ai[jj + 1] * X[(jj + 1) * stride];
          s2 += Ai[jj + 2] * X[(jj + 2) * stride];
          s3 += Ai[jj + 3] * X[(jj + 3) * stride];
        }
        for (; jj < i; ++jj) s0 += Ai[jj] * X[jj * stride];
        X[i * stride] -= (s0 + s1) + (s2 + s3);
      }
    }
    __syncthreads();
    // 5. Vn = U − W S.
    {
      float acc[4][2] = {};
#pragma unroll 4
      for (int x = 0; x < dk; ++x) {
        float wa[4], sb[2];
#pragma unroll
        for (int m = 0; m < 4; ++m) wa[m] = Ws[(ti + 16 * m) * kDkP + x];
#pragma unroll
        for (int n = 0; n < 2; ++n) sb[n] = Ss[x * kCP + tj + 16 * n];
#pragma unroll
        for (int m = 0; m < 4; ++m)
#pragma unroll
          for (int n = 0; n < 2; ++n) acc[m][n] += wa[m] * sb[n];
      }
#pragma unroll
      for (int m = 0; m < 4; ++m)
#pragma unroll
        for (int n = 0; n < 2; ++n) Us[(ti + 16 * m) * kCP + tj + 16 * n] -= acc[m][n];
    }
    // 6. P = (Q Kᵀ) ⊙ D over j ≤ i (A is no longer needed).
    {
      float acc[4][4] = {};
#pragma unroll 4
      for (int x = 0; x < dk; ++x) {
        float qa[4], kb[4];
#pragma unroll
        for (int m = 0; m < 4; ++m) qa[m] = Qs[(ti + 16 * m) * kDkP + x], kb[m] = Ks[(tj + 16 * m) * kDkP + x];
#pragma unroll
        for (int m = 0; m < 4; ++m)
#pragma unroll
          for (int n = 0; n < 4; ++n) acc[m][n] += qa[m] * kb[n];
      }
#pragma unroll
      for (int m = 0; m < 4; ++m)
#pragma unroll
        for (int n = 0; n < 4; ++n) {
          const int i = ti + 16 * m, jj = tj + 16 * n;
          As[i * kAP + jj] = jj <= i ? acc[m][n] * expf(gam[i] - gam[jj]) : 0.0f;
        }
    }
    __syncthreads();
    // 7. O = diag(e^γ) Q S + P Vn; decay factors for the state update.
    const float g_last = gam[kC - 1];
    if (tid < kC) fac[tid] = expf(g_last - gam[tid]);
    {
      float qs_[4][2] = {}, pv[4][2] = {};
#pragma unroll 4
      for (int x = 0; x < dk; ++x) {
        float qa[4], sb[2];
#pragma unroll
        for (int m = 0; m < 4; ++m) qa[m] = Qs[(ti + 16 * m) * kDkP + x];
#pragma unroll
        for (int n = 0; n < 2; ++n) sb[n] = Ss[x * kCP + tj + 16 * n];
#pragma unroll
        for (int m = 0; m < 4; ++m)
#pragma unroll
          for (int n = 0; n < 2; ++n) qs_[m][n] += qa[m] * sb[n];
      }
#pragma unroll 4
      for (int jj = 0; jj < kC; ++jj) {
        float pa[4], vb[2];
#pragma unroll
        for (int m = 0; m < 4; ++m) pa[m] = As[(ti + 16 * m) * kAP + jj];
#pragma unroll
        for (int n = 0; n < 2; ++n) vb[n] = Us[jj * kCP + tj + 16 * n];
#pragma unroll
        for (int m = 0; m < 4; ++m)
#pragma unroll
          for (int n = 0; n < 2; ++n) pv[m][n] += pa[m] * vb[n];
      }
#pragma unroll
      for (int m = 0; m < 4; ++m) {
        const int r = ti + 16 * m;
        const float eg = expf(gam[r]);
#pragma unroll
        for (int n = 0; n < 2; ++n) {
          const int jc = cb * kCols + tj + 16 * n;
          if (r < nc && jc < dv) a.o[size_t(sd.row0 + c0 + r) * d.value_dim + h * dv + jc] = eg * qs_[m][n] + pv[m][n];
        }
      }
    }
    __syncthreads();
    // 8. S ← e^{γ_last} S + Σ_r e^{γ_last − γ_r} k_r Vn_rᵀ.
    {
      const float e_last = expf(g_last);
      float acc[kMaxDk / 16][2];
#pragma unroll
      for (int m = 0; m < kMaxDk / 16; ++m)
#pragma unroll
        for (int n = 0; n < 2; ++n) acc[m][n] = 0.0f;
#pragma unroll 2
      for (int r = 0; r < kC; ++r) {
        float ka[kMaxDk / 16], vb[2];
        const float f = fac[r];
#pragma unroll
        for (int m = 0; m < kMaxDk / 16; ++m) ka[m] = f * Ks[r * kDkP + ti + 16 * m];
#pragma unroll
        for (int n = 0; n < 2; ++n) vb[n] = Us[r * kCP + tj + 16 * n];
#pragma unroll
        for (int m = 0; m < kMaxDk / 16; ++m)
#pragma unroll
          for (int n = 0; n < 2; ++n) acc[m][n] += ka[m] * vb[n];
      }
#pragma unroll
      for (int m = 0; m < kMaxDk / 16; ++m)
#pragma unroll
        for (int n = 0; n < 2; ++n) {
          const int x = ti + 16 * m;
          if (x < dk) Ss[x * kCP + tj + 16 * n] = e_last * Ss[x * kCP + tj + 16 * n] + acc[m][n];
        }
    }
  }
  __syncthreads();
  for (int idx = tid; idx < dk * kCols; idx += blockDim.x) {
    const int i = idx / kCols, c = idx % kCols, jc = cb * kCols + c;
    if (jc < dv) S[size_t(i) * dv + jc] = Ss[i * kCP + c];
  }
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

void check_dims(const Dims& d) {
  if (d.dk > kMaxDk) fail("CUDA DeltaNet: key head dim ", d.dk, " exceeds the supported ", kMaxDk);
  if (d.dk % 4 || d.dv % 4) fail("CUDA DeltaNet: head dims must be multiples of 4");
  if (d.nv % d.nk != 0) fail("CUDA DeltaNet: value heads must be a multiple of key heads");
}

dim3 head_grid(const Dims& d, int seqs) { return dim3(unsigned(d.nv), blocks_for(d.dv, kCols), unsigned(seqs)); }

}  // namespace

void gdn_decode(const Ctx& ctx, const GdnArgs& a) {
  check_dims(a.d);
  launch(ctx, "deltanet/decode", gdn_step_kernel<true>, head_grid(a.d, a.m.S), 256, 0, a);
}

void gdn_conv(const Ctx& ctx, const GdnArgs& a) {
  launch(ctx, "deltanet/conv", gdn_conv_kernel, dim3(blocks_for(a.d.conv_dim, 256), unsigned(a.m.T)), 256, 0, a);
  launch(ctx, "deltanet/ring", gdn_ring_kernel, dim3(blocks_for(a.d.conv_dim, 256), unsigned(a.m.S)), 256, 0, a);
}

void gdn_recurrent(const Ctx& ctx, const GdnArgs& a) {
  check_dims(a.d);
  launch(ctx, "deltanet/recurrent", gdn_step_kernel<false>, head_grid(a.d, a.m.Sr), 256, 0, a);
}

void gdn_chunked(const Ctx& ctx, const GdnArgs& a) {
  check_dims(a.d);
  launch(ctx, "deltanet/chunked", gdn_chunk_kernel, head_grid(a.d, a.m.Sc), 256, kChunkSmemFloats * sizeof(float), a);
}

void gdn_gated_norm(const Ctx& ctx, const GdnArgs& a, const float* norm_w, bf16* out) {
  launch(ctx, "deltanet/gated_norm", gdn_gated_norm_kernel, unsigned(a.m.T), 256, 0, a, norm_w, out);
}

}  // namespace a3b::cuda
