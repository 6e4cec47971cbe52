// The tile machinery the grouped tensor-core GEMMs share (gemm.cu: bf16 weights through
// cp.async; qgemm.cu: quantized weights dequantized into shared memory): which group a tile
// belongs to, the warps' m16n8k16 products over a K slice in shared memory, the output tile.
// A block owns a kTileM×kTileN output tile (tile_place); the kernels split it among their warps.
#pragma once
#include "cuda/common.cuh"
#include "cuda/kernels.h"

namespace a3b::cuda {

constexpr int kTileM = kGemmTileM, kTileN = 128;

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, bool valid) {
  const unsigned dst = unsigned(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(dst), "l"(gmem), "r"(valid ? 16 : 0));
}

__device__ __forceinline__ uint32_t ld32(const bf16* p) { return *reinterpret_cast<const uint32_t*>(p); }

// Where a block's output tile lies: group g (whose tiles contain block x: tiles[] holds the
// prefix sums of tiles per group), rows [m0, min(m0 + kTileM, m_end)), columns from n0.
struct TilePlace {
  int g, m0, m_end, n0;
};

// After the grid wait (the step's tiles come from the routing kernels); false: no tile here.
__device__ __forceinline__ bool tile_place(const GroupGemmArgs& a, TilePlace* p) {
  grid_sync_prev();
  const int tile = blockIdx.x;
  if (tile >= a.tiles[a.groups]) return false;
  int lo = 0, hi = a.groups - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (a.tiles[mid] <= tile) lo = mid;
    else hi = mid - 1;
  }
  p->g = lo;
  p->m0 = a.seg[lo] + (tile - a.tiles[lo]) * kTileM;
  p->m_end = a.seg[lo + 1];
  p->n0 = blockIdx.y * kTileN;
  return true;
}

// How a kernel taking BM rows of its tile at a time splits them and the 128 columns among its 8
// warps: all 128 rows as 2 × 4 warps of 64×32 (gemm.cu, qgemm.cu), or 16 rows (qgemm.cu, for
// groups of a few rows: less shared memory and fewer registers per block, the weights read again
// for every further 16 rows; tried for bf16 weights too: within ±3%, not kept) as 8 warps of
// 16×16. MF × NF fragments of m16n8k16 per warp, from row0 / col0 of the block's rows.
template <int BM>
struct WarpTile {
  static_assert(BM == kTileM || BM == 16, "128 or 16 rows at a time");
  static constexpr int MF = BM == kTileM ? 4 : 1, NF = BM == kTileM ? 4 : 2;
  static __device__ int row0() { return BM == kTileM ? int(threadIdx.x) / 128 * 64 : 0; }
  static __device__ int col0() { return BM == kTileM ? int(threadIdx.x) / 32 % 4 * 32 : int(threadIdx.x) / 32 * 16; }
};

// A warp's MF × NF m16n8k16 fragments, rows from row0 and columns from col0 of the block tile:
// acc += A·Bᵀ over a K slice of BK, with As [rows][LDS] and Bs [kTileN][LDS] in shared memory.
// Only the first `rows` rows of A hold data: 16-row fragments past them are skipped (a decode
// batch gives an expert a few rows of its 128).
template <int LDS, int BK, int MF, int NF>
__device__ __forceinline__ void mma_slice(const bf16* As, const bf16* Bs, float (&acc)[MF][NF][4], int row0, int col0,
                                          int rows) {
  const int lane = threadIdx.x % 32, gq = lane / 4, q = lane % 4;
  const int frags = min(MF, max(0, (rows - row0 + 15) / 16));  // warp-uniform
  if (frags == 0) return;
#pragma unroll
  for (int ks = 0; ks < BK; ks += 16) {
    uint32_t af[MF][4], bfr[NF][2];
#pragma unroll
    for (int mi = 0; mi < MF; ++mi) {
      if (mi >= frags) break;
      const bf16* r0 = As + (row0 + mi * 16 + gq) * LDS + ks + 2 * q;
      af[mi][0] = ld32(r0);
      af[mi][1] = ld32(r0 + 8 * LDS);
      af[mi][2] = ld32(r0 + 8);
      af[mi][3] = ld32(r0 + 8 * LDS + 8);
    }
#pragma unroll
    for (int ni = 0; ni < NF; ++ni) {
      const bf16* r0 = Bs + (col0 + ni * 8 + gq) * LDS + ks + 2 * q;
      bfr[ni][0] = ld32(r0);
      bfr[ni][1] = ld32(r0 + 8);
    }
#pragma unroll
    for (int mi = 0; mi < MF; ++mi) {
      if (mi >= frags) break;
#pragma unroll
      for (int ni = 0; ni < NF; ++ni) mma_bf16(acc[mi][ni], af[mi], bfr[ni]);
    }
  }
}

// A warp's fragments to the output: rows from m0 (below m_end), columns from n0; SwiGLU pairs
// as bf16, or floats (stored or added).
template <int MF, int NF>
__device__ __forceinline__ void store_frags(const GroupGemmArgs& a, const float (&acc)[MF][NF][4], int m0, int m_end,
                                            int n0) {
  const int lane = threadIdx.x % 32, gq = lane / 4, q = lane % 4;
#pragma unroll
  for (int mi = 0; mi < MF; ++mi)
#pragma unroll
    for (int ni = 0; ni < NF; ++ni) {
      const int col = n0 + ni * 8 + 2 * q;
      if (col >= a.N) continue;
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int row = m0 + mi * 16 + gq + half * 8;
        if (row >= m_end) continue;
        const float c0 = acc[mi][ni][2 * half], c1 = acc[mi][ni][2 * half + 1];
        if (a.swiglu) {
          static_cast<bf16*>(a.out)[size_t(row) * a.ldo + col / 2] = __float2bfloat16_rn(silu(c0) * c1);
        } else {
          float* o = static_cast<float*>(a.out) + size_t(row) * a.ldo + col;
          if (a.accumulate) {
            o[0] += c0;
            if (col + 1 < a.N) o[1] += c1;
          } else if (col + 1 < a.N && a.ldo % 2 == 0) {
            *reinterpret_cast<float2*>(o) = make_float2(c0, c1);
          } else {
            o[0] = c0;
            if (col + 1 < a.N) o[1] = c1;
          }
        }
      }
    }
}

}  // namespace a3b::cuda
