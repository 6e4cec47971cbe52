// GGUF quantized weights on the GPU (gguf.md §7): the GPU row layouts, and per-type "units" of
// 64 weights that a lane loads with 16-byte reads and multiplies by int8 activations with dp4a,
// as llama.cpp's CUDA backend does (activations quantized per 32 values, like its q8_1).
//
// GPU layouts (every row padded to 16 bytes, so every 16-byte read is aligned; gpu_pack_row
// in gpu_weights.cpp writes them):
//   Q4_K, Q5_K  the file's blocks unchanged (144 and 176 bytes: already 16-byte multiples);
//   Q8_0        per row all int8 values, then the fp16 scales (the file's 34-byte blocks split);
//   Q6_K        per row all ql, all qh, all int8 scales, then the fp16 d (210-byte blocks split);
//   the 4-bit index types and the IQ grid types: see their units below.
// Unit u of a row covers 64 weights: weights [64u, 64u + 64) for every type but Q6_K, whose
// unit is four runs of 16 (see Q6Unit).
#pragma once
#include <cuda_fp16.h>

#include "cuda/common.cuh"
#include "cuda/kernels.h"

namespace a3b::cuda {

constexpr int kUnit = 64;

// Where 16-byte chunk c of an int8 activation row sits in shared memory: each 64-value unit's
// four chunks rotated by (unit / 2) % 4. Lanes that read chunk j of consecutive units then hit
// distinct banks; unrotated, lanes 64 bytes apart met in the same ones (Nsight Compute: 85% of
// the MoE kernels' shared-memory wavefronts were conflicts).
__device__ __forceinline__ int act_chunk_slot(int c) { return (c & ~3) | ((c + (c >> 3)) & 3); }

__device__ __forceinline__ uint32_t iword(const int4& v, int i) {
  return uint32_t(i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w);
}

// Activations of one token as int8 per 32 values: x ≈ d[b] · q, and s[b] = d[b] · Σ q of block b;
// f is the same row as float (what bf16 units multiply). q is laid out by act_chunk_slot.
struct QAct {
  const int8_t* q;
  const float* d;
  const float* s;
  const float* f;
  // Values [16c, 16c + 16).
  __device__ int4 chunk(int c) const { return *reinterpret_cast<const int4*>(q + 16 * act_chunk_slot(c)); }
  // The scales (sums) of the two blocks of unit u.
  __device__ float2 d2(int u) const { return reinterpret_cast<const float2*>(d)[u]; }
  __device__ float2 s2(int u) const { return reinterpret_cast<const float2*>(s)[u]; }
};

// Block-wide: n floats, rows of `width` (a multiple of 64; x and q 16-byte aligned), into q/d/s,
// each row's q laid out by act_chunk_slot. Eight lanes share a block of 32 values, four each
// (one 16-byte load, one 4-byte store), and meet by three shuffles; a warp takes four blocks per
// pass, so the loop bound is warp-uniform and every lane joins every shuffle. (One thread per
// block serialised 64 shared-memory accesses per block: the MoE down kernel's eight slots of 16
// blocks kept 16 of 256 threads busy.)
__device__ __forceinline__ void quantize_act(const float* x, int n, int width, int8_t* q, float* d, float* s) {
  const int nb = n / 32, l8 = threadIdx.x % 8, warp = threadIdx.x / 32, step = blockDim.x / 8, row_chunks = width / 16;
  for (int b0 = 4 * warp; b0 < nb; b0 += step) {
    const int b = b0 + (threadIdx.x / 8) % 4;
    const bool ok = b < nb;
    const float4 v = ok ? reinterpret_cast<const float4*>(x + 32 * b)[l8] : make_float4(0, 0, 0, 0);
    float amax = fmaxf(fmaxf(fabsf(v.x), fabsf(v.y)), fmaxf(fabsf(v.z), fabsf(v.w)));
#pragma unroll
    for (int o = 4; o > 0; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
    const float scale = amax / 127.0f, inv = amax > 0.0f ? 127.0f / amax : 0.0f;
    const int q0 = __float2int_rn(v.x * inv), q1 = __float2int_rn(v.y * inv);
    const int q2 = __float2int_rn(v.z * inv), q3 = __float2int_rn(v.w * inv);
    int sum = q0 + q1 + q2 + q3;
#pragma unroll
    for (int o = 4; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    if (ok) {
      const int c = 2 * b + l8 / 4, in_row = c % row_chunks;
      reinterpret_cast<uint32_t*>(q + 16 * (c - in_row + act_chunk_slot(in_row)))[l8 % 4] =
          (uint32_t(q0) & 0xff) | ((uint32_t(q1) & 0xff) << 8) | ((uint32_t(q2) & 0xff) << 16) | (uint32_t(q3) << 24);
      if (l8 == 0) {
        d[b] = scale;
        s[b] = scale * float(sum);
      }
    }
  }
}

__device__ __forceinline__ int dp4(int a, int b, int c) { return __dp4a(a, b, c); }

// Σ over 16 int8 pairs: four packed words of weights by a chunk of 16 activations.
__device__ __forceinline__ int dot16(uint32_t w0, uint32_t w1, uint32_t w2, uint32_t w3, const int4& v) {
  return dp4(int(w3), v.w, dp4(int(w2), v.z, dp4(int(w1), v.y, dp4(int(w0), v.x, 0))));
}

__device__ __forceinline__ float half_lo(uint32_t v) { return __half2float(__ushort_as_half(uint16_t(v & 0xffff))); }
__device__ __forceinline__ float half_hi(uint32_t v) { return __half2float(__ushort_as_half(uint16_t(v >> 16))); }

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K / Q5_K block from its 12 scale bytes.
__device__ __forceinline__ void kquant_scale_min(const uint8_t* s, int j, int* sc, int* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
    *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

__device__ __forceinline__ uint32_t word(const uint4& v, int i) {
  return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w;
}

// --- Q8_0 ------------------------------------------------------------------------------------
struct Q8Unit {
  uint4 q[4];
  uint32_t d2;  // the scales of its two blocks
  __device__ void load(const uint8_t* row, int cols, int u, const uint32_t*) {
#pragma unroll
    for (int i = 0; i < 4; ++i) q[i] = ld_stream(row + size_t(u) * 64 + 16 * i);
    d2 = __ldg(reinterpret_cast<const uint32_t*>(row + cols + 4 * u));
  }
  __device__ float dot(int u, const QAct& x) const {
    int s[2] = {0, 0};  // the unit's two blocks of 32
#pragma unroll
    for (int i = 0; i < 4; ++i) s[i / 2] += dot16(q[i].x, q[i].y, q[i].z, q[i].w, x.chunk(4 * u + i));
    const float2 xd = x.d2(u);
    return half_lo(d2) * xd.x * float(s[0]) + half_hi(d2) * xd.y * float(s[1]);
  }
  template <class Emit>
  __device__ void dequant(int u, Emit emit) const {
#pragma unroll
    for (int i = 0; i < 64; ++i) {
      const int8_t v = int8_t(word(q[i / 16], (i / 4) % 4) >> (8 * (i % 4)));
      emit(u * 64 + i, (i < 32 ? half_lo(d2) : half_hi(d2)) * float(v));
    }
  }
};

// --- Q4_K / Q5_K -----------------------------------------------------------------------------
// Unit u is chunk c = u % 4 of block u / 4: its low nibbles are sub-block 2c, the high ones 2c + 1.
template <bool FIVE>
struct K45Unit {
  static constexpr int kBlock = FIVE ? 176 : 144;
  uint4 head;   // d, dmin (fp16), scales[12]
  uint4 qh[2];  // Q5_K: the 32 high-bit bytes of the block
  uint4 qs[2];  // the chunk's 32 bytes of nibbles
  __device__ void load(const uint8_t* row, int, int u, const uint32_t*) {
    const uint8_t* blk = row + size_t(u / 4) * kBlock;
    head = ld_stream(blk);
    if (FIVE) {
      qh[0] = ld_stream(blk + 16);
      qh[1] = ld_stream(blk + 32);
    }
    const uint8_t* q = blk + (FIVE ? 48 : 16) + 32 * (u % 4);
    qs[0] = ld_stream(q);
    qs[1] = ld_stream(q + 16);
  }
  // Word i (0..7) of the chunk's low (hi = false) or high values, 4 or 5 bits each.
  __device__ uint32_t values(int i, bool hi, int c) const {
    const uint32_t w = word(qs[i / 4], i % 4);
    uint32_t v = hi ? (w >> 4) & 0x0F0F0F0Fu : w & 0x0F0F0F0Fu;
    if (FIVE) v |= ((word(qh[i / 4], i % 4) >> (2 * c + (hi ? 1 : 0))) & 0x01010101u) << 4;
    return v;
  }
  __device__ void scales(int c, int* sc0, int* m0, int* sc1, int* m1) const {
    uint32_t s[3] = {head.y, head.z, head.w};
    const uint8_t* sb = reinterpret_cast<const uint8_t*>(s);
    kquant_scale_min(sb, 2 * c, sc0, m0);
    kquant_scale_min(sb, 2 * c + 1, sc1, m1);
  }
  __device__ float dot(int u, const QAct& x) const {
    const int c = u % 4;
    const int4 xc[4] = {x.chunk(4 * u), x.chunk(4 * u + 1), x.chunk(4 * u + 2), x.chunk(4 * u + 3)};
    int lo = 0, hi = 0;
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      lo = dp4(int(values(i, false, c)), int(iword(xc[i / 4], i % 4)), lo);
      hi = dp4(int(values(i, true, c)), int(iword(xc[2 + i / 4], i % 4)), hi);
    }
    int sc0, m0, sc1, m1;
    scales(c, &sc0, &m0, &sc1, &m1);
    const float d = half_lo(head.x), dmin = half_hi(head.x);
    const float2 xd = x.d2(u), xs = x.s2(u);
    return d * (float(sc0) * xd.x * float(lo) + float(sc1) * xd.y * float(hi)) -
           dmin * (float(m0) * xs.x + float(m1) * xs.y);
  }
  template <class Emit>
  __device__ void dequant(int u, Emit emit) const {
    const int c = u % 4;
    int sc0, m0, sc1, m1;
    scales(c, &sc0, &m0, &sc1, &m1);
    const float d = half_lo(head.x), dmin = half_hi(head.x);
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const uint32_t lo = values(i, false, c), hi = values(i, true, c);
#pragma unroll
      for (int b = 0; b < 4; ++b) {
        emit(u * 64 + 4 * i + b, d * float(sc0) * float((lo >> (8 * b)) & 0xFF) - dmin * float(m0));
        emit(u * 64 + 32 + 4 * i + b, d * float(sc1) * float((hi >> (8 * b)) & 0xFF) - dmin * float(m1));
      }
    }
  }
};

// --- Q6_K ------------------------------------------------------------------------------------
// Block b has two halves of 128 weights; in half n, byte l (0..31) of ql/ql+32/qh gives weights
// 128n + l + 32s (s = 0..3), scale index 8n + l/16 + 2s. Unit u = (b, n, i) takes l in [16i, 16i + 16).
struct Q6Unit {
  uint4 qla, qlb, qh;
  uint2 sc;       // the half's 8 scales
  uint32_t d;     // fp16 in the low half
  __device__ void load(const uint8_t* row, int cols, int u, const uint32_t*) {
    const int nb = cols / 256, b = u / 4, n = (u / 2) % 2, i = u % 2;
    const uint8_t* ql = row + size_t(b) * 128 + 64 * n + 16 * i;
    qla = ld_stream(ql);
    qlb = ld_stream(ql + 32);
    qh = ld_stream(row + size_t(nb) * 128 + size_t(b) * 64 + 32 * n + 16 * i);
    sc = __ldg(reinterpret_cast<const uint2*>(row + size_t(nb) * 192 + size_t(b) * 16 + 8 * n));
    d = __ldg(reinterpret_cast<const uint16_t*>(row + size_t(nb) * 208 + 2 * b));
  }
  // Word k (0..3) of run s, as signed int8 values q - 32.
  __device__ uint32_t values(int s, int k) const {
    const uint32_t a = word(qla, k), b = word(qlb, k), h = word(qh, k);
    uint32_t v;
    if (s == 0) v = (a & 0x0F0F0F0Fu) | ((h << 4) & 0x30303030u);
    else if (s == 1) v = (b & 0x0F0F0F0Fu) | ((h << 2) & 0x30303030u);
    else if (s == 2) v = ((a >> 4) & 0x0F0F0F0Fu) | (h & 0x30303030u);
    else v = ((b >> 4) & 0x0F0F0F0Fu) | ((h >> 2) & 0x30303030u);
    return __vsub4(v, 0x20202020u);
  }
  __device__ int scale(int s, int i) const {
    const int j = i + 2 * s;
    return int(int8_t((j < 4 ? sc.x : sc.y) >> (8 * (j % 4))));
  }
  // First weight of run s within the row.
  __device__ static int start(int u, int s) { return (u / 4) * 256 + ((u / 2) % 2) * 128 + 32 * s + 16 * (u % 2); }
  __device__ float dot(int u, const QAct& x) const {
    const int i = u % 2;
    float acc = 0.0f;
#pragma unroll
    for (int s = 0; s < 4; ++s) {
      const int e = start(u, s);
      const int v = dot16(values(s, 0), values(s, 1), values(s, 2), values(s, 3), x.chunk(e / 16));
      acc += float(scale(s, i)) * x.d[e / 32] * float(v);
    }
    return half_lo(d) * acc;
  }
  template <class Emit>
  __device__ void dequant(int u, Emit emit) const {
    const int i = u % 2;
#pragma unroll
    for (int s = 0; s < 4; ++s) {
      const float f = half_lo(d) * float(scale(s, i));
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        const uint32_t v = values(s, k);
#pragma unroll
        for (int b = 0; b < 4; ++b) emit(start(u, s) + 4 * k + b, f * float(int8_t(v >> (8 * b))));
      }
    }
  }
};

// --- Q4_0, IQ4_NL, MXFP4, IQ4_XS: 4-bit indices ------------------------------------------------
// GPU layout: per row all nibble bytes (16 per 32 weights: byte j holds weight j low, j + 16 high),
// then the scales: Q4_0 / IQ4_NL one fp16 per 32; MXFP4 one e8m0 byte per 32; IQ4_XS per 256 an
// fp16 d, then the 16-bit scales_h, then the 4 scales_l bytes (each section over the whole row).
enum class Nib { Q4_0, IQ4_NL, MXFP4, IQ4_XS };

constexpr uint32_t pack4(int a, int b, int c, int d) {
  return uint32_t(uint8_t(a)) | uint32_t(uint8_t(b)) << 8 | uint32_t(uint8_t(c)) << 16 | uint32_t(uint8_t(d)) << 24;
}

// Four 4-bit indices (one per byte) to four int8 table values: byte_perm picks among 8 bytes.
__device__ __forceinline__ uint32_t lut16(uint32_t idx, uint32_t t0, uint32_t t1, uint32_t t2, uint32_t t3) {
  const uint32_t sel = (idx & 0x7u) | ((idx >> 4) & 0x70u) | ((idx >> 8) & 0x700u) | ((idx >> 12) & 0x7000u);
  const uint32_t lo = __byte_perm(t0, t1, sel), hi = __byte_perm(t2, t3, sel);
  const uint32_t mask = ((idx >> 3) & 0x01010101u) * 0xFFu;
  return (lo & ~mask) | (hi & mask);
}

__device__ __forceinline__ float e8m0_half(uint32_t e) {  // 2^(e - 127) / 2, as the CPU decodes it
  return __uint_as_float(e < 2 ? 0x00200000u << e : (e - 1) << 23);
}

template <Nib K>
struct NibUnit {
  uint4 q[2];        // the nibbles of blocks 2u and 2u + 1
  uint32_t sc = 0;   // Q4_0 / IQ4_NL: two fp16; MXFP4: two e8m0 bytes; IQ4_XS: d | scales_h << 16
  uint32_t sl = 0;   // IQ4_XS: the scales_l byte of the unit's two sub-blocks
  __device__ void load(const uint8_t* row, int cols, int u, const uint32_t*) {
    q[0] = ld_stream(row + size_t(u) * 32);
    q[1] = ld_stream(row + size_t(u) * 32 + 16);
    const uint8_t* s = row + cols / 2;
    if constexpr (K == Nib::Q4_0 || K == Nib::IQ4_NL) {
      sc = __ldg(reinterpret_cast<const uint32_t*>(s + 4 * u));
    } else if constexpr (K == Nib::MXFP4) {
      sc = __ldg(reinterpret_cast<const uint16_t*>(s + 2 * u));
    } else {
      const int nb = cols / 256, b = u / 4;
      sc = uint32_t(__ldg(reinterpret_cast<const uint16_t*>(s + 2 * b))) |
           uint32_t(__ldg(reinterpret_cast<const uint16_t*>(s + 2 * nb + 2 * b))) << 16;
      sl = __ldg(s + 4 * nb + 4 * b + u % 4);
    }
  }
  __device__ static uint32_t values(uint32_t idx) {
    if constexpr (K == Nib::Q4_0) {
      return __vsub4(idx, 0x08080808u);
    } else if constexpr (K == Nib::MXFP4) {
      return lut16(idx, pack4(0, 1, 2, 3), pack4(4, 6, 8, 12), pack4(0, -1, -2, -3), pack4(-4, -6, -8, -12));
    } else {
      return lut16(idx, pack4(-127, -104, -83, -65), pack4(-49, -35, -22, -10), pack4(1, 13, 25, 38),
                   pack4(53, 69, 89, 113));
    }
  }
  __device__ float scale(int u, int i) const {  // of block 2u + i
    if constexpr (K == Nib::Q4_0 || K == Nib::IQ4_NL) {
      return i ? half_hi(sc) : half_lo(sc);
    } else if constexpr (K == Nib::MXFP4) {
      return e8m0_half((sc >> (8 * i)) & 0xFF);
    } else {
      const int ib = 2 * (u % 4) + i;
      const int ls = int((sl >> (4 * i)) & 0xF) | int(((sc >> (16 + 2 * ib)) & 3) << 4);
      return half_lo(sc) * float(ls - 32);
    }
  }
  __device__ float dot(int u, const QAct& x) const {
    float acc = 0.0f;
    const float2 xd = x.d2(u);
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const int4 lo = x.chunk(4 * u + 2 * i), hi = x.chunk(4 * u + 2 * i + 1);
      int s = 0;
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        const uint32_t w = word(q[i], k);
        s = dp4(int(values(w & 0x0F0F0F0Fu)), int(iword(lo, k)), s);
        s = dp4(int(values((w >> 4) & 0x0F0F0F0Fu)), int(iword(hi, k)), s);
      }
      acc += scale(u, i) * (i ? xd.y : xd.x) * float(s);
    }
    return acc;
  }
  template <class Emit>
  __device__ void dequant(int u, Emit emit) const {
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const float f = scale(u, i);
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        const uint32_t w = word(q[i], k), lo = values(w & 0x0F0F0F0Fu), hi = values((w >> 4) & 0x0F0F0F0Fu);
#pragma unroll
        for (int b = 0; b < 4; ++b) {
          emit(u * 64 + 32 * i + 4 * k + b, f * float(int8_t(lo >> (8 * b))));
          emit(u * 64 + 32 * i + 16 + 4 * k + b, f * float(int8_t(hi >> (8 * b))));
        }
      }
    }
  }
};

