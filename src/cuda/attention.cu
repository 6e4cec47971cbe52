// Gated full attention on the GPU (architecture.md §6). The KV cache holds post-norm post-RoPE
// keys and raw values in bf16. Decode splits each token's context into chunks (split-K) so that
// even one token keeps many multiprocessors busy; prefill is flash attention on tensor cores.
#include <cmath>

#include "cuda/common.cuh"
#include "cuda/kernels.h"

namespace a3b::cuda {
namespace {

constexpr int kMaxD = 256;

__device__ __forceinline__ bf16* k_cache(const AttnArgs& a, const SeqDesc& sd, int g) {
  return sd.kv + ((size_t(a.slot) * 2 * a.d.nkv + g) * sd.kv_cap) * a.d.D;
}
__device__ __forceinline__ bf16* v_cache(const AttnArgs& a, const SeqDesc& sd, int g) {
  return sd.kv + ((size_t(a.slot) * 2 * a.d.nkv + a.d.nkv + g) * sd.kv_cap) * a.d.D;
}

// Per token: zero-centred RMSNorm of every q and k head, partial NeoX RoPE, keys and values into
// the cache at the token's position, queries into a.q.
__global__ void attn_prepare_kernel(AttnArgs a) {
  __shared__ alignas(16) float buf[8][kMaxD];
  const Dims d = a.d;
  const int t = blockIdx.x, warp = threadIdx.x / 32, lane = threadIdx.x % 32, D = d.D, half = d.rot / 2;
  const int pos = a.m.tok_pos[t];
  const SeqDesc sd = a.m.seqs[a.m.tok_seq[t]];
  const float* row = a.proj + size_t(t) * a.ldp;
  float* b = buf[warp];
  // Block y, warp w: head y·8 + w of the q heads, then k heads, then the v heads to copy.
  const int hh = blockIdx.y * 8 + warp;
  // Norm weights and rotary frequencies before the wait (the position is known already).
  const bool is_q = hh < d.nq;
  const float* w = is_q ? a.q_norm : a.k_norm;
  float4 wv[kMaxD / 128];
  float freq[kMaxD / 32];
  if (hh < d.nq + d.nkv) {
#pragma unroll
    for (int m = 0; m < kMaxD / 128; ++m)
      if (lane + 32 * m < D / 4) wv[m] = reinterpret_cast<const float4*>(w)[lane + 32 * m];
#pragma unroll
    for (int m = 0; m < kMaxD / 32; ++m) {
      const int i = lane + 32 * m;
      freq[m] = i < d.rot ? a.inv_freq[i < half ? i : i - half] : 0.0f;
    }
  }
  grid_sync_prev();
  if (hh >= d.nq + d.nkv) {
    const int g = hh - d.nq - d.nkv;
    if (g >= d.nkv) return;
    const float* src = row + size_t(2 * d.nq + d.nkv) * D + size_t(g) * D;
    for (int i = lane; i < D; i += 32) v_cache(a, sd, g)[size_t(pos) * D + i] = __float2bfloat16_rn(src[i]);
    return;
  }
  {
    const float* src = is_q ? row + size_t(hh) * 2 * D : row + size_t(2 * d.nq) * D + size_t(hh - d.nq) * D;
    float4 v[kMaxD / 128];
    float ss = 0;
#pragma unroll
    for (int m = 0; m < kMaxD / 128; ++m) {
      const int i4 = lane + 32 * m;
      if (i4 < D / 4) {
        v[m] = reinterpret_cast<const float4*>(src)[i4];
        ss += v[m].x * v[m].x + v[m].y * v[m].y + v[m].z * v[m].z + v[m].w * v[m].w;
      }
    }
    ss = warp_sum(ss);
    const float inv = 1.0f / sqrtf(ss / float(D) + d.eps);
#pragma unroll
    for (int m = 0; m < kMaxD / 128; ++m) {
      const int i4 = lane + 32 * m;
      if (i4 < D / 4)
        reinterpret_cast<float4*>(b)[i4] =
            make_float4(v[m].x * inv * wv[m].x, v[m].y * inv * wv[m].y, v[m].z * inv * wv[m].z, v[m].w * inv * wv[m].w);
    }
    __syncwarp();
    float out[kMaxD / 32];
#pragma unroll
    for (int m = 0; m < kMaxD / 32; ++m) {
      const int i = lane + 32 * m;
      if (i >= D) break;
      float v = b[i];
      if (i < d.rot) {
        const float angle = float(pos) * freq[m];
        float c, s;
        sincosf(angle, &s, &c);
        c *= a.rope_scale, s *= a.rope_scale;
        v = i < half ? b[i] * c - b[i + half] * s : b[i] * c + b[i - half] * s;
      }
      out[m] = v;
    }
    __syncwarp();
#pragma unroll
    for (int m = 0; m < kMaxD / 32; ++m) {
      const int i = lane + 32 * m;
      if (i >= D) break;
      if (is_q) a.q[(size_t(t) * d.nq + hh) * D + i] = out[m];
      else k_cache(a, sd, hh - d.nq)[size_t(pos) * D + i] = __float2bfloat16_rn(out[m]);
    }
  }
}

// Split-K decode: block (chunk, kv head, token); one warp per query head of the kv head's group.
// Keys of the chunk pass through shared memory 64 at a time; the warp scores two keys per lane,
// then each lane accumulates 8 dims of the weighted values.
__global__ void attn_split_kernel(AttnArgs a) {
  extern __shared__ float4 smem4[];
  const Dims d = a.d;
  const int D = d.D, LD = D + 8, group = d.nq / d.nkv;
  bf16* Ks = reinterpret_cast<bf16*>(smem4);      // [64][LD]
  bf16* Vs = Ks + 64 * LD;                        // [64][LD]
  float* qs = reinterpret_cast<float*>(Vs + 64 * LD);  // [group][D]
  float* ps = qs + group * D;                     // [group][64]
  grid_sync_prev();
  const int ti = blockIdx.z, t = a.m.short_tok[a.short_begin + ti], g = blockIdx.y, c = blockIdx.x;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, h = g * group + warp;
  const int ctx = a.m.tok_pos[t] + 1;
  const SeqDesc sd = a.m.seqs[a.m.tok_seq[t]];
  const int k0 = c * a.chunk_len, k1 = min(ctx, k0 + a.chunk_len);
  const bf16* Kc = k_cache(a, sd, g);
  const bf16* Vc = v_cache(a, sd, g);
  const float scale = 1.0f / sqrtf(float(D));
  for (int i4 = lane; i4 < D / 4; i4 += 32)
    reinterpret_cast<float4*>(qs + warp * D)[i4] = reinterpret_cast<const float4*>(a.q + (size_t(t) * d.nq + h) * D)[i4];
  float m = -INFINITY, l = 0, acc[8] = {};
  const bool owns = lane * 8 < D;
  for (int kb = k0; kb < k1; kb += 64) {
    const int nk = min(64, k1 - kb), units = D / 8;
    __syncthreads();
    for (int base = threadIdx.x; base < nk * units; base += 4 * blockDim.x) {
      uint4 kv[4], vv[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int idx = base + i * blockDim.x, r = idx / units, u = idx % units;
        if (idx < nk * units) {
          kv[i] = *reinterpret_cast<const uint4*>(Kc + size_t(kb + r) * D + u * 8);
          vv[i] = *reinterpret_cast<const uint4*>(Vc + size_t(kb + r) * D + u * 8);
        }
      }
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int idx = base + i * blockDim.x, r = idx / units, u = idx % units;
        if (idx < nk * units) {
          *reinterpret_cast<uint4*>(Ks + r * LD + u * 8) = kv[i];
          *reinterpret_cast<uint4*>(Vs + r * LD + u * 8) = vv[i];
        }
      }
    }
    __syncthreads();
    float s[2];
#pragma unroll
    for (int x = 0; x < 2; ++x) {
      const int r = lane + 32 * x;
      float v = -INFINITY;
      if (r < nk) {
        v = 0;
        for (int u = 0; u < units; ++u) v += dot8(*reinterpret_cast<const uint4*>(Ks + r * LD + u * 8), qs + warp * D + u * 8);
        v *= scale;
      }
      s[x] = v;
    }
    const float m_new = fmaxf(m, warp_max(fmaxf(s[0], s[1])));
    const float corr = expf(m - m_new), p0 = expf(s[0] - m_new), p1 = expf(s[1] - m_new);
    l = l * corr + warp_sum(p0 + p1);
    ps[warp * 64 + lane] = p0;
    ps[warp * 64 + lane + 32] = p1;
    __syncwarp();
#pragma unroll
    for (int e = 0; e < 8; ++e) acc[e] *= corr;
    if (owns)
      for (int r = 0; r < nk; ++r) {
        float v[8];
        unpack8(*reinterpret_cast<const uint4*>(Vs + r * LD + lane * 8), v);
        const float p = ps[warp * 64 + r];
#pragma unroll
        for (int e = 0; e < 8; ++e) acc[e] += p * v[e];
      }
    __syncwarp();
    m = m_new;
  }
  const size_t idx = (size_t(ti) * d.nq + h) * a.n_chunks + c;
  if (lane == 0) {
    a.part_ml[idx * 2] = m;
    a.part_ml[idx * 2 + 1] = l;
  }
  if (owns)
#pragma unroll
    for (int e = 0; e < 8; ++e) a.part_o[idx * D + lane * 8 + e] = acc[e];
}

// Merges a token's chunk partials per head and applies the sigmoid output gate.
__global__ void attn_combine_kernel(AttnArgs a) {
  grid_sync_prev();
  const Dims d = a.d;
  const int ti = blockIdx.x, t = a.m.short_tok[a.short_begin + ti], h = blockIdx.y, D = d.D;
  const int ctx = a.m.tok_pos[t] + 1, valid = min(a.n_chunks, (ctx + a.chunk_len - 1) / a.chunk_len);
  const size_t base = (size_t(ti) * d.nq + h) * a.n_chunks;
  __shared__ float weight[64], inv_l;  // e^{m_c − M} per chunk, 1 / Σ e^{m_c − M} l_c
  if (threadIdx.x < 32) {
    const int lane = threadIdx.x;
    float m0 = lane < valid ? a.part_ml[(base + lane) * 2] : -INFINITY;
    float m1 = lane + 32 < valid ? a.part_ml[(base + lane + 32) * 2] : -INFINITY;
    const float M = warp_max(fmaxf(m0, m1));
    const float w0 = lane < valid ? expf(m0 - M) : 0.0f, w1 = lane + 32 < valid ? expf(m1 - M) : 0.0f;
    const float l0 = lane < valid ? a.part_ml[(base + lane) * 2 + 1] : 0.0f;
    const float l1 = lane + 32 < valid ? a.part_ml[(base + lane + 32) * 2 + 1] : 0.0f;
    const float L = warp_sum(w0 * l0 + w1 * l1);
    weight[lane] = w0;
    weight[lane + 32] = w1;
    if (lane == 0) inv_l = 1.0f / L;
  }
  __syncthreads();
  const float* gate = a.proj + size_t(t) * a.ldp + size_t(h) * 2 * D + D;
  for (int i = threadIdx.x; i < D; i += blockDim.x) {
    float o = 0;
#pragma unroll 8
    for (int c = 0; c < valid; ++c) o += weight[c] * a.part_o[(base + c) * D + i];
    const float v = o * inv_l * sigmoid(gate[i]);
    const size_t out = size_t(t) * d.nq * D + size_t(h) * D + i;
    if (a.out_f32) a.out_f32[out] = v;
    if (a.out_bf16) a.out_bf16[out] = __float2bfloat16_rn(v);
  }
}

__device__ __forceinline__ uint32_t ld32(const bf16* p) { return *reinterpret_cast<const uint32_t*>(p); }

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, bool valid) {
  const unsigned dst = unsigned(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(dst), "l"(gmem), "r"(valid ? 16 : 0));
}

