// Quantized weights on the GPU (Q8_0, Q4_K, Q5_K, Q6_K): the GPU layouts and kernels against the
// CPU's dequantization, and whole models against the CPU engine on the same quantized weights.
// Skipped where no GPU is present.
//
// Tolerances. Dequantization: within one bf16 rounding of the CPU's float values. The GEMV
// multiplies int8 activations (per 32 values, like llama.cpp's q8_1), which moves a dot product
// by about 0.4% of |w|·|x|: held to 2e-2 of the largest output (short rows of 256 and 768
// weights average the rounding least: 1.1–1.2% measured there, 0.2–0.9% elsewhere). Models: the CPU engine quantizes
// its activations its own way, and the GPU's prefill rounds them to bf16 for the tensor cores,
// so logits differ by both errors over every layer: relative RMS, as the CPU's GGUF tests use.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include "core/dtype.h"
#include "core/quant.h"
#include "cpu/cpu_model.h"
#include "cuda/kernels.h"
#include "cuda_test_util.h"
#include "formats/gguf_quantize.h"
#include "formats/model_file.h"

namespace a3b {
namespace {

constexpr double kGemvTol = 2e-2;
constexpr double kModelTol = 5e-2;  // near-tie: top-two gap / max|logit| where argmaxes may differ
constexpr double kModelRms = 0.03;  // relative RMS of logits, quantized GPU vs quantized CPU
// The same on random weights, which amplify every rounding difference layer after layer (0.048
// measured, against 0.016 on the trained default model); layout or indexing bugs give ~1.
constexpr double kRandomModelRms = 0.08;

struct QuantRows {
  std::vector<uint8_t> file;  // rows in the file's layout
  std::vector<uint8_t> gpu;   // the same rows in the GPU layout
  std::vector<float> f;       // the CPU's dequantization
};

QuantRows random_rows(DType t, int rows, int cols, std::mt19937& rng) {
  std::normal_distribution<float> n(0.0f, 1.0f);
  QuantRows q;
  const size_t fb = dtype_row_bytes(t, cols), gb = cuda::gpu_row_bytes(t, cols);
  q.file.resize(size_t(rows) * fb);
  q.gpu.resize(size_t(rows) * gb);
  q.f.resize(size_t(rows) * cols);
  std::vector<float> x(static_cast<size_t>(cols));
  for (int r = 0; r < rows; ++r) {
    const float scale = std::exp(n(rng));  // rows of different magnitudes
    uint8_t* blocks = &q.file[r * fb];
    if (can_quantize(t)) {
      for (float& v : x) v = scale * n(rng);
      quantize(t, x.data(), blocks, cols);
    } else {  // no quantizer here: random blocks with sane scales
      for (size_t i = 0; i < fb; ++i) blocks[i] = uint8_t(rng());
      const size_t bb = dtype_size(t);
      for (size_t b = 0; b < fb / bb; ++b) {
        uint8_t* blk = blocks + b * bb;
        if (t == DType::MXFP4) {
          blk[0] = uint8_t(120 + rng() % 10);
        } else {  // IQ4_NL, IQ4_XS, IQ2_XXS, IQ3_XXS, IQ3_S: fp16 d first
          const uint16_t d = f32_to_f16(scale / 64.0f);
          std::memcpy(blk, &d, 2);
        }
      }
    }
    dequantize(t, blocks, &q.f[size_t(r) * cols], cols);
    cuda::gpu_pack_row(t, &q.file[r * fb], cols, &q.gpu[r * gb]);
  }
  return q;
}

struct Device {
  void* p = nullptr;
  explicit Device(size_t bytes) { A3B_CUDA(cudaMalloc(&p, std::max<size_t>(bytes, 16))); }
  ~Device() { cudaFree(p); }
  template <class T>
  T* as() const { return static_cast<T*>(p); }
};

class CudaQuantKernels : public ::testing::TestWithParam<std::tuple<DType, int, int>> {};

TEST_P(CudaQuantKernels, DequantAndGemvMatchCpu) {
  A3B_REQUIRE_GPU();
  const auto [type, cols, ntok] = GetParam();
  const int rows = 301;  // not a multiple of any pass size
  std::mt19937 rng(unsigned(cols * 31 + int(type)));
  QuantRows q = random_rows(type, rows, cols, rng);
  Device w(q.gpu.size()), deq(size_t(rows) * cols * 2), x(size_t(ntok) * cols * 4), y(size_t(ntok) * rows * 4);
  A3B_CUDA(cudaMemcpy(w.p, q.gpu.data(), q.gpu.size(), cudaMemcpyHostToDevice));
  cuda::GpuMatrix m;
  m.type = type;
  m.data = w.as<uint8_t>();
  m.rows = rows;
  m.cols = cols;
  m.row_bytes = cuda::gpu_row_bytes(type, cols);
  m.tables = cuda::gpu_grid_table(type);
  cuda::Ctx ctx;

  // Dequantization: the CPU's values, rounded once to bf16.
  cuda::dequant_rows(ctx, m, 0, rows, deq.as<cuda::bf16>(), "test");
  std::vector<uint16_t> got(size_t(rows) * cols);
  A3B_CUDA(cudaMemcpy(got.data(), deq.p, got.size() * 2, cudaMemcpyDeviceToHost));
  int off = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const float g = bf16_to_f32(got[i]), want = q.f[i];
    if (std::fabs(g - want) > std::ldexp(std::fabs(want), -8) + 1e-6f && ++off <= 3)
      ADD_FAILURE() << dtype_name(type) << " weight " << i << ": GPU " << g << ", CPU " << want;
  }
  EXPECT_EQ(off, 0) << "dequantized weights off by more than a bf16 rounding";