// --- IQ2_XXS, IQ3_XXS, IQ3_S: grid codebooks -------------------------------------------------
// tab (gpu_grid_table): 128 sign bytes (7-bit index -> 8 sign bits), then the type's grid.
// GPU layouts, per row: IQ2_XXS the 8 index/sign bytes of every 32 weights, then fp16 d per 256;
// IQ3_XXS grid indices (8 bytes per 32), the u32 scale/sign words (4 per 32), d; IQ3_S grid
// indices, sign bytes (4 per 32), high index bits (1 per 32), scale nibbles (1 byte per 64), d.

// Four magnitudes (bytes) with signs from 4 bits: negate where the bit is set.
__device__ __forceinline__ uint32_t signed4(uint32_t mag, uint32_t bits) {
  const uint32_t m = ((bits * 0x00204081u) & 0x01010101u) * 0xFFu;
  return __vsub4(mag ^ m, m);
}
__device__ __forceinline__ uint32_t sign_byte(const uint32_t* tab, uint32_t i) {
  return __ldg(reinterpret_cast<const uint8_t*>(tab) + i);
}

// The grid units' products: sub-block i (of the unit's two) holds 4 groups l of 8 weights, read
// as two signed words k; U supplies values(i, l, k) and scale(i).
template <class U>
__device__ __forceinline__ float grid_dot(const U& w, int u, const QAct& x) {
  float acc = 0.0f;
  const float2 xd = x.d2(u);
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int4 xc[2] = {x.chunk(4 * u + 2 * i), x.chunk(4 * u + 2 * i + 1)};
    int s = 0;
#pragma unroll
    for (int l = 0; l < 4; ++l)
#pragma unroll
      for (int k = 0; k < 2; ++k) s = dp4(int(w.values(i, l, k)), int(iword(xc[l / 2], 2 * (l % 2) + k)), s);
    acc += w.scale(i) * (i ? xd.y : xd.x) * float(s);
  }
  return acc;
}