__device__ __forceinline__ uint32_t pack2(bf16 lo, bf16 hi) {
  return uint32_t(__bfloat16_as_ushort(lo)) | (uint32_t(__bfloat16_as_ushort(hi)) << 16);
}

// Flash attention: block (64-query tile, query head, sequence), 4 warps of 16 query rows; scores
// and P·V on tensor cores (m16n8k16), softmax statistics in registers. Key and value tiles arrive
// by cp.async (every copy of a tile in flight at once).
template <int D>
__global__ __launch_bounds__(128) void attn_flash_kernel(AttnArgs a) {
  constexpr int BQ = 64, BKV = 64, LQ = D + 8, UNITS = D / 8;
  extern __shared__ float4 smem4[];
  bf16* Qs = reinterpret_cast<bf16*>(smem4);  // [BQ][LQ]
  bf16* Ks = Qs + BQ * LQ;                    // [BKV][LQ]
  bf16* Vs = Ks + BKV * LQ;                   // [BKV][LQ]
  grid_sync_prev();
  const Dims d = a.d;
  const SeqDesc sd = a.m.seqs[a.m.long_seq[blockIdx.z]];
  const int q_begin = blockIdx.x * BQ, h = blockIdx.y, g = h / (d.nq / d.nkv);
  if (q_begin >= sd.n) return;
  const int n_rows = min(BQ, sd.n - q_begin), key_end = sd.pos0 + q_begin + n_rows;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, gq = lane / 4, q = lane % 4;
  const bf16* Kc = k_cache(a, sd, g);
  const bf16* Vc = v_cache(a, sd, g);

  // Queries: float rows to bf16, eight 16-byte loads in flight per thread.
  for (int base = tid; base < BQ * D / 4; base += 8 * blockDim.x) {
    float4 v[8];
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const int idx = base + i * blockDim.x, r = idx / (D / 4), c4 = idx % (D / 4);
      v[i] = make_float4(0, 0, 0, 0);
      if (idx < BQ * D / 4 && r < n_rows)
        v[i] = reinterpret_cast<const float4*>(a.q + (size_t(sd.row0 + q_begin + r) * d.nq + h) * D)[c4];
    }
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const int idx = base + i * blockDim.x, r = idx / (D / 4), c4 = idx % (D / 4);
      if (idx < BQ * D / 4) {
        *reinterpret_cast<uint32_t*>(&Qs[r * LQ + 4 * c4]) = pack_bf16x2(v[i].x, v[i].y);
        *reinterpret_cast<uint32_t*>(&Qs[r * LQ + 4 * c4 + 2]) = pack_bf16x2(v[i].z, v[i].w);
      }
    }
  }
  const int r0 = warp * 16 + gq;
  const int qpos[2] = {sd.pos0 + q_begin + r0, sd.pos0 + q_begin + r0 + 8};
  const float scale_log2 = 1.4426950408889634f / sqrtf(float(D));
  float o[UNITS][4] = {};
  float mrow[2] = {-INFINITY, -INFINITY}, lrow[2] = {0.0f, 0.0f};

  for (int kb = 0; kb < key_end; kb += BKV) {
    __syncthreads();
    for (int idx = tid; idx < BKV * UNITS; idx += blockDim.x) {
      const int r = idx / UNITS, u = idx % UNITS, key = kb + r;
      const bool ok = key < key_end;
      cp_async16(Ks + r * LQ + u * 8, ok ? Kc + size_t(key) * D + u * 8 : Kc, ok);
      cp_async16(Vs + r * LQ + u * 8, ok ? Vc + size_t(key) * D + u * 8 : Vc, ok);
    }
    asm volatile("cp.async.commit_group;");
    asm volatile("cp.async.wait_group 0;");
    __syncthreads();

    float s[8][4] = {};
#pragma unroll
    for (int kk = 0; kk < D; kk += 16) {
      const uint32_t af[4] = {ld32(&Qs[(warp * 16 + gq) * LQ + kk + 2 * q]), ld32(&Qs[(warp * 16 + gq + 8) * LQ + kk + 2 * q]),
                              ld32(&Qs[(warp * 16 + gq) * LQ + kk + 2 * q + 8]),
                              ld32(&Qs[(warp * 16 + gq + 8) * LQ + kk + 2 * q + 8])};
#pragma unroll
      for (int nt = 0; nt < 8; ++nt) {
        const uint32_t bfr[2] = {ld32(&Ks[(nt * 8 + gq) * LQ + kk + 2 * q]), ld32(&Ks[(nt * 8 + gq) * LQ + kk + 2 * q + 8])};
        mma_bf16(s[nt], af, bfr);
      }
    }
    float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int nt = 0; nt < 8; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int key = kb + nt * 8 + 2 * q + (e & 1);
        const float v = key <= qpos[e >> 1] ? s[nt][e] * scale_log2 : -INFINITY;
        s[nt][e] = v;
        mx[e >> 1] = fmaxf(mx[e >> 1], v);
      }
    float corr[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
      mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
      const float m_new = fmaxf(mrow[r], mx[r]);
      corr[r] = exp2f(mrow[r] - m_new);
      mrow[r] = m_new;
      lrow[r] *= corr[r];
    }
