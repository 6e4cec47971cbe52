// The grouped tensor-core GEMM for quantized weights: steps of a few to a few thousand rows
// (decode batches, prompts), where dequantizing whole matrices into a bf16 scratch first would
// write and read again 3.5× the bytes the quantized weights hold. Each block dequantizes its 128
// weight rows a 128-wide K slice at a time into shared memory — the values and bf16 rounding of
// dequant_rows, and the product order of gemm.cu, so the result equals dequantizing first —
// while the next slices' units are already on their way into registers.
#include "cuda/gemm_tile.cuh"
#include "cuda/quant.cuh"

namespace a3b::cuda {
namespace {

constexpr int BN = kTileN, BK = 2 * kUnit;  // a slice: two units of every weight row
constexpr int LDS = BK + 8;

// BM rows of A at a time (WarpTile): with 16, two blocks share a multiprocessor.
template <int BM>
constexpr size_t smem_bytes() { return 2 * size_t(BM + BN) * LDS * sizeof(bf16); }  // two stages

// Thread t holds unit 2·slice + t % 2 of weight row t / 2. Unit u covers weights [64u, 64u + 64)
// of the row, except Q6_K's, which covers four runs of 16 in the same 128-weight half-block: in
// either case slice k's two units cover exactly weights [128k, 128k + 128).
template <DType T, int BM>
__global__ __launch_bounds__(256, BM == kTileM ? 1 : 2) void group_gemm_quant_kernel(GroupGemmArgs a) {
  using Unit = typename UnitOf<T>::type;
  using WT = WarpTile<BM>;
  constexpr size_t kStageElems = size_t(BM + BN) * LDS;
  extern __shared__ float4 smem4[];
  bf16* smem = reinterpret_cast<bf16*>(smem4);  // per stage: A [BM][LDS], then B [BN][LDS]
  TilePlace at;
  if (!tile_place(a, &at)) return;
  const int g = at.g, m_end = at.m_end, n0 = at.n0;
  const int tid = threadIdx.x, units = a.K / kUnit, row0 = WT::row0(), col0 = WT::col0();

  // A: BM / 16 16-byte chunks per thread and stage (row tid / 16 + 16 i, chunk tid % 16).
  const int c_of = tid % 16;
  auto load_a = [&](int m0, int s, int k0) {
    bf16* As = smem + s * kStageElems;
    const bool kin = k0 + c_of * 8 < a.K;
#pragma unroll
    for (int i = 0; i < BM / 16; ++i) {
      const int r = tid / 16 + 16 * i, m = m0 + r;
      const bool ok = m < m_end && kin;
      const int arow = ok ? (a.a_index ? a.a_index[m] : m) : 0;
      cp_async16(As + r * LDS + c_of * 8, ok ? a.a + size_t(arow) * a.lda + k0 + c_of * 8 : a.a, ok);
    }
  };
  // B: one unit into registers, then dequantized into the stage's rows.
  const int brow = tid / 2, bsub = tid % 2, n = n0 + brow;
  const bool b_ok = n < a.N;
  const uint8_t* wrow = a.wq.data + (size_t(g) * a.N + (b_ok ? n : 0)) * a.wq.row_bytes;
  auto load_b = [&](Unit& w, int k) {
    const int u = 2 * k + bsub;
    if (b_ok && u < units) w.load(wrow, a.K, u, a.wq.tables);
  };
  // The unit's 64 values gather in registers (dequant emits them in runs of 4, in an order of
  // its own) and go out as eight 16-byte stores: 2-byte stores of 16 rows hit 8 banks, 4 ways each.
  // Group j of the 64 lies at weight 64·bsub + 8j of the slice, or for Q6_K at 32(j/2) + 16·bsub
  // + 8(j % 2). The index within the unit is c minus the unit's first weight: a constant once
  // dequant is unrolled (anything else would put v in local memory).
  auto store_b = [&](const Unit& w, int s, int k) {
    bf16* Bs = smem + s * kStageElems + BM * LDS + brow * LDS;
    const int u = 2 * k + bsub;
    uint4 out[8] = {};
    if (b_ok && u < units) {
      float v[kUnit];
      if constexpr (T == DType::Q6_K) {
        const int first = Q6Unit::start(u, 0);  // runs at first + 32 s: local 16 s + (c - first) % 32
        w.dequant(u, [&](int c, float x) { v[((c - first) & 15) + 16 * ((c - first) >> 5)] = x; });
      } else {
        w.dequant(u, [&](int c, float x) { v[c - kUnit * u] = x; });
      }
#pragma unroll
      for (int j = 0; j < 8; ++j)
        out[j] = make_uint4(pack_bf16x2(v[8 * j], v[8 * j + 1]), pack_bf16x2(v[8 * j + 2], v[8 * j + 3]),
                            pack_bf16x2(v[8 * j + 4], v[8 * j + 5]), pack_bf16x2(v[8 * j + 6], v[8 * j + 7]));
    }  // else past the rows or the row's end: zeros (Q6_K rows are whole 256-blocks: never half)
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const int at = T == DType::Q6_K ? 32 * (j / 2) + 16 * bsub + 8 * (j % 2) : kUnit * bsub + 8 * j;
      *reinterpret_cast<uint4*>(Bs + at) = out[j];
    }
  };

