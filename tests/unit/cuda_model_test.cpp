// The CUDA engine's resource and error behaviour, and the full-width check against transformers.
#include <cstdio>

#include "core/error.h"
#include "core/npy.h"
#include "cpu/cpu_model.h"
#include "cuda_test_util.h"
#include "formats/model_file.h"

namespace a3b {
namespace {

TEST(CudaModel, NoGpuMemoryGrowthOver1000Requests) {
  A3B_REQUIRE_GPU();
  test::Golden g = test::load_golden(test::fixture("tiny-fused"));
  CudaModel m(load_model_weights(test::fixture("tiny-fused")));
  auto request = [&] {
    auto seq = m.new_sequence();
    BatchItem prompt{seq.get(), std::span(g.prompt).first(8), false};
    std::vector<float> logits(size_t(m.config().vocab_size));
    m.forward({&prompt, 1}, logits.data());
    for (int i = 0; i < 2; ++i) {
      BatchItem step{seq.get(), std::span(&g.greedy[size_t(i)], 1), false};
      m.forward({&step, 1}, logits.data());
    }
  };
  for (int i = 0; i < 10; ++i) request();
  const CudaMemory before = cuda_memory();
  for (int i = 0; i < 1000; ++i) request();
  const CudaMemory after = cuda_memory();
  const double grown_mib = (double(before.free) - double(after.free)) / (1 << 20);
  std::printf("1000 requests: GPU free memory %zu -> %zu bytes (growth %.3f MiB)\n", before.free, after.free, grown_mib);
  EXPECT_LE(grown_mib, 0.0);
}

TEST(CudaModel, RejectsBadTokensAndForeignSequences) {
  A3B_REQUIRE_GPU();
  const std::string dir = test::fixture("tiny-sharded");
  ModelWeights w = load_model_weights(dir);
  CudaModel gpu(w);
  CpuModel cpu(w, 1);
  auto seq = gpu.new_sequence();
  std::vector<int32_t> bad = {1, int32_t(w.config.vocab_size)};
  BatchItem item{seq.get(), bad, false};
  std::vector<float> logits(size_t(w.config.vocab_size));
  EXPECT_THROW(gpu.forward({&item, 1}, logits.data()), Error);
  EXPECT_EQ(seq->n_past, 0);
  auto foreign = cpu.new_sequence();
  std::vector<int32_t> ok = {1, 2};
  BatchItem other{foreign.get(), ok, false};
  EXPECT_THROW(gpu.forward({&other, 1}, logits.data()), Error);
  BatchItem twice[2] = {{seq.get(), ok, false}, {seq.get(), ok, false}};
  EXPECT_THROW(gpu.forward(twice, logits.data()), Error);
}

// A checkpoint with the real 35B-A3B widths and 8 layers, written by tools/reference/make_fullwidth.py
// on the GPU machine (~15 GB, not committed), which also stores transformers' greedy tokens and
// logits (bf16 on the GPU). Teacher forcing: at every step our argmax must be the reference token,
// or the reference must have a near-tie there.
TEST(CudaFullWidth, GreedyMatchesTransformers) {
  A3B_REQUIRE_GPU();
  const char* dir = std::getenv("A3B_FULLWIDTH_DIR");
  if (!dir || !*dir) GTEST_SKIP() << "set A3B_FULLWIDTH_DIR to the output of tools/reference/make_fullwidth.py";
  auto ref = test::read_json(std::string(dir) + "/ref.json");
  const auto prompt = ref["prompt_ids"].get<std::vector<int32_t>>();
  const auto greedy = ref["greedy_ids"].get<std::vector<int32_t>>();
  const auto ref_logits = read_npy(std::string(dir) + "/ref_logits.npy").data;  // row i predicts greedy[i]
  CudaModel m(load_model_weights(dir));
  const int64_t V = m.config().vocab_size;
  ASSERT_EQ(ref_logits.size(), greedy.size() * size_t(V));
  auto seq = m.new_sequence();
  std::vector<float> logits(static_cast<size_t>(V));
  BatchItem item{seq.get(), prompt, false};
  m.forward({&item, 1}, logits.data());
  int flips = 0;
  double err = 0;
  for (size_t i = 0; i < greedy.size(); ++i) {
    const float* r = &ref_logits[i * size_t(V)];
    const double e = test::max_rel_diff(logits.data(), r, size_t(V));
    std::printf("full width: step %zu: max|Δ|/max|ref| %.3e\n", i, e);
    err = std::max(err, e);
    const int32_t mine = test::argmax(logits.data(), V);
    if (mine != greedy[i]) {
      const double gap = test::gap_to(r, V, mine), allowed = test::kGpuTol * test::max_abs(r, size_t(V));
      std::printf("full width: step %zu: ours %d, transformers %d; reference gap %.4f (allowed %.4f)\n", i, mine,
                  greedy[i], gap, allowed);
      EXPECT_LE(gap, allowed) << "step " << i;
      ++flips;
    }
    BatchItem step{seq.get(), std::span(&greedy[i], 1), false};
    if (i + 1 < greedy.size()) m.forward({&step, 1}, logits.data());
  }
  std::printf("full width: %zu greedy steps, %d near-tie flips, max|Δ|/max|ref| vs transformers bf16 %.2e\n",
              greedy.size(), flips, err);
  // transformers in bf16 rounds the residual stream and every activation to bf16; we keep the
  // residual and the decode path in float32. 6.2e-2 was seen on an H100 (2026-11-22 and
  // 2026-12-06). The bound is for a reference made on an H100: on an H200, transformers' own bf16
  // logits come out different (two exact top-2 ties in 16 steps) and the same build measured 0.119.
  EXPECT_LE(err, 0.1);
}

}  // namespace
}  // namespace a3b