#pragma unroll
    for (int nt = 0; nt < 8; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const float p = exp2f(s[nt][e] - mrow[e >> 1]);
        s[nt][e] = p;
        lrow[e >> 1] += p;
      }
#pragma unroll
    for (int u = 0; u < UNITS; ++u) {
      o[u][0] *= corr[0];
      o[u][1] *= corr[0];
      o[u][2] *= corr[1];
      o[u][3] *= corr[1];
    }
#pragma unroll
    for (int ks = 0; ks < BKV / 16; ++ks) {
      const uint32_t af[4] = {pack_bf16x2(s[2 * ks][0], s[2 * ks][1]), pack_bf16x2(s[2 * ks][2], s[2 * ks][3]),
                              pack_bf16x2(s[2 * ks + 1][0], s[2 * ks + 1][1]), pack_bf16x2(s[2 * ks + 1][2], s[2 * ks + 1][3])};
      const bf16* v0 = Vs + (ks * 16 + 2 * q) * LQ + gq;  // B[k][n] = V[key][dim]: two keys per register
#pragma unroll
      for (int u = 0; u < UNITS; ++u) {
        const bf16* vp = v0 + u * 8;
        const uint32_t bfr[2] = {pack2(vp[0], vp[LQ]), pack2(vp[8 * LQ], vp[9 * LQ])};
        mma_bf16(o[u], af, bfr);
      }
    }
  }

  float inv[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    float l = lrow[r];
    l += __shfl_xor_sync(0xffffffffu, l, 1);
    l += __shfl_xor_sync(0xffffffffu, l, 2);
    inv[r] = 1.0f / l;
  }
