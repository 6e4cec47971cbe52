// Added tokens: leftmost-longest matching, special vs not, parse_special=false, lstrip/rstrip/single_word,
// normalized tokens, HF's id assignment, tokenizer_config.json entries.
#include "tokenizer_test_util.h"

namespace a3b {
namespace {

using nlohmann::json;
using Ids = std::vector<int32_t>;

Ids cat_ids(std::initializer_list<Ids> parts) {
  Ids out;
  for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

class AddedTokens : public ::testing::Test {
 protected:
  // 256 bytes + 3 merges = ids 0..258; added tokens from 259.
  json base(json added) { return test::tiny_tokenizer_json({{"a", "b"}, {"ab", "c"}, {" ", "x"}}, std::move(added)); }
  test::TempDir dir;
};

TEST_F(AddedTokens, LongestMatchWinsAtTheLeftmostPosition) {
  Tokenizer t = test::load_json(dir, base(json::array({test::added_token(259, "<a>", true),
                                                        test::added_token(260, "<a><b>", true),
                                                        test::added_token(261, "a><", false)})));
  const Ids plain_x = t.encode("x", false);
  EXPECT_EQ(t.encode("<a><b>"), (Ids{260}));
  EXPECT_EQ(t.encode("<a><b>x<a>"), cat_ids({{260}, plain_x, {259}}));
  // "<a>" starts further left than "a><", so it wins although both overlap.
  EXPECT_EQ(t.encode("<a><"), cat_ids({{259}, t.encode("<", false)}));
  EXPECT_EQ(t.encode("x<a><"), cat_ids({plain_x, {259}, t.encode("<", false)}));
  EXPECT_EQ(t.encode("a><"), (Ids{261}));
  // A prefix of a token is plain text.
  EXPECT_EQ(t.encode("<a"), t.encode("<a", false));
  EXPECT_EQ(t.encode("<a"), (Ids{t.token_id("<").value(), t.token_id("a").value()}));
}

TEST_F(AddedTokens, SpecialFlagAndParseSpecial) {
  Tokenizer t = test::load_json(dir, base(json::array({test::added_token(259, "<|s|>", true),
                                                        test::added_token(260, "<think>", false)})));
  EXPECT_TRUE(t.is_special(259));
  EXPECT_FALSE(t.is_special(260));
  EXPECT_TRUE(t.is_added(260));
  EXPECT_FALSE(t.is_added(100));
  const std::string text = "<|s|>abc<think>x";
  EXPECT_EQ(t.encode(text), (Ids{259, 257, 260, t.token_id("x").value()}));
  // parse_special=false: the special token is text; the non-special one is still matched (HF split_special_tokens).
  Ids as_text = t.encode(text, false);
  EXPECT_EQ(as_text.back(), t.token_id("x").value());
  EXPECT_EQ(std::count(as_text.begin(), as_text.end(), 259), 0);
  EXPECT_EQ(std::count(as_text.begin(), as_text.end(), 260), 1);
  EXPECT_EQ(t.decode(as_text), text);
  // decode(skip_special) drops only special tokens.
  EXPECT_EQ(t.decode(t.encode(text), true), "abc<think>x");
  EXPECT_EQ(t.decode(t.encode(text), false), text);
  EXPECT_EQ(t.token_id("<|s|>"), 259);
  EXPECT_EQ(t.token_text(259), "<|s|>");
}

TEST_F(AddedTokens, LstripAndRstripSwallowWhitespace) {
  Tokenizer t = test::load_json(dir, base(json::array({test::added_token(259, "<L>", true, true, false),
                                                        test::added_token(260, "<R>", true, false, true),
                                                        test::added_token(261, "<B>", true, true, true),
                                                        test::added_token(262, "<N>", true)})));
  auto enc = [&](const std::string& s) { return t.encode(s); };
  EXPECT_EQ(enc("x \t <L> y"), cat_ids({enc("x"), {259}, enc(" y")}));
  EXPECT_EQ(enc("x <R> \n y"), cat_ids({enc("x "), {260}, enc("y")}));
  EXPECT_EQ(enc("x\u3000 <B>\u00a0 y"), cat_ids({enc("x"), {261}, enc("y")}));
  EXPECT_EQ(enc("x <N> y"), cat_ids({enc("x "), {262}, enc(" y")}));
  // lstrip never reaches back into an earlier token's match.
  EXPECT_EQ(enc("<R>  <L>"), (Ids{260, 259}));
  EXPECT_EQ(enc("<N>  <L>"), (Ids{262, 259}));
  EXPECT_EQ(enc("   <L>"), (Ids{259}));
}

TEST_F(AddedTokens, SingleWordOnlyOutsideWords) {
  Tokenizer t = test::load_json(dir, base(json::array({test::added_token(259, "<w>", false, false, false, false, true)})));
  EXPECT_EQ(t.encode("a <w> b"), cat_ids({t.encode("a "), {259}, t.encode(" b")}));
  EXPECT_EQ(t.encode("<w>"), (Ids{259}));
  Ids inside = t.encode("a<w>");
  EXPECT_EQ(std::count(inside.begin(), inside.end(), 259), 0);
  Ids glued = t.encode("<w>b");
  EXPECT_EQ(std::count(glued.begin(), glued.end(), 259), 0);
  Ids mark = t.encode("\u0301<w>");
  EXPECT_EQ(std::count(mark.begin(), mark.end(), 259), 0);
}

TEST_F(AddedTokens, NormalizedTokensMatchAfterNfc) {
  Tokenizer t = test::load_json(dir, base(json::array({test::added_token(259, "caf\u00e9", false, false, false, true),
                                                        test::added_token(260, "<raw\u00e9>", false)})));
  EXPECT_EQ(t.encode("caf\u00e9"), (Ids{259}));
  EXPECT_EQ(t.encode("cafe\u0301"), (Ids{259}));  // NFD text, normalized before matching
  EXPECT_EQ(t.encode("<raw\u00e9>"), (Ids{260}));
  Ids nfd = t.encode("<rawe\u0301>");  // raw tokens match raw text only
  EXPECT_EQ(std::count(nfd.begin(), nfd.end(), 260), 0);
}

TEST_F(AddedTokens, IdsAssignedLikeHuggingFace) {
  // HF ignores the ids written in tokenizer.json: a token already in the vocabulary gets its vocabulary id,
  // others the next free id after the vocabulary (259 here), in order.
  Tokenizer t = test::load_json(dir, base(json::array({test::added_token(500, "<x>", true),
                                                        test::added_token(7, "ab", false),
                                                        test::added_token(900, "<y>", true)})));
  EXPECT_EQ(t.token_id("<x>"), 259);
  EXPECT_EQ(t.token_id("ab"), 256);
  EXPECT_EQ(t.token_id("<y>"), 260);
  EXPECT_EQ(t.vocab_size(), 261);
}

TEST_F(AddedTokens, TokenizerConfigAddsMissingTokensAndSpecialIds) {
  json j = base(json::array({test::added_token(259, "<|end|>", true), test::added_token(260, "<think>", false)}));
  json cfg = {{"added_tokens_decoder",
               {{"259", {{"content", "<|end|>"}, {"special", true}}},
                {"260", {{"content", "<think>"}, {"special", false}}},
                {"300", {{"content", "<|audio|>"}, {"special", true}, {"lstrip", false}}},
                {"301", {{"content", "<tts>"}, {"special", false}}}}},
              {"eos_token", "<|end|>"},
              {"pad_token", {{"content", "<|audio|>"}, {"__type", "AddedToken"}}},
              {"bos_token", nullptr},
              {"chat_template", "{{ messages }}"}};
  test::write_file(dir / "tokenizer_config.json", cfg.dump());
  Tokenizer t = test::load_json(dir, j);
  EXPECT_EQ(t.token_id("<|audio|>"), 300);
  EXPECT_EQ(t.token_id("<tts>"), 301);
  EXPECT_TRUE(t.is_special(300));
  EXPECT_FALSE(t.is_special(301));
  EXPECT_EQ(t.vocab_size(), 302);
  EXPECT_EQ(t.encode("a<|audio|>b<tts>"), (Ids{t.token_id("a").value(), 300, t.token_id("b").value(), 301}));
  EXPECT_EQ(t.decode(Ids{300, 301}), "<|audio|><tts>");
  EXPECT_EQ(t.eos_id(), 259);
  EXPECT_EQ(t.pad_id(), 300);
  EXPECT_EQ(t.bos_id(), std::nullopt);
  EXPECT_EQ(t.chat_template(), "{{ messages }}");
  EXPECT_EQ(t.decode(Ids{259, 300, 301}, true), "<tts>");
  // chat_template.jinja wins over the config's template.
  test::write_file(dir / "chat_template.jinja", "{% for m in messages %}{{ m }}{% endfor %}");
  EXPECT_EQ(Tokenizer::load(dir.path()).chat_template(), "{% for m in messages %}{{ m }}{% endfor %}");
}

TEST_F(AddedTokens, ConfigNamingAnUnknownEosFails) {
  test::write_file(dir / "tokenizer_config.json", json{{"eos_token", "<nope>"}}.dump());
  try {
    test::load_json(dir, base(json::array()));
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("eos token '<nope>' is not a token"), std::string::npos) << e.what();
  }
}

TEST(AddedTokensMini, RealQwenTokensInText) {
  Tokenizer t = Tokenizer::load(test::mini_dir());
  const int32_t im_start = t.token_id("<|im_start|>").value();
  const int32_t im_end = t.token_id("<|im_end|>").value();
  const int32_t think = t.token_id("<think>").value();
  EXPECT_EQ(t.eos_id(), im_end);
  Ids ids = t.encode("<|im_start|><|im_end|><think>");
  EXPECT_EQ(ids, (Ids{im_start, im_end, think}));
  EXPECT_EQ(t.decode(ids, true), "<think>");
}

}  // namespace
}  // namespace a3b
