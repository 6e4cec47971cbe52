// `a3b run` input errors (the interactive path itself is driven through tmux: tests/cli/run_chat_tty.sh).
#include "test_util.h"

namespace a3b {
namespace {

TEST(CliRun, BadToolsFilesFailWithMessage) {
  test::TempDir tmp;
  std::string out;
  const std::string run = test::a3b_binary() + " run --backend cpu --tools ";
  EXPECT_NE(test::run_command(run + "/nonexistent.json </dev/null", &out), 0);
  EXPECT_NE(out.find("cannot read tools file '/nonexistent.json'"), std::string::npos) << out;
  test::write_file(tmp / "bad.json", "not json");
  EXPECT_NE(test::run_command(run + (tmp / "bad.json") + " </dev/null", &out), 0);
  EXPECT_NE(out.find("not valid JSON"), std::string::npos) << out;
  test::write_file(tmp / "obj.json", R"({"type": "function"})");
  EXPECT_NE(test::run_command(run + (tmp / "obj.json") + " </dev/null", &out), 0);
  EXPECT_NE(out.find("expected a JSON array"), std::string::npos) << out;
  test::write_file(tmp / "noname.json", R"([{"type": "function", "function": {}}])");
  EXPECT_NE(test::run_command(run + (tmp / "noname.json") + " </dev/null", &out), 0);
  EXPECT_NE(out.find("every tool must be"), std::string::npos) << out;
  // A good file is offered: its tool names are listed.
  test::write_file(tmp / "ok.json", R"([{"type": "function", "function": {"name": "lookup", "parameters": {}}}])");
  EXPECT_EQ(test::run_command(run + (tmp / "ok.json") + " </dev/null", &out), 0) << out;
  EXPECT_NE(out.find("tools: lookup"), std::string::npos) << out;
}

}  // namespace
}  // namespace a3b