#pragma unroll
  for (int u = 0; u < UNITS; ++u)
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const int r = r0 + (e >> 1) * 8, col = u * 8 + 2 * q + (e & 1);
      if (r >= n_rows) continue;
      const size_t t = size_t(sd.row0 + q_begin + r);
      const float gate = a.proj[t * a.ldp + size_t(h) * 2 * D + D + col];
      const float v = o[u][e] * inv[e >> 1] * sigmoid(gate);
      const size_t out = t * d.nq * D + size_t(h) * D + col;
      if (a.out_f32) a.out_f32[out] = v;
      if (a.out_bf16) a.out_bf16[out] = __float2bfloat16_rn(v);
    }
}

template <int D>
void launch_flash(const Ctx& ctx, const AttnArgs& a) {
  const size_t smem = size_t(3) * 64 * (D + 8) * sizeof(bf16);
  launch(ctx, "attention/prefill", attn_flash_kernel<D>, dim3(blocks_for(a.m.max_long_n, 64), unsigned(a.d.nq), unsigned(a.m.Sl)),
         128, smem, a);
}

}  // namespace

void attn_decode_split(int max_ctx, int* n_chunks, int* chunk_len) {
  int bucket = 64;
  while (bucket < max_ctx) bucket *= 2;
  *chunk_len = std::max(64, bucket / 64);
  *n_chunks = (bucket + *chunk_len - 1) / *chunk_len;
}