template <class U, class Emit>
__device__ void grid_dequant(const U& w, int u, Emit emit) {
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int l = 0; l < 4; ++l)
#pragma unroll
      for (int k = 0; k < 2; ++k) {
        const uint32_t v = w.values(i, l, k);
#pragma unroll
        for (int b = 0; b < 4; ++b) emit(u * 64 + 32 * i + 8 * l + 4 * k + b, w.scale(i) * float(int8_t(v >> (8 * b))));
      }
}

struct IQ2XXSUnit {
  uint4 q;  // sub-blocks 2u, 2u + 1: per sub-block 4 index bytes, then 28 sign bits and a 4-bit scale
  uint32_t d = 0;
  const uint32_t* tab = nullptr;
  __device__ void load(const uint8_t* row, int cols, int u, const uint32_t* t) {
    q = ld_stream(row + size_t(u) * 16);
    d = __ldg(reinterpret_cast<const uint16_t*>(row + cols / 4 + 2 * (u / 4)));
    tab = t;
  }
  // Word k (0, 1) of group l of sub-block i, signed.
  __device__ uint32_t values(int i, int l, int k) const {
    const uint32_t idx = (word(q, 2 * i) >> (8 * l)) & 0xFF, aux = word(q, 2 * i + 1);
    const uint2 g = __ldg(reinterpret_cast<const uint2*>(tab + 32) + idx);
    const uint32_t signs = sign_byte(tab, (aux >> (7 * l)) & 127);
    return signed4(k ? g.y : g.x, k ? signs >> 4 : signs & 0xF);
  }
  __device__ float scale(int i) const { return half_lo(d) * (0.5f + float(word(q, 2 * i + 1) >> 28)) * 0.25f; }
  __device__ float dot(int u, const QAct& x) const { return grid_dot(*this, u, x); }
  template <class Emit>
  __device__ void dequant(int u, Emit emit) const { grid_dequant(*this, u, emit); }
};

