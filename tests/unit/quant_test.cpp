// GGUF quant types: dequantization bit-exact against gguf-py (tests/fixtures/quants, made by
// tools/reference/make_quant_goldens.py), quantizer round trips, and the matmul on quantized rows.
#include <cmath>
#include <cstring>
#include <random>

#include "core/dtype.h"
#include "core/error.h"
#include "core/quant.h"
#include "cpu/matmul.h"
#include "test_util.h"

namespace a3b {
namespace {

std::vector<float> read_f32(const std::string& path) {
  std::string bytes = test::read_file(path);
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

class QuantGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(QuantGolden, DequantizeIsBitExactWithGgufPy) {
  const std::string name = GetParam();
  DType t;
  ASSERT_TRUE(dtype_from_name(name, &t)) << name;
  const std::string blocks = test::read_file(test::fixture("quants/" + name + ".blocks"));
  const std::vector<float> want = read_f32(test::fixture("quants/" + name + ".f32"));
  ASSERT_FALSE(want.empty()) << "missing fixture for " << name;
  ASSERT_EQ(blocks.size(), dtype_row_bytes(t, int64_t(want.size())));
  std::vector<float> got(want.size(), NAN);
  to_f32(t, blocks.data(), got.data(), got.size());
  int mismatches = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    uint32_t a, b;
    std::memcpy(&a, &got[i], 4);
    std::memcpy(&b, &want[i], 4);
    if (a != b && mismatches++ < 5) ADD_FAILURE() << name << " element " << i << ": " << got[i] << " vs gguf-py " << want[i];
  }
  EXPECT_EQ(mismatches, 0);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantGolden,
                         ::testing::Values("BF16", "Q8_0", "Q4_0", "MXFP4", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS",
                                           "IQ3_XXS", "IQ3_S", "IQ2_XXS"),
                         [](const ::testing::TestParamInfo<const char*>& info) { return std::string(info.param); });

// Q8_0 and Q4_0 quantizers follow ggml's reference: the same bytes as gguf-py's quantize().
TEST(Quant, Q8_0AndQ4_0QuantizersMatchGgufPy) {
  for (const char* name : {"Q8_0", "Q4_0", "BF16"}) {
    DType t;
    ASSERT_TRUE(dtype_from_name(name, &t));
    const std::vector<float> input = read_f32(test::fixture(std::string("quants/") + name + ".input.f32"));
    const std::string want = test::read_file(test::fixture(std::string("quants/") + name + ".blocks"));
    std::string got(dtype_row_bytes(t, int64_t(input.size())), '\0');
    quantize(t, input.data(), got.data(), int64_t(input.size()));
    EXPECT_EQ(got, want) << name;
  }
}


// Round trip error of the quantizers on Gaussian data, against what each bit width should give.
TEST(Quant, QuantizersRoundTripWithinExpectedError) {
  std::mt19937 rng(3);
  std::normal_distribution<float> nd;
  std::vector<float> x(256 * 64);
  for (float& v : x) v = nd(rng);
  x[5] = 9.0f;  // an outlier
  struct Want { DType t; double max_rel_rms; };
  for (Want w : {Want{DType::Q8_0, 0.006}, Want{DType::Q4_0, 0.12}, Want{DType::Q4_K, 0.08}, Want{DType::Q5_K, 0.04}, Want{DType::Q6_K, 0.02},
                 Want{DType::BF16, 0.004}, Want{DType::F16, 0.001}}) {
    std::string bytes(dtype_row_bytes(w.t, int64_t(x.size())), '\0');
    quantize(w.t, x.data(), bytes.data(), int64_t(x.size()));
    std::vector<float> y(x.size());
    to_f32(w.t, bytes.data(), y.data(), y.size());
    const double e = test::relative_rms(y, x);
    EXPECT_LT(e, w.max_rel_rms) << dtype_name(w.t);
    EXPECT_GT(e, 0.0) << dtype_name(w.t);
  }
}

TEST(Quant, ZeroBlocksStayZero) {
  std::vector<float> x(256, 0.0f), y(256, 1.0f);
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    std::string bytes(dtype_row_bytes(t, 256), '\x55');
    quantize(t, x.data(), bytes.data(), 256);
    to_f32(t, bytes.data(), y.data(), y.size());
    for (float v : y) ASSERT_EQ(v, 0.0f) << dtype_name(t);
  }
}

TEST(Quant, PartialBlocksAndUnsupportedTypesAreErrors) {
  std::vector<float> x(40);
  std::string bytes(1024, '\0');
  EXPECT_THROW(quantize(DType::Q8_0, x.data(), bytes.data(), 40), Error);
  EXPECT_THROW(quantize(DType::IQ3_S, x.data(), bytes.data(), 256), Error);
  EXPECT_THROW(dequantize(DType::Q4_K, bytes.data(), x.data(), 40), Error);
}

// The matmul on every quantized type and instruction set equals a double reference over the
// dequantized weights.
TEST(Quant, MatmulOnQuantizedWeightsEveryIsa) {
  const char* saved = cpu_isa();
  set_int8_dot(false);  // the dequantizing path; the integer path has its own test below
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> byte(0, 255);
  std::normal_distribution<float> nd;
  ThreadPool pool(2);
  for (const char* isa : {"generic", "avx2", "avx512"}) {
    try {
      set_cpu_isa(isa);
    } catch (const Error&) {
      continue;
    }
    for (DType t : kAllDTypes) {
      if (!dtype_is_quantized(t)) continue;
      const int64_t rows = 13, cols = 512;
      for (int64_t n : {1, 3, 6}) {
        std::vector<float> w(size_t(rows * cols)), x(size_t(n * cols));
        for (float& v : w) v = nd(rng);
        for (float& v : x) v = nd(rng);
        std::string bytes(dtype_row_bytes(t, rows * cols), '\0');
        if (can_quantize(t)) {
          quantize(t, w.data(), bytes.data(), rows * cols);
        } else {  // random blocks with small finite fp16 scales at offset 0 (or E8M0 for MXFP4)
          for (char& c : bytes) c = char(byte(rng));
          const size_t bb = dtype_size(t);
          const size_t scale_at = t == DType::Q6_K ? 208 : 0;
          for (size_t off = 0; off < bytes.size(); off += bb) {
            if (t == DType::MXFP4) { bytes[off] = char(120 + byte(rng) % 8); continue; }
            uint16_t h = f32_to_f16(0.01f * nd(rng));
            std::memcpy(&bytes[off + scale_at], &h, 2);
            if (t == DType::Q5_K) { h = f32_to_f16(0.01f * nd(rng)); std::memcpy(&bytes[off + 2], &h, 2); }
          }
        }
        std::vector<float> wq(w.size());
        to_f32(t, bytes.data(), wq.data(), wq.size());
        Matrix m{t, rows, cols, bytes.data()};
        // One-hot activations read single weights: the vector dequantization must give exactly
        // the floats to_f32 gives.
        for (int64_t k : {int64_t(0), int64_t(37), int64_t(300), cols - 1}) {
          std::vector<float> e(static_cast<size_t>(cols), 0.0f), col(static_cast<size_t>(rows));
          e[size_t(k)] = 1.0f;
          matmul(m, e.data(), 1, col.data(), pool);
          for (int64_t r = 0; r < rows; ++r)
            ASSERT_EQ(col[size_t(r)], wq[size_t(r * cols + k)]) << isa << " " << dtype_name(t) << " row " << r << " col " << k;
        }
        std::vector<float> y(size_t(n * rows), NAN);
        matmul(m, x.data(), n, y.data(), pool);
        for (int64_t i = 0; i < n; ++i)
          for (int64_t r = 0; r < rows; ++r) {
            double ref = 0, mag = 0;
            for (int64_t k = 0; k < cols; ++k) {
              ref += double(wq[size_t(r * cols + k)]) * x[size_t(i * cols + k)];
              mag += std::fabs(double(wq[size_t(r * cols + k)]) * x[size_t(i * cols + k)]);
            }
            ASSERT_NEAR(y[size_t(i * rows + r)], ref, 1e-5 * mag + 1e-30) << isa << " " << dtype_name(t) << " n=" << n;
          }
      }
    }
  }
  set_cpu_isa(saved);
  set_int8_dot(true);
}

// The integer-dot path (int8 activations) against a double reference over the dequantized
// weights, within the bound the activation rounding allows: Σ_k |w_k| · (group amax / 127) / 2.
TEST(Quant, Int8DotMatchesReferenceWithinActivationRounding) {
  const char* saved = cpu_isa();
  std::mt19937 rng(5);
  std::normal_distribution<float> nd;
  ThreadPool pool(2);
  set_int8_dot(true);
  int checked = 0;
  for (const char* isa : {"avx2", "avx512"}) {
    try {
      set_cpu_isa(isa);
    } catch (const Error&) {
      continue;
    }
    for (DType t : {DType::Q8_0, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
      const int64_t rows = 21, cols = 768;
      for (int64_t n : {int64_t(1), int64_t(2), kInt8DotMaxTokens}) {
        std::vector<float> w(size_t(rows * cols)), x(size_t(n * cols));
        for (float& v : w) v = nd(rng);
        for (float& v : x) v = nd(rng);
        x[3] = 0;
        for (int i = 0; i < 32; ++i) x[size_t(64 + i)] = 0;  // an all-zero activation group
        std::string bytes(dtype_row_bytes(t, rows * cols), '\0');
        quantize(t, w.data(), bytes.data(), rows * cols);
        std::vector<float> wq(w.size());
        to_f32(t, bytes.data(), wq.data(), wq.size());
        Matrix m{t, rows, cols, bytes.data()};
        std::vector<float> y(size_t(n * rows), NAN);
        matmul(m, x.data(), n, y.data(), pool);
        for (int64_t i = 0; i < n; ++i)
          for (int64_t r = 0; r < rows; ++r) {
            double ref = 0, bound = 0, mag = 0;
            for (int64_t k = 0; k < cols; ++k) {
              const float* g = &x[size_t(i * cols + k / 32 * 32)];
              float amax = 0;
              for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(g[j]));
              const double wk = wq[size_t(r * cols + k)];
              ref += wk * x[size_t(i * cols + k)];
              mag += std::fabs(wk * x[size_t(i * cols + k)]);
              bound += std::fabs(wk) * amax / 127 / 2;
            }
            ASSERT_NEAR(y[size_t(i * rows + r)], ref, 1.01 * bound + 1e-5 * mag) << isa << " " << dtype_name(t) << " n=" << n;
            ++checked;
          }
      }
    }
  }
  set_cpu_isa(saved);
  if (checked == 0) GTEST_SKIP() << "no AVX2 on this CPU";
}

}  // namespace
}  // namespace a3b
