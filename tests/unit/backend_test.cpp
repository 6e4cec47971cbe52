// Choosing the engine: names, the default, and a clear error where CUDA cannot run.
#include <string>

#include "core/error.h"
#include "formats/model_file.h"
#include "model/backend.h"
#include "test_util.h"

namespace a3b {
namespace {

TEST(Backend, ParsesNames) {
  EXPECT_EQ(parse_backend("cpu"), Backend::Cpu);
  EXPECT_EQ(parse_backend("cuda"), Backend::Cuda);
  EXPECT_THROW(parse_backend("tpu"), Error);
  EXPECT_EQ(default_backend(), cuda_usable() ? Backend::Cuda : Backend::Cpu);
}

TEST(Backend, CudaWithoutGpuOrBuildIsAClearError) {
  if (cuda_usable()) GTEST_SKIP() << "a GPU is present";
  try {
    make_model(load_model_weights(test::fixture("tiny-fused")), Backend::Cuda);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(cuda_built() ? "no CUDA GPU" : "built without CUDA"), std::string::npos) << msg;
  }
}

TEST(Backend, CpuBackendRunsTheFixture) {
  auto m = make_model(load_model_weights(test::fixture("tiny-fused")), Backend::Cpu, 1);
  EXPECT_EQ(m->backend().rfind("cpu", 0), 0u);
}

}  // namespace
}  // namespace a3b