template <bool S>  // false: IQ3_XXS, true: IQ3_S
struct IQ3Unit {
  uint4 q;        // 16 grid indices (low 8 bits)
  uint2 aux;      // IQ3_XXS: the two scale/sign words; IQ3_S: the 8 sign bytes
  uint32_t hs = 0;  // IQ3_S: the two high-bit bytes | scale byte << 16
  uint32_t d = 0;
  const uint32_t* tab = nullptr;
  __device__ void load(const uint8_t* row, int cols, int u, const uint32_t* t) {
    q = ld_stream(row + size_t(u) * 16);
    const uint8_t* s = row + cols / 4;
    aux = __ldg(reinterpret_cast<const uint2*>(s + 8 * u));
    s += cols / 8;
    if constexpr (S) {
      hs = uint32_t(__ldg(reinterpret_cast<const uint16_t*>(s + 2 * u))) | uint32_t(__ldg(s + cols / 32 + u)) << 16;
      s += cols / 32 + cols / 64;
    }
    d = __ldg(reinterpret_cast<const uint16_t*>(s + 2 * (u / 4)));
    tab = t;
  }
  __device__ uint32_t grid_index(int i, int j) const {  // j = 0..7 within sub-block i
    const uint32_t lo = (word(q, 2 * i + j / 4) >> (8 * (j % 4))) & 0xFF;
    if constexpr (!S) return lo;
    const uint32_t qh = (hs >> (8 * i)) & 0xFF;
    return lo | ((qh << (8 - j)) & 256);  // pair l = j / 2: bit 2l for its first index, 2l + 1 for its second
  }
  // Word k (0, 1) of group l of sub-block i, signed.
  __device__ uint32_t values(int i, int l, int k) const {
    const uint32_t g = __ldg(tab + 32 + grid_index(i, 2 * l + k));
    uint32_t signs;
    if constexpr (S) signs = ((i ? aux.y : aux.x) >> (8 * l)) & 0xFF;
    else signs = sign_byte(tab, ((i ? aux.y : aux.x) >> (7 * l)) & 127);
    return signed4(g, k ? signs >> 4 : signs & 0xF);
  }
  __device__ float scale(int i) const {
    if constexpr (S) return half_lo(d) * float(1 + 2 * int((hs >> (16 + 4 * i)) & 0xF));
    else return half_lo(d) * (0.5f + float((i ? aux.y : aux.x) >> 28)) * 0.5f;
  }
  __device__ float dot(int u, const QAct& x) const { return grid_dot(*this, u, x); }
  template <class Emit>
  __device__ void dequant(int u, Emit emit) const { grid_dequant(*this, u, emit); }
};

