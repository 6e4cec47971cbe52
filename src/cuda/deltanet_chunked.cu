// Gated DeltaNet prefill in chunks of 64 tokens (architecture.md §7.6), in two kernels:
//   1. per (head, chunk), all chunks at once: what does not depend on the state — A, the inverse
//      T = (I + A)⁻¹ (forward substitution), P = (Q Kᵀ) ⊙ D, the cumulative decay γ, and β;
//   2. per (head, 32 columns), chunk after chunk: with S the state before the chunk,
//        Vn = T · diag(β) (V − diag(e^γ) K S),   O = diag(e^γ) Q S + P Vn,
//        S ← e^{γ_last} S + Σ_r e^{γ_last − γ_r} k_r Vn_rᵀ,
//      (Vn = U − W S of the usual W/U form, U = T diag(β) V, W = T diag(β e^γ) K).
// The second kernel is the sequential one, so the first takes everything it can.
#include "cuda/deltanet.cuh"

namespace a3b::cuda {
namespace {

constexpr int kC = kGdnChunk;
constexpr int kCols = kGdnCols, kMaxDk = kGdnMaxDk;
constexpr int kDkP = kMaxDk + 1, kCP = kCols + 1, kAP = kC + 1;  // padded strides: no bank conflicts

// A chunk's record: T [kC][kC], P [kC][kC], γ [kC], β [kC].
__device__ __forceinline__ float* chunk_record(const GdnArgs& a, const SeqDesc& sd, int c, int h) {
  return a.chunks + (size_t(sd.chunk0 + c) * a.d.nv + h) * kGdnChunkRecord;
}

// Rows [c0, c0 + nc) of the q and k heads into Qs / Ks (zero past nc), all of a thread's 16-byte
// pieces in flight before the first store.
__device__ void load_qk(const GdnArgs& a, const SeqDesc& sd, int hk, int c0, int nc, float* Qs, float* Ks) {
  const Dims& d = a.d;
  const int tid = threadIdx.x, dk = d.dk, q4 = dk / 4;  // float4 pieces per q or k row
  constexpr int kPer = (kC * (kMaxDk / 4) * 2 + 255) / 256;
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
}

// l2-normalise the chunk's q rows (also scaled by 1/√dk) and k rows, a warp per row.
__device__ void normalise_qk(int dk, float* Qs, float* Ks) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const float q_scale = 1.0f / sqrtf(float(dk));
  for (int r = warp; r < 2 * kC; r += 8) {
    float* v = (r < kC ? Qs : Ks) + (r % kC) * kDkP;
    float ss = 0;
    for (int i = lane; i < dk; i += 32) ss += v[i] * v[i];
    ss = warp_sum(ss);
    const float scale = (1.0f / sqrtf(ss + 1e-6f)) * (r < kC ? q_scale : 1.0f);
    for (int i = lane; i < dk; i += 32) v[i] *= scale;
  }
}

// Block (value head, chunk, sequence): the chunk's record.
__global__ __launch_bounds__(256) void gdn_chunk_prep_kernel(GdnArgs a) {
  extern __shared__ float4 smem4[];
  float* Qs = reinterpret_cast<float*>(smem4);  // [kC][kDkP]
  float* Ks = Qs + kC * kDkP;                    // [kC][kDkP]
  float* As = Ks + kC * kDkP;                    // [kC][kAP] A (strictly lower)
  float* Xs = As + kC * kAP;                     // [kC][kAP] T = (I + A)⁻¹
  float* gam = Xs + kC * kAP;                    // [kC]
  float* beta = gam + kC;                        // [kC]
  grid_sync_prev();
  const Dims d = a.d;
  const int h = blockIdx.x, c = blockIdx.y, tid = threadIdx.x;
  const SeqDesc sd = a.m.seqs[a.m.chunk_seq[blockIdx.z]];
  const int c0 = c * kC;
  if (c0 >= sd.n) return;
  const int nc = min(kC, sd.n - c0), hk = d.v_tiled ? h % d.nk : h / (d.nv / d.nk);
  load_qk(a, sd, hk, c0, nc, Qs, Ks);
  if (tid < kC) {  // β = g = 0 past the chunk's end leaves the state alone
    const GdnOffsets off = gdn_offsets(d);
    const float* pr = a.proj + size_t(sd.row0 + c0 + tid) * a.ldp;
    beta[tid] = tid < nc ? sigmoid(pr[off.b + h]) : 0.0f;
    gam[tid] = tid < nc ? a.A[h] * softplus(pr[off.a + h] + a.dt_bias[h]) : 0.0f;
  }
  __syncthreads();
  normalise_qk(d.dk, Qs, Ks);
  if (tid == 0)
    for (int r = 1; r < kC; ++r) gam[r] += gam[r - 1];
  __syncthreads();
  // A_ij = β_i (k_i·k_j) e^{γ_i − γ_j} (j < i) and P_ij = (q_i·k_j) e^{γ_i − γ_j} (j ≤ i): each
  // thread a 4×4 micro-tile, rows ti + 16·m, columns tj + 16·n.
  float* rec = chunk_record(a, sd, c, h);
  {
    const int ti = tid / 16, tj = tid % 16;
    float acc_a[4][4] = {}, acc_p[4][4] = {};
#pragma unroll 4
    for (int x = 0; x < d.dk; ++x) {
      float ka[4], qa[4], kb[4];
#pragma unroll
      for (int m = 0; m < 4; ++m) {
        ka[m] = Ks[(ti + 16 * m) * kDkP + x];
        qa[m] = Qs[(ti + 16 * m) * kDkP + x];
        kb[m] = Ks[(tj + 16 * m) * kDkP + x];
      }
#pragma unroll
      for (int m = 0; m < 4; ++m)
#pragma unroll
        for (int n = 0; n < 4; ++n) {
          acc_a[m][n] += ka[m] * kb[n];
          acc_p[m][n] += qa[m] * kb[n];
        }
    }
#pragma unroll
    for (int m = 0; m < 4; ++m)
#pragma unroll
      for (int n = 0; n < 4; ++n) {
        const int i = ti + 16 * m, j = tj + 16 * n;
        const float decay = j <= i ? expf(gam[i] - gam[j]) : 0.0f;
        As[i * kAP + j] = j < i ? acc_a[m][n] * beta[i] * decay : 0.0f;
        rec[kC * kC + i * kC + j] = acc_p[m][n] * decay;
      }
  }
  __syncthreads();
  // T = (I + A)⁻¹ column by column (a thread each): T_ii = 1, T_ij = −Σ_{j≤l<i} A_il T_lj.
  if (tid < kC) {
    const int j = tid;
    for (int i = 0; i < kC; ++i) {
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      int l = j;
      for (; l + 4 <= i; l += 4) {
        s0 += As[i * kAP + l] * Xs[l * kAP + j];
        s1 += As[i * kAP + l + 1] * Xs[(l + 1) * kAP + j];
        s2 += As[i * kAP + l + 2] * Xs[(l + 2) * kAP + j];
        s3 += As[i * kAP + l + 3] * Xs[(l + 3) * kAP + j];
      }
      for (; l < i; ++l) s0 += As[i * kAP + l] * Xs[l * kAP + j];
      Xs[i * kAP + j] = i < j ? 0.0f : i == j ? 1.0f : -((s0 + s1) + (s2 + s3));
    }
  }
  __syncthreads();
  for (int idx = tid; idx < kC * kC; idx += blockDim.x) rec[idx] = Xs[(idx / kC) * kAP + idx % kC];
  if (tid < kC) {
    rec[2 * kC * kC + tid] = gam[tid];
    rec[2 * kC * kC + kC + tid] = beta[tid];
  }
}

// acc[m][n] += Σ_{j<K} A[ti + 16m][j] · B[j][tj + 16n]: a thread's 4×2 micro-tile of A B.
__device__ __forceinline__ void tile_4x2(const float* A, int lda, const float* B, int ldb, int K, int ti, int tj,
                                         float (&acc)[4][2]) {
#pragma unroll 4
  for (int j = 0; j < K; ++j) {
    float a[4], b[2];
#pragma unroll
    for (int m = 0; m < 4; ++m) a[m] = A[(ti + 16 * m) * lda + j];
#pragma unroll
    for (int n = 0; n < 2; ++n) b[n] = B[j * ldb + tj + 16 * n];
#pragma unroll
    for (int m = 0; m < 4; ++m)
#pragma unroll
      for (int n = 0; n < 2; ++n) acc[m][n] += a[m] * b[n];
  }
}

constexpr size_t kChunkSmemFloats = 2 * kC * kDkP + 2 * kC * kAP + 2 * kC * kCP + kMaxDk * kCP + 3 * kC;

// Block (value head, 32 columns, sequence): the chunks in order, the state's columns in shared
// memory. Products give each thread a micro-tile: rows ti + 16·m, columns tj + 16·n.
__global__ __launch_bounds__(256) void gdn_chunk_kernel(GdnArgs a) {
  extern __shared__ float4 smem4[];
  float* Qs = reinterpret_cast<float*>(smem4);  // [kC][kDkP] normalised, scaled q
  float* Ks = Qs + kC * kDkP;                    // [kC][kDkP] normalised k
  float* Ts = Ks + kC * kDkP;                    // [kC][kAP] (I + A)⁻¹
  float* Ps = Ts + kC * kAP;                     // [kC][kAP] (Q Kᵀ) ⊙ D
  float* Rs = Ps + kC * kAP;                     // [kC][kCP] V, then R = diag(β)(V − diag(e^γ) K S)
  float* Vn = Rs + kC * kCP;                     // [kC][kCP] T R
  float* Ss = Vn + kC * kCP;                     // [kMaxDk][kCP] the state's columns
  float* gam = Ss + kMaxDk * kCP;                // [kC]
  float* beta = gam + kC;                        // [kC]
  float* fac = beta + kC;                        // [kC] e^{γ_last − γ_r}
  grid_sync_prev();
  const Dims d = a.d;
  const int h = blockIdx.x, cb = blockIdx.y, tid = threadIdx.x, ti = tid / 16, tj = tid % 16;
  const SeqDesc sd = a.m.seqs[a.m.chunk_seq[blockIdx.z]];
  const int hk = d.v_tiled ? h % d.nk : h / (d.nv / d.nk), dk = d.dk, dv = d.dv;
  float* S = sd.gdn + (size_t(a.slot) * d.nv + h) * dk * dv;

  for (int idx = tid; idx < dk * kCols; idx += blockDim.x) {
    const int i = idx / kCols, c = idx % kCols, jc = cb * kCols + c;
    Ss[i * kCP + c] = jc < dv ? S[size_t(i) * dv + jc] : 0.0f;
  }
  for (int c = 0; c * kC < sd.n; ++c) {
    const int c0 = c * kC, nc = min(kC, sd.n - c0);
    const float* rec = chunk_record(a, sd, c, h);
    __syncthreads();
    // 1. The chunk: q, k, the block's v columns, and the record.
    load_qk(a, sd, hk, c0, nc, Qs, Ks);
    {
      float4 vb[2], tp[8];
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        const int idx = tid + i * 256, r = idx / (kCols / 4), jc = cb * kCols + 4 * (idx % (kCols / 4));
        vb[i] = make_float4(0, 0, 0, 0);
        if (r < nc && jc < dv)
          vb[i] = *reinterpret_cast<const float4*>(a.u + size_t(sd.row0 + c0 + r) * d.conv_dim + 2 * d.key_dim + h * dv + jc);
      }
#pragma unroll
      for (int i = 0; i < 8; ++i) tp[i] = reinterpret_cast<const float4*>(rec)[tid + i * 256];
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        const int idx = tid + i * 256, r = idx / (kCols / 4), c4 = idx % (kCols / 4);
        float* dst = Rs + r * kCP + 4 * c4;
        dst[0] = vb[i].x, dst[1] = vb[i].y, dst[2] = vb[i].z, dst[3] = vb[i].w;
      }
#pragma unroll
      for (int i = 0; i < 8; ++i) {  // T then P, row-major kC × kC each
        const int e = 4 * (tid + i * 256), which = e / (kC * kC), rem = e % (kC * kC);
        float* dst = (which ? Ps : Ts) + (rem / kC) * kAP + rem % kC;
        dst[0] = tp[i].x, dst[1] = tp[i].y, dst[2] = tp[i].z, dst[3] = tp[i].w;
      }
      if (tid < kC) {
        gam[tid] = rec[2 * kC * kC + tid];
        beta[tid] = rec[2 * kC * kC + kC + tid];
      }
    }
    __syncthreads();
    normalise_qk(dk, Qs, Ks);
    if (tid < kC) fac[tid] = expf(gam[kC - 1] - gam[tid]);
    __syncthreads();
    // 2. K S and Q S over the state's columns; R = diag(β)(V − diag(e^γ) K S) in place of V.
    float qs_[4][2] = {};
    {
      float ks_[4][2] = {};
#pragma unroll 4
      for (int x = 0; x < dk; ++x) {
        float ka[4], qa[4], sb[2];
#pragma unroll
        for (int m = 0; m < 4; ++m) ka[m] = Ks[(ti + 16 * m) * kDkP + x], qa[m] = Qs[(ti + 16 * m) * kDkP + x];
#pragma unroll
        for (int n = 0; n < 2; ++n) sb[n] = Ss[x * kCP + tj + 16 * n];
#pragma unroll
        for (int m = 0; m < 4; ++m)
#pragma unroll
          for (int n = 0; n < 2; ++n) {
            ks_[m][n] += ka[m] * sb[n];
            qs_[m][n] += qa[m] * sb[n];
          }
      }
#pragma unroll
      for (int m = 0; m < 4; ++m) {
        const int r = ti + 16 * m;
        const float eg = expf(gam[r]);
#pragma unroll
        for (int n = 0; n < 2; ++n) {
          float* v = Rs + r * kCP + tj + 16 * n;
          *v = beta[r] * (*v - eg * ks_[m][n]);
        }
      }
    }
    __syncthreads();
    // 3. Vn = T R (T is unit lower triangular).
    {
      float acc[4][2] = {};
      tile_4x2(Ts, kAP, Rs, kCP, kC, ti, tj, acc);
#pragma unroll
      for (int m = 0; m < 4; ++m)
#pragma unroll
        for (int n = 0; n < 2; ++n) Vn[(ti + 16 * m) * kCP + tj + 16 * n] = acc[m][n];
    }
    __syncthreads();
    // 4. O = diag(e^γ) Q S + P Vn, and the state update (S is no longer read this chunk).
    {
      float pv[4][2] = {};
      tile_4x2(Ps, kAP, Vn, kCP, kC, ti, tj, pv);
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
    {
      const float e_last = expf(gam[kC - 1]);
      float acc[kMaxDk / 16][2] = {};
#pragma unroll 2
      for (int r = 0; r < kC; ++r) {
        float ka[kMaxDk / 16], vb[2];
        const float f = fac[r];
#pragma unroll
        for (int m = 0; m < kMaxDk / 16; ++m) ka[m] = f * Ks[r * kDkP + ti + 16 * m];
#pragma unroll
        for (int n = 0; n < 2; ++n) vb[n] = Vn[r * kCP + tj + 16 * n];
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

constexpr size_t kPrepSmemFloats = 2 * kC * kDkP + 2 * kC * kAP + 2 * kC;

}  // namespace

void gdn_chunked(const Ctx& ctx, const GdnArgs& a) {
  gdn_check_dims(a.d);
  if (!a.chunks) fail("CUDA DeltaNet: the chunked form needs the workspace's chunk records");
  launch(ctx, "deltanet/chunk_prep", gdn_chunk_prep_kernel, dim3(unsigned(a.d.nv), unsigned(a.m.max_chunks), unsigned(a.m.Sc)),
         256, kPrepSmemFloats * sizeof(float), a);
  launch(ctx, "deltanet/chunked", gdn_chunk_kernel, gdn_head_grid(a.d, a.m.Sc), 256, kChunkSmemFloats * sizeof(float), a);
}

}  // namespace a3b::cuda