  // GEMV against float64 dots of the CPU's weights.
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> xs(size_t(ntok) * cols);
  for (float& v : xs) v = n(rng);
  A3B_CUDA(cudaMemcpy(x.p, xs.data(), xs.size() * 4, cudaMemcpyHostToDevice));
  cuda::GemvArgs a;
  a.w = m;
  a.ntok = ntok;
  a.x = x.as<float>();
  a.ldx = cols;
  a.y = y.as<float>();
  a.ldy = rows;
  cuda::gemv(ctx, a, "test");
  std::vector<float> ys(size_t(ntok) * rows);
  A3B_CUDA(cudaMemcpy(ys.data(), y.p, ys.size() * 4, cudaMemcpyDeviceToHost));
  std::vector<float> ref(ys.size());
  for (int t = 0; t < ntok; ++t)
    for (int r = 0; r < rows; ++r) {
      double s = 0;
      for (int c = 0; c < cols; ++c) s += double(q.f[size_t(r) * cols + c]) * xs[size_t(t) * cols + c];
      ref[size_t(t) * rows + r] = float(s);
    }
  const double err = test::max_rel_diff(ys.data(), ref.data(), ref.size());
  std::printf("%s cols %d tokens %d: GEMV max|Δ|/max|y| = %.2e\n", dtype_name(type), cols, ntok, err);
  EXPECT_LE(err, kGemvTol);
}

INSTANTIATE_TEST_SUITE_P(Types, CudaQuantKernels,
                         ::testing::Values(std::make_tuple(DType::Q8_0, 64, 1), std::make_tuple(DType::Q8_0, 2048, 1),
                                           std::make_tuple(DType::Q8_0, 4096, 3), std::make_tuple(DType::Q4_K, 256, 1),
                                           std::make_tuple(DType::Q4_K, 2048, 2), std::make_tuple(DType::Q4_K, 512, 4),
                                           std::make_tuple(DType::Q5_K, 2048, 1), std::make_tuple(DType::Q5_K, 512, 2),
                                           std::make_tuple(DType::Q6_K, 2048, 1), std::make_tuple(DType::Q6_K, 768, 4),
                                           std::make_tuple(DType::Q4_0, 64, 1), std::make_tuple(DType::Q4_0, 2048, 2),
                                           std::make_tuple(DType::IQ4_NL, 2048, 1), std::make_tuple(DType::MXFP4, 512, 4),
                                           std::make_tuple(DType::IQ4_XS, 2048, 1), std::make_tuple(DType::IQ4_XS, 256, 2),
                                           std::make_tuple(DType::IQ2_XXS, 2048, 1), std::make_tuple(DType::IQ3_XXS, 512, 2),
                                           std::make_tuple(DType::IQ3_S, 2048, 4)));

// The grouped GEMM on quantized weights (tiles dequantized in shared memory) against dequantizing
// them first and the bf16 grouped GEMM: the same bf16 values in the same product order, so equal
// to the bit. Three groups of 5, 0 and 133 rows (a tile boundary), N not a multiple of the tile,
// K of half a slice past the last whole one where the type allows; SwiGLU and float outputs; the
// kernel for many rows per group (128 at once) and the one for few (16 at a time).
class CudaQuantGemm : public ::testing::TestWithParam<std::tuple<DType, int>> {};

TEST_P(CudaQuantGemm, EqualsDequantizeThenGemm) {
  A3B_REQUIRE_GPU();
  const auto [type, K] = GetParam();
  const int G = 3, N = 2 * 97, T = 138;
  const std::vector<int> seg = {0, 5, 5, T};
  std::vector<int> tiles = {0};
  for (int g = 0; g < G; ++g)
    tiles.push_back(tiles.back() + (seg[size_t(g) + 1] - seg[size_t(g)] + cuda::kGemmTileM - 1) / cuda::kGemmTileM);
  std::mt19937 rng(unsigned(K * 7 + int(type)));
  QuantRows q = random_rows(type, G * N, K, rng);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<uint16_t> xs(size_t(T) * K);
  for (uint16_t& v : xs) v = f32_to_bf16(nd(rng));
  Device w(q.gpu.size()), deq(size_t(G) * N * K * 2), x(xs.size() * 2), dseg(seg.size() * 4), dtiles(tiles.size() * 4);
  Device out_q(size_t(T) * N * 4), out_ref(size_t(T) * N * 4);
  A3B_CUDA(cudaMemcpy(w.p, q.gpu.data(), q.gpu.size(), cudaMemcpyHostToDevice));
  A3B_CUDA(cudaMemcpy(x.p, xs.data(), xs.size() * 2, cudaMemcpyHostToDevice));
  A3B_CUDA(cudaMemcpy(dseg.p, seg.data(), seg.size() * 4, cudaMemcpyHostToDevice));
  A3B_CUDA(cudaMemcpy(dtiles.p, tiles.data(), tiles.size() * 4, cudaMemcpyHostToDevice));
  cuda::GpuMatrix m;
  m.type = type;
  m.data = w.as<uint8_t>();
  m.rows = G * N;
  m.cols = K;
  m.row_bytes = cuda::gpu_row_bytes(type, K);
  m.tables = cuda::gpu_grid_table(type);
  cuda::Ctx ctx;
  cuda::dequant_rows(ctx, m, 0, m.rows, deq.as<cuda::bf16>(), "test");
  for (int variant = 0; variant < 4; ++variant) {
    const bool swiglu = variant % 2 == 0, few_rows = variant >= 2;
    cuda::GroupGemmArgs a;
    a.a = x.as<cuda::bf16>();
    a.lda = K;
    a.N = N;
    a.K = K;
    a.groups = G;
    a.seg = dseg.as<int>();
    a.tiles = dtiles.as<int>();
    a.max_tiles = tiles.back();
    a.swiglu = swiglu;
    a.ldo = swiglu ? N / 2 : N;
    const size_t bytes = size_t(T) * N * 4;
    A3B_CUDA(cudaMemset(out_q.p, 0, bytes));
    A3B_CUDA(cudaMemset(out_ref.p, 0, bytes));
    a.wq = m;
    a.few_rows = few_rows;
    a.out = out_q.p;
    cuda::group_gemm(ctx, a, "test quant");
    a.wq = cuda::GpuMatrix{};
    a.w = deq.as<cuda::bf16>();
    a.w_stride = int64_t(N) * K;
    a.out = out_ref.p;
    cuda::group_gemm(ctx, a, "test bf16");
    A3B_CUDA(cudaDeviceSynchronize());
    std::vector<uint8_t> got(bytes), want(bytes);
    A3B_CUDA(cudaMemcpy(got.data(), out_q.p, bytes, cudaMemcpyDeviceToHost));
    A3B_CUDA(cudaMemcpy(want.data(), out_ref.p, bytes, cudaMemcpyDeviceToHost));
    size_t nonzero = 0;
    for (uint8_t b : want) nonzero += b != 0;
    EXPECT_GT(nonzero, bytes / 8) << "the reference wrote nothing";
    EXPECT_EQ(std::memcmp(got.data(), want.data(), bytes), 0)
        << dtype_name(type) << " K " << K << (swiglu ? " SwiGLU" : " float") << (few_rows ? ", 16 rows at a time" : "")
        << ": outputs differ";
  }
}

INSTANTIATE_TEST_SUITE_P(Types, CudaQuantGemm,
                         ::testing::Values(std::make_tuple(DType::Q8_0, 320), std::make_tuple(DType::Q4_K, 512),
                                           std::make_tuple(DType::Q5_K, 256), std::make_tuple(DType::Q6_K, 768),
                                           std::make_tuple(DType::Q4_0, 192), std::make_tuple(DType::IQ4_XS, 256),
                                           std::make_tuple(DType::MXFP4, 128), std::make_tuple(DType::IQ2_XXS, 256),
                                           std::make_tuple(DType::IQ3_S, 512)));

// m's rows quantized to t (kept as they are where rows are not whole blocks of t).
Matrix quantized(ModelWeights& w, const Matrix& m, DType t) {
  if (m.cols % dtype_block_elems(t) != 0) return m;
  auto data = std::make_shared<std::vector<uint8_t>>(size_t(m.rows) * dtype_row_bytes(t, m.cols));
  std::vector<float> row(size_t(m.cols));
  for (int64_t r = 0; r < m.rows; ++r) {
    to_f32(m.dtype, m.row(r), row.data(), row.size());
    quantize(t, row.data(), data->data() + size_t(r) * dtype_row_bytes(t, m.cols), m.cols);
  }
  w.storage.push_back(data);
  return Matrix{t, m.rows, m.cols, data->data()};
}

// The real head shapes, narrow, with every GPU quant type, mixed types inside the fused
// projections (and bf16 rows beside them, as a GGUF's F32 ssm_alpha/beta), and llama.cpp's tiled
// value-head order.
ModelWeights mixed_quant_weights() {
  ModelConfig c = test::mid_config();
  c.expert_inter = 64;
  c.shared_inter = 128;
  ModelWeights w = test::random_weights(c, 7);
  w.embed = quantized(w, w.embed, DType::Q8_0);
  w.lm_head = quantized(w, w.lm_head, DType::Q6_K);
  for (LayerWeights& L : w.layers) {
    if (L.kind == LayerKind::DeltaNet) {
      DeltaNetWeights& g = L.deltanet;
      g.qkv = quantized(w, g.qkv, DType::Q8_0);
      g.z = quantized(w, g.z, DType::Q8_0);
      g.out = quantized(w, g.out, DType::Q5_K);
      g.v_heads_tiled = true;
    } else {
      L.attn.q = quantized(w, L.attn.q, DType::Q4_K);
      L.attn.k = quantized(w, L.attn.k, DType::Q8_0);
      L.attn.v = quantized(w, L.attn.v, DType::Q6_K);
      L.attn.o = quantized(w, L.attn.o, DType::Q4_0);
    }
    for (ExpertWeights& e : L.moe.experts) {
      e.gate = quantized(w, e.gate, DType::Q4_K);
      e.up = quantized(w, e.up, DType::Q4_K);
      e.down = quantized(w, e.down, DType::Q8_0);
    }
    L.moe.shared.gate = quantized(w, L.moe.shared.gate, DType::Q5_K);
    L.moe.shared.up = quantized(w, L.moe.shared.up, DType::Q5_K);
  }
  return w;
}

std::vector<float> run(Model& m, SequenceState& seq, std::span<const int32_t> tokens) {
  std::vector<float> out(size_t(m.config().vocab_size));
  BatchItem item{&seq, tokens, false};
  m.forward({&item, 1}, out.data());
  return out;
}

// Logits of the prompt's last position, then of `steps` decode steps fed with `tokens` (teacher
// forcing: every engine sees the same inputs), rows one after another.
std::vector<float> forced(Model& m, std::span<const int32_t> prompt, std::span<const int32_t> tokens) {
  auto seq = m.new_sequence();
  std::vector<float> out = run(m, *seq, prompt);
  for (const int32_t& t : tokens) {
    auto row = run(m, *seq, std::span(&t, 1));
    out.insert(out.end(), row.begin(), row.end());
  }
  return out;
}

struct Comparison {
  double rms = 0;      // relative RMS of GPU logits against the CPU's on the same weights
  int same_top1 = 0;   // rows whose argmax agrees
  int rows = 0;
};

// Prefill (dequantize + tensor cores), then greedy decode (quantized GEMV), the CPU engine's
// greedy tokens fed to both. Also checks that wherever the argmax differs, the CPU's logits were a
// near-tie (its top two within kModelTol of its largest magnitude).
Comparison compare_engines(const ModelWeights& w, std::span<const int32_t> prompt, int steps, const char* what,
                           std::vector<int32_t>* tokens_out = nullptr) {
  CpuModel cpu(w, 2);
  CudaModel gpu(w);
  const int64_t V = cpu.config().vocab_size;
  std::vector<int32_t> tokens;  // the CPU's greedy continuation
  {
    auto seq = cpu.new_sequence();
    auto l = run(cpu, *seq, prompt);
    for (int s = 0; s < steps; ++s) {
      tokens.push_back(test::argmax(l.data(), V));
      l = run(cpu, *seq, std::span(&tokens.back(), 1));
    }
  }
  const auto cl = forced(cpu, prompt, tokens), gl = forced(gpu, prompt, tokens);
  Comparison c;
  c.rows = int(cl.size() / size_t(V));
  c.rms = test::relative_rms(gl, cl);
  for (int r = 0; r < c.rows; ++r) {
    const float* cr = &cl[size_t(r) * V];
    const int32_t tg = test::argmax(&gl[size_t(r) * V], V);
    if (tg == test::argmax(cr, V)) {
      ++c.same_top1;
      continue;
    }
    const double gap = test::gap_to(cr, V, tg), allowed = kModelTol * test::max_abs(cr, size_t(V));
    std::printf("%s: row %d argmax differs: CPU gap %.4f, allowed near-tie %.4f\n", what, r, gap, allowed);
    EXPECT_LE(gap, allowed) << what << ": argmax differs where the CPU's logits are no near-tie (row " << r << ")";
  }
  std::printf("%s: GPU vs CPU on the same weights: logits relative RMS %.4f, top-1 equal %d/%d\n", what, c.rms,
              c.same_top1, c.rows);
  if (tokens_out) *tokens_out = tokens;
  return c;
}

TEST(CudaQuant, MixedTypesMatchCpuEngine) {
  A3B_REQUIRE_GPU();
  ModelWeights w = mixed_quant_weights();
  std::mt19937 rng(3);
  std::vector<int32_t> prompt(40);
  for (int32_t& t : prompt) t = int32_t(rng() % uint32_t(w.config.vocab_size));
  const Comparison c = compare_engines(w, prompt, 16, "mixed quant types");
  EXPECT_LE(c.rms, kRandomModelRms);
}

// A decode batch of a quantized model runs as steps of quant_decode_step sequences (the GEMV
// path): ten sequences in one forward (steps of 4, 4, 2) give each one's logits alone, and the
// same as with the split turned off (one step of 10: the routed experts through the quantized
// grouped GEMM, the rest dequantized, on tensor cores).
TEST(CudaQuant, DecodeBatchInStepsEqualsEachAlone) {
  A3B_REQUIRE_GPU();
  ModelWeights w = mixed_quant_weights();
  const int64_t V = w.config.vocab_size;
  constexpr int kSeqs = 10;
  std::mt19937 rng(5);
  auto tokens = [&](int n) {
    std::vector<int32_t> t(static_cast<size_t>(n));
    for (int32_t& x : t) x = int32_t(rng() % uint32_t(V));
    return t;
  };
  std::vector<std::vector<int32_t>> prompts, next;
  for (int i = 0; i < kSeqs; ++i) prompts.push_back(tokens(3 + i)), next.push_back(tokens(1));
  std::vector<float> logits[2];
  for (int split = 0; split < 2; ++split) {
    CudaOptions o;
    o.quant_decode_step = split ? 4 : 0;
    o.quant_decode_split = o.quant_decode_split_with_copies = kSeqs;
    CudaModel gpu(w, o);
    std::vector<std::unique_ptr<SequenceState>> together, alone;
    std::vector<float> expect;
    for (int i = 0; i < kSeqs; ++i) {
      together.push_back(gpu.new_sequence());
      alone.push_back(gpu.new_sequence());
      run(gpu, *together.back(), prompts[size_t(i)]);
      run(gpu, *alone.back(), prompts[size_t(i)]);
      auto l = run(gpu, *alone.back(), next[size_t(i)]);
      expect.insert(expect.end(), l.begin(), l.end());
    }
    std::vector<BatchItem> items;
    for (int i = 0; i < kSeqs; ++i) items.push_back({together[size_t(i)].get(), next[size_t(i)], false});
    logits[split].resize(size_t(kSeqs) * V);
    gpu.forward(items, logits[split].data());
    const double e = test::relative_rms(logits[split], expect);
    std::printf("quantized decode batch of %d, %s: vs each alone, relative RMS %.2e\n", kSeqs,
                split ? "steps of 4" : "one step", e);
    // In steps of 4 every sequence takes the GEMV path, as alone: equal up to summation order.
    EXPECT_LE(e, split ? 1e-5 : kRandomModelRms);
  }
  EXPECT_LE(test::relative_rms(logits[1], logits[0]), kRandomModelRms);
}

// Steps of many tokens multiply quantized dense matrices through bf16: a copy kept on the GPU
// (CudaOptions::dense_bf16_copies) or dequantized into the scratch every step. The same values
// either way: a 40-token prompt and a batch of six decode steps give the same logits.
TEST(CudaQuant, DenseBf16CopiesGiveTheSameLogits) {
  A3B_REQUIRE_GPU();
  ModelWeights w = mixed_quant_weights();
  const int64_t V = w.config.vocab_size;
  std::mt19937 rng(9);
  std::vector<int32_t> prompt(40), next(6);
  for (int32_t& t : prompt) t = int32_t(rng() % uint32_t(V));
  for (int32_t& t : next) t = int32_t(rng() % uint32_t(V));
  std::vector<float> logits[2];
  size_t bytes[2];
  for (int copies = 0; copies < 2; ++copies) {
    CudaOptions o;
    o.dense_bf16_copies = copies == 1;
    o.quant_decode_split = o.quant_decode_split_with_copies = 0;  // the six decode tokens as one step of many
    CudaModel gpu(w, o);
    bytes[copies] = gpu.weight_bytes();
    std::vector<std::unique_ptr<SequenceState>> seqs;
    std::vector<BatchItem> items;
    logits[copies] = run(gpu, *(seqs.emplace_back(gpu.new_sequence())), prompt);
    for (int i = 0; i < 6; ++i) {
      seqs.push_back(gpu.new_sequence());
      run(gpu, *seqs.back(), std::span(prompt).first(size_t(5 + i)));
    }
    for (int i = 0; i < 6; ++i) items.push_back({seqs[size_t(i) + 1].get(), std::span(&next[size_t(i)], 1), false});
    std::vector<float> batch(size_t(6) * V);
    gpu.forward(items, batch.data());
    logits[copies].insert(logits[copies].end(), batch.begin(), batch.end());
  }
  EXPECT_GT(bytes[1], bytes[0]) << "no bf16 copies were kept";
  const double e = test::relative_rms(logits[1], logits[0]);
  std::printf("dense bf16 copies vs dequantizing every step: relative RMS %.2e\n", e);
  EXPECT_LE(e, 1e-5);
}

// The trained default model through `a3b quantize` (Q4_K_M and Q8_0 GGUFs, tiled V heads): the
// GPU against the CPU on the same file, and both against the BF16 checkpoint, where the GPU must
// stay within the bound the CPU's GGUF test holds the CPU to.
TEST(CudaQuant, QuantizedDefaultModelMatchesCpuEngine) {
  A3B_REQUIRE_GPU();
  const std::string dir = test::default_model_dir();
  const std::vector<int32_t> prompt = {8001, 872, 198, 3838, 374, 220, 16, 17, 18, 19, 353, 220, 20, 21, 22, 23, 30, 8002, 198, 8001, 77091, 198};
  CpuModel folder(load_model_weights(dir), 2);
  std::vector<int32_t> p;
  for (int32_t t : prompt) p.push_back(t % int32_t(folder.config().vocab_size));
  struct Want { const char* type; double vs_folder; };
  for (Want want : {Want{"Q4_K_M", 0.15}, Want{"Q8_0", 0.03}}) {
    const std::string path = (std::filesystem::temp_directory_path() / (std::string("a3b_cuda_quant_") + want.type + ".gguf")).string();
    QuantizeOptions o;
    o.type = want.type;
    quantize_model(dir, path, o);
    ModelWeights w = load_model_weights(path);
    std::vector<int32_t> tokens;
    const Comparison c = compare_engines(w, p, 24, want.type, &tokens);
    EXPECT_LE(c.rms, kModelRms) << want.type;
    const auto ref = forced(folder, p, tokens);
    CpuModel cpu(w, 2);
    CudaModel gpu(w);
    const double cpu_rms = test::relative_rms(forced(cpu, p, tokens), ref), gpu_rms = test::relative_rms(forced(gpu, p, tokens), ref);
    std::printf("%s: against the BF16 checkpoint, logits relative RMS: CPU %.4f, GPU %.4f\n", want.type, cpu_rms, gpu_rms);
    EXPECT_LE(gpu_rms, want.vs_folder) << want.type;
    std::filesystem::remove(path);
  }
}

}  // namespace
}  // namespace a3b