// --- BF16 -------------------------------------------------------------------------------------
// For expert kernels that meet a bf16 matrix beside quantized ones (float activations).
struct BF16Unit {
  uint4 q[8];
  __device__ void load(const uint8_t* row, int, int u, const uint32_t*) {
#pragma unroll
    for (int i = 0; i < 8; ++i) q[i] = ld_stream(row + size_t(u) * 128 + 16 * i);
  }
  __device__ float dot(int u, const QAct& x) const {
    float acc = 0.0f;
#pragma unroll
    for (int i = 0; i < 8; ++i) acc += dot8(q[i], x.f + u * 64 + 8 * i);
    return acc;
  }
};

// The unit type of each DType the kernels read.
template <DType T>
struct UnitOf;
template <>
struct UnitOf<DType::Q8_0> { using type = Q8Unit; };
template <>
struct UnitOf<DType::Q4_K> { using type = K45Unit<false>; };
template <>
struct UnitOf<DType::Q5_K> { using type = K45Unit<true>; };
template <>
struct UnitOf<DType::Q6_K> { using type = Q6Unit; };
template <>
struct UnitOf<DType::BF16> { using type = BF16Unit; };
template <>
struct UnitOf<DType::Q4_0> { using type = NibUnit<Nib::Q4_0>; };
template <>
struct UnitOf<DType::IQ4_NL> { using type = NibUnit<Nib::IQ4_NL>; };
template <>
struct UnitOf<DType::MXFP4> { using type = NibUnit<Nib::MXFP4>; };
template <>
struct UnitOf<DType::IQ4_XS> { using type = NibUnit<Nib::IQ4_XS>; };
template <>
struct UnitOf<DType::IQ2_XXS> { using type = IQ2XXSUnit; };
template <>
struct UnitOf<DType::IQ3_XXS> { using type = IQ3Unit<false>; };
template <>
struct UnitOf<DType::IQ3_S> { using type = IQ3Unit<true>; };

