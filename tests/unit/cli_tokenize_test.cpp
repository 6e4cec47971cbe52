// `a3b tokenize` and `a3b generate -p` as users call them.
#include <filesystem>

#include "tokenizer_test_util.h"

namespace a3b {
namespace {

using Ids = std::vector<int32_t>;

std::string ids_line(const Ids& ids) {
  std::string s;
  for (int32_t id : ids) {
    if (!s.empty()) s += ' ';
    s += std::to_string(id);
  }
  return s + "\n";
}

// Runs a3b with stdin from a file holding `input`.
int run_a3b(const std::string& args, const std::string& input, std::string* out) {
  test::TempDir tmp;
  test::write_file(tmp / "in", input);
  return test::run_command(test::a3b_binary() + " " + args + " < " + (tmp / "in"), out);
}

TEST(CliTokenize, EncodeDecodeExactBytes) {
  const Tokenizer tok = Tokenizer::load(test::mini_dir());
  const std::string t = " tokenize --tokenizer " + test::mini_dir();
  std::string out;
  for (std::string text : {"Hello world", "Hello world\n", "<|im_start|>user\nhi<|im_end|>\n", "", "e\u0301\r\n"}) {
    ASSERT_EQ(run_a3b(t, text, &out), 0) << out;
    EXPECT_EQ(out, ids_line(tok.encode(text))) << text;
    ASSERT_EQ(run_a3b(t + " --no-special", text, &out), 0) << out;
    EXPECT_EQ(out, ids_line(tok.encode(text, false))) << text;
    ASSERT_EQ(run_a3b(t + " --decode", ids_line(tok.encode(text)), &out), 0) << out;
    EXPECT_EQ(out, tok.decode(tok.encode(text))) << text;
  }
  // The tokenizer.json path works as well as the folder; --skip-special drops special tokens.
  ASSERT_EQ(run_a3b(" tokenize --decode --skip-special --tokenizer " + test::mini_dir() + "/tokenizer.json",
                    ids_line(tok.encode("<|im_start|>hi<think>")), &out), 0);
  EXPECT_EQ(out, "hi<think>");
}

TEST(CliTokenize, JsonLines) {
  const Tokenizer tok = Tokenizer::load(test::mini_dir());
  const std::string t = " tokenize --jsonl --tokenizer " + test::mini_dir();
  std::string out;
  ASSERT_EQ(run_a3b(t, "\"a\\nb\"\n\"\"\n\"<think>x\"\n", &out), 0) << out;
  EXPECT_EQ(out, ids_line(tok.encode("a\nb")) + ids_line({}) + ids_line(tok.encode("<think>x")));
  ASSERT_EQ(run_a3b(t + " --decode", ids_line(tok.encode("a\nb")) + "\n", &out), 0) << out;
  EXPECT_EQ(out, "\"a\\nb\"\n\"\"\n");
}

TEST(CliTokenize, ErrorsAreMessages) {
  std::string out;
  EXPECT_EQ(run_a3b(" tokenize --tokenizer /nonexistent", "x", &out), 1);
  EXPECT_NE(out.find("/nonexistent: no such file or folder"), std::string::npos) << out;
  EXPECT_EQ(run_a3b(" tokenize --decode --tokenizer " + test::mini_dir(), "1 2 x3", &out), 1);
  EXPECT_NE(out.find("'x3' is not a token id"), std::string::npos) << out;
  EXPECT_EQ(run_a3b(" tokenize --jsonl --tokenizer " + test::mini_dir(), "\"ok\"\n[1]\n", &out), 1);
  EXPECT_NE(out.find("stdin line 2: expected a JSON string"), std::string::npos) << out;
}

// A model folder = the tiny checkpoint + a tokenizer whose ids fit its 1024-entry vocabulary.
class GenerateWithTokenizer : public ::testing::Test {
 protected:
  void SetUp() override {
    namespace fs = std::filesystem;
    for (auto& e : fs::directory_iterator(test::fixture("tiny-fused"))) fs::create_symlink(e.path(), fs::path(dir.path()) / e.path().filename());
    nlohmann::json added = nlohmann::json::array({test::added_token(1022, "<|endoftext|>", true), test::added_token(1023, "<|im_end|>", true)});
    nlohmann::json j = test::tiny_tokenizer_json({{"h", "e"}, {"l", "l"}, {"he", "ll"}, {" ", "w"}}, added);
    test::write_file(dir / "tokenizer.json", j.dump());
  }
  test::TempDir dir;
};

TEST_F(GenerateWithTokenizer, TextPromptMatchesIdPrompt) {
  const Tokenizer tok = Tokenizer::load(dir.path());
  const Ids prompt = tok.encode("hello world");
  std::string ids_arg;
  for (int32_t id : prompt) {
    if (!ids_arg.empty()) ids_arg += ',';
    ids_arg += std::to_string(id);
  }
  std::string by_text, by_ids, text;
  const std::string gen = test::a3b_binary() + " generate -m " + dir.path() + " -n 6 --ignore-eos";
  ASSERT_EQ(test::run_command(gen + " -p 'hello world' --ids", &by_text), 0) << by_text;
  ASSERT_EQ(test::run_command(gen + " --prompt-ids " + ids_arg + " --ids", &by_ids), 0) << by_ids;
  EXPECT_EQ(by_text, by_ids);
  // Without --ids the generated ids come out as text (stderr has the timing line).
  ASSERT_EQ(test::run_command("(" + gen + " -p 'hello world' 2>/dev/null)", &text), 0) << text;
  Ids generated;
  std::istringstream in(by_ids);
  for (int32_t id; in >> id;) generated.push_back(id);
  EXPECT_EQ(text, tok.decode(generated, true) + "\n");
}

TEST(CliGenerateText, NoTokenizerIsAnError) {
  std::string out;
  EXPECT_NE(test::run_command(test::a3b_binary() + " generate -m " + test::fixture("tiny-fused") + " -p hi", &out), 0);
  EXPECT_NE(out.find("no tokenizer in the model folder"), std::string::npos) << out;
  EXPECT_NE(test::run_command(test::a3b_binary() + " generate -m " + test::fixture("tiny-fused") + " -p hi --prompt-ids 1", &out), 0);
  EXPECT_NE(out.find("excludes"), std::string::npos) << out;
  EXPECT_NE(test::run_command(test::a3b_binary() + " generate -m " + test::fixture("tiny-fused"), &out), 0);
  EXPECT_NE(out.find("give a prompt"), std::string::npos) << out;
}

}  // namespace
}  // namespace a3b