  // Slice k: its A arrives by cp.async during slice k - 1; its units were requested two slices
  // ahead, into the register set (w0 or w1) slice k - 2 was dequantized from.
  const int nk = (a.K + BK - 1) / BK, tile_rows = min(kTileM, m_end - at.m0);
  for (int r = 0; r < tile_rows; r += BM) {  // BM = kTileM: once
    const int m0 = at.m0 + r, rows = min(BM, tile_rows - r);
    float acc[WT::MF][WT::NF][4] = {};
    auto step = [&](int k, const Unit& stage_next, Unit& fetch) {
      asm volatile("cp.async.wait_group 0;");
      __syncthreads();  // slice k complete in stage k % 2; everyone is done with the other stage
      if (k + 1 < nk) load_a(m0, (k + 1) % 2, (k + 1) * BK);
      asm volatile("cp.async.commit_group;");
      if (k + 2 < nk) load_b(fetch, k + 2);
      const bf16* As = smem + (k % 2) * kStageElems;
      mma_slice<LDS, BK>(As, As + BM * LDS, acc, row0, col0, rows);
      if (k + 1 < nk) store_b(stage_next, (k + 1) % 2, k + 1);
    };
    Unit w0, w1;
    if (r > 0) __syncthreads();  // the previous rows' last slice is read by every warp
    load_a(m0, 0, 0);
    asm volatile("cp.async.commit_group;");
    load_b(w0, 0);
    if (nk > 1) load_b(w1, 1);
    store_b(w0, 0, 0);
    for (int k = 0; k < nk; k += 2) {
      step(k, w1, w0);
      if (k + 1 < nk) step(k + 1, w0, w1);
    }
    store_frags(a, acc, m0 + row0, m_end, n0 + col0);
  }
}

}  // namespace

void group_gemm_quant(const Ctx& ctx, const GroupGemmArgs& a, const char* name) {
  if (a.K % kUnit != 0 || a.wq.cols != a.K)
    fail("quantized grouped GEMM ", name, ": K = ", a.K, " must be the weights' width and a multiple of ", kUnit);
  if (a.swiglu && a.N % 2 != 0) fail("quantized grouped GEMM ", name, ": gate/up rows must come in pairs");
  const dim3 grid(unsigned(a.max_tiles), blocks_for(a.N, BN));
  dispatch_quant(a.wq.type, [&]<DType T>() {
    if (a.few_rows) launch(ctx, name, group_gemm_quant_kernel<T, 16>, grid, 256, smem_bytes<16>(), a);
    else launch(ctx, name, group_gemm_quant_kernel<T, kTileM>, grid, 256, smem_bytes<kTileM>(), a);
  });
}

}  // namespace a3b::cuda