// Calls f.template operator()<T>() for the runtime type t (a GPU quant type; kWithBf16: or BF16).
template <bool kWithBf16 = false, class F>
void dispatch_quant(DType t, F&& f) {
  if constexpr (kWithBf16)
    if (t == DType::BF16) return f.template operator()<DType::BF16>();
  switch (t) {
    case DType::Q8_0: return f.template operator()<DType::Q8_0>();
    case DType::Q4_K: return f.template operator()<DType::Q4_K>();
    case DType::Q5_K: return f.template operator()<DType::Q5_K>();
    case DType::Q6_K: return f.template operator()<DType::Q6_K>();
    case DType::Q4_0: return f.template operator()<DType::Q4_0>();
    case DType::IQ4_NL: return f.template operator()<DType::IQ4_NL>();
    case DType::MXFP4: return f.template operator()<DType::MXFP4>();
    case DType::IQ4_XS: return f.template operator()<DType::IQ4_XS>();
    case DType::IQ2_XXS: return f.template operator()<DType::IQ2_XXS>();
    case DType::IQ3_XXS: return f.template operator()<DType::IQ3_XXS>();
    case DType::IQ3_S: return f.template operator()<DType::IQ3_S>();
    default: fail("CUDA: no kernels for ", dtype_name(t), " weights");
  }
}

}  // namespace a3b::cuda
