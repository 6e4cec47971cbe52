// Every instruction-set path of the CPU matmul against a double-precision reference.
#include <cmath>
#include <random>

#include "core/dtype.h"
#include "cpu/matmul.h"
#include "core/error.h"
#include "test_util.h"

namespace a3b {
namespace {

struct Case {
  DType dtype;
  int64_t rows, cols, n;
};

std::string encode(DType t, const std::vector<float>& v) {
  std::string bytes(v.size() * dtype_size(t), '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    if (t == DType::F32) std::memcpy(&bytes[i * 4], &v[i], 4);
    uint16_t h = t == DType::BF16 ? f32_to_bf16(v[i]) : f32_to_f16(v[i]);
    if (t != DType::F32) std::memcpy(&bytes[i * 2], &h, 2);
  }
  return bytes;
}

TEST(Matmul, EveryIsaMatchesReference) {
  const char* saved = cpu_isa();
  std::mt19937 rng(7);
  std::normal_distribution<float> nd;
  ThreadPool pool(2);
  const Case cases[] = {{DType::BF16, 37, 67, 1}, {DType::BF16, 64, 128, 9}, {DType::F16, 19, 33, 5},
                        {DType::F32, 8, 16, 4},   {DType::F32, 130, 300, 7}, {DType::BF16, 1, 5, 3},
                        {DType::F16, 300, 512, 2}};
  int isas_run = 0;
  for (const char* isa : {"generic", "avx2", "avx512"}) {
    try {
      set_cpu_isa(isa);
    } catch (const Error&) {
      continue;  // this CPU lacks it
    }
    ++isas_run;
    for (const Case& c : cases) {
      std::vector<float> w(size_t(c.rows * c.cols)), x(size_t(c.n * c.cols));
      for (float& v : w) v = nd(rng);
      for (float& v : x) v = nd(rng);
      std::string bytes = encode(c.dtype, w);
      std::vector<float> wq(w.size());
      to_f32(c.dtype, bytes.data(), wq.data(), wq.size());  // the values the kernel really sees
      Matrix m{c.dtype, c.rows, c.cols, bytes.data()};
      std::vector<float> y(size_t(c.n * c.rows), NAN);
      matmul(m, x.data(), c.n, y.data(), pool);
      for (int64_t t = 0; t < c.n; ++t)
        for (int64_t r = 0; r < c.rows; ++r) {
          double ref = 0, mag = 0;
          for (int64_t k = 0; k < c.cols; ++k) {
            ref += double(wq[size_t(r * c.cols + k)]) * x[size_t(t * c.cols + k)];
            mag += std::fabs(double(wq[size_t(r * c.cols + k)]) * x[size_t(t * c.cols + k)]);
          }
          ASSERT_NEAR(y[size_t(t * c.rows + r)], ref, 1e-5 * mag + 1e-6)
              << isa << " " << dtype_name(c.dtype) << " " << c.rows << "x" << c.cols << " n=" << c.n;
        }
    }
  }
  set_cpu_isa(saved);
  EXPECT_GE(isas_run, 1);
}

TEST(Matmul, UnknownIsaIsAnError) { EXPECT_THROW(set_cpu_isa("sse9"), Error); }

TEST(DType, HalfConversionsRoundTrip) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    float f = f16_to_f32(uint16_t(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_f16(f), uint16_t(h)) << std::hex << h;
  }
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);  // rounds up to infinity
  EXPECT_EQ(f32_to_f16(1.0f + 1.0f / 4096), 0x3c00);  // tie goes to even
}

TEST(DType, Bfloat16RoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  uint32_t tie = 0x3f808000, above = 0x3f808001;  // 1 + 2^-8 exactly halfway; and just above
  float ft, fa;
  std::memcpy(&ft, &tie, 4);
  std::memcpy(&fa, &above, 4);
  EXPECT_EQ(f32_to_bf16(ft), 0x3f80);
  EXPECT_EQ(f32_to_bf16(fa), 0x3f81);
  EXPECT_EQ(bf16_to_f32(0x4049), 3.140625f);
}

}  // namespace
}  // namespace a3b