void attn_prepare(const Ctx& ctx, const AttnArgs& a) {
  if (a.d.D > kMaxD || a.d.D % 8 != 0) fail("CUDA attention: head_dim ", a.d.D, " must be a multiple of 8 up to ", kMaxD);
  launch(ctx, "attention/prepare", attn_prepare_kernel, dim3(unsigned(a.m.T), blocks_for(a.d.nq + 2 * a.d.nkv, 8)), 256, 0, a);
}

void attn_decode(const Ctx& ctx, const AttnArgs& a) {
  const int group = a.d.nq / a.d.nkv;
  if (group > 32) fail("CUDA attention: ", group, " query heads per kv head (at most 32)");
  const size_t smem = size_t(2) * 64 * (a.d.D + 8) * sizeof(bf16) + size_t(group) * (a.d.D + 64) * sizeof(float);
  launch(ctx, "attention/decode", attn_split_kernel, dim3(unsigned(a.n_chunks), unsigned(a.d.nkv), unsigned(a.short_count)),
         unsigned(group * 32), smem, a);
  launch(ctx, "attention/combine", attn_combine_kernel, dim3(unsigned(a.short_count), unsigned(a.d.nq)), 256, 0, a);
}

void attn_prefill(const Ctx& ctx, const AttnArgs& a) {
  switch (a.d.D) {
    case 16: return launch_flash<16>(ctx, a);
    case 32: return launch_flash<32>(ctx, a);
    case 64: return launch_flash<64>(ctx, a);
    case 128: return launch_flash<128>(ctx, a);
    case 256: return launch_flash<256>(ctx, a);
    default: fail("CUDA flash attention: head_dim ", a.d.D, " not compiled (16, 32, 64, 128, 256)");
  }
}

}  // namespace a3b::cuda
