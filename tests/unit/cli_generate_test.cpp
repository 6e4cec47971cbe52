// The a3b binary as users and checking tools call it.
#include "core/npy.h"
#include "test_util.h"

namespace a3b {
namespace {

std::string ids_arg(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
  return s;
}

TEST(CliGenerate, GreedyIdsAndLogitDump) {
  const std::string dir = test::fixture("tiny-sharded");
  auto g = test::load_golden(dir);
  test::TempDir tmp;
  std::string out;
  int rc = test::run_command(test::a3b_binary() + " generate -m " + dir + " --prompt-ids " + ids_arg(g.prompt) +
                                 " -n " + std::to_string(g.greedy.size()) + " --temp 0 --ids --ignore-eos --dump-logits " +
                                 (tmp / "l.npy"),
                             &out);
  ASSERT_EQ(rc, 0) << out;
  std::string want;
  for (int32_t id : g.greedy) want += (want.empty() ? "" : " ") + std::to_string(id);
  EXPECT_EQ(out, want + "\n");
  NpyArray a = read_npy(tmp / "l.npy");
  ASSERT_EQ(a.shape, (std::vector<int64_t>{int64_t(g.prompt.size() + g.greedy.size() - 1), g.vocab}));
  EXPECT_LE(test::max_rel_diff(a.data.data(), g.prefill.data(), g.prefill.size()), 1e-3);
  EXPECT_LE(test::max_rel_diff(&a.data[g.prefill.size()], g.decode.data(), g.decode.size()), 1e-3);
}

TEST(CliGenerate, BadArgumentsFailWithMessage) {
  std::string out;
  EXPECT_NE(test::run_command(test::a3b_binary() + " generate -m /nonexistent --prompt-ids 1,2", &out), 0);
  EXPECT_NE(out.find("/nonexistent: no such file or folder"), std::string::npos) << out;
  EXPECT_NE(test::run_command(test::a3b_binary() + " generate -m " + test::fixture("tiny-fused") + " --prompt-ids 1,x", &out), 0);
  EXPECT_NE(out.find("'x' is not a token id"), std::string::npos) << out;
  EXPECT_NE(test::run_command(test::a3b_binary() + " generate -m " + test::fixture("tiny-fused") + " --prompt-ids 5000", &out), 0);
  EXPECT_NE(out.find("outside the vocabulary"), std::string::npos) << out;
  EXPECT_NE(test::run_command(test::a3b_binary() + " frobnicate", &out), 0);
}

}  // namespace
}  // namespace a3b
