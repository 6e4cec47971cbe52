// Loading: tokenizer.json (both merge spellings), vocab.json + merges.txt, GGUF metadata, and malformed files.
#include "tokenizer/load_hf.h"
#include "tokenizer_test_util.h"

namespace a3b {
namespace {

using nlohmann::json;
using Ids = std::vector<int32_t>;


TEST(TokenizerLoad, BothMergeSpellingsGiveTheSameTokenizer) {
  test::TempDir a, b;
  json pairs = json::parse(test::read_file(test::mini_dir() + "/tokenizer.json"));
  json strings = pairs;
  for (auto& m : strings["model"]["merges"]) m = m[0].get<std::string>() + " " + m[1].get<std::string>();
  ASSERT_TRUE(pairs["model"]["merges"][0].is_array());
  Tokenizer ta = test::load_json(a, pairs), tb = test::load_json(b, strings);
  for (auto& g : test::mini_golden()) EXPECT_EQ(tb.encode(g["text"].get<std::string>()), ta.encode(g["text"].get<std::string>()));
}

TEST(TokenizerLoad, VocabJsonAndMergesTxt) {
  json j = json::parse(test::read_file(test::mini_dir() + "/tokenizer.json"));
  test::TempDir dir;
  test::write_file(dir / "vocab.json", j["model"]["vocab"].dump());
  std::string merges = "#version: 0.2\r\n";
  for (auto& m : j["model"]["merges"]) merges += m[0].get<std::string>() + " " + m[1].get<std::string>() + "\r\n";
  test::write_file(dir / "merges.txt", merges);
  json decoder = json::object();
  for (auto& a : j["added_tokens"]) decoder[std::to_string(a["id"].get<int>())] = {{"content", a["content"]}, {"special", a["special"]}};
  test::write_file(dir / "tokenizer_config.json", json{{"added_tokens_decoder", decoder}, {"eos_token", "<|im_end|>"}}.dump());
  test::write_file(dir / "config.json", R"({"model_type": "qwen3_5_moe"})");
  Tokenizer t = Tokenizer::load(dir.path());
  EXPECT_EQ(t.pre_tokenizer_engine(), "qwen35");
  for (auto& g : test::mini_golden()) EXPECT_EQ(t.encode(g["text"].get<std::string>()), g["ids"].get<Ids>()) << g["text"];
  EXPECT_EQ(t.eos_id(), t.token_id("<|im_end|>"));

  // Without the model type, the tokenizer class decides the regex.
  test::write_file(dir / "config.json", "{}");
  test::write_file(dir / "tokenizer_config.json", json{{"tokenizer_class", "Qwen2Tokenizer"}}.dump());
  EXPECT_EQ(Tokenizer::load(dir.path()).pre_tokenizer_engine(), "qwen2");
  test::write_file(dir / "tokenizer_config.json", json{{"tokenizer_class", "GPT2Tokenizer"}}.dump());
  EXPECT_EQ(Tokenizer::load(dir.path()).pre_tokenizer_engine(), "pcre2");
}

TEST(TokenizerLoad, LookupsAndVocabSize) {
  Tokenizer t = Tokenizer::load(test::mini_dir() + "/tokenizer.json");
  EXPECT_EQ(t.vocab_size(), 256 + 4000 + 26);
  EXPECT_EQ(t.token_id("!"), 0);
  EXPECT_EQ(t.token_id(test::spell(" ")), 220);
  EXPECT_EQ(t.token_text(220), " ");
  EXPECT_EQ(t.token_text(198), "\n");
  EXPECT_EQ(t.token_id("no such token"), std::nullopt);
  EXPECT_EQ(t.token_text(t.token_id("<think>").value()), "<think>");
  EXPECT_THROW(t.token_text(-1), Error);
  EXPECT_THROW(t.token_text(int32_t(t.vocab_size())), Error);
  EXPECT_EQ(t.eos_id(), t.token_id("<|im_end|>"));  // from the fixture's tokenizer_config.json
}

TEST(TokenizerLoad, IdsThatNameNoTokenDecodeToNothing) {
  Tokenizer t = Tokenizer::load(test::mini_dir());
  const int32_t he = t.token_id("he").value();
  EXPECT_EQ(t.decode(Ids{-5, he, int32_t(t.vocab_size()), 248319, INT32_MAX, he}), "hehe");
  EXPECT_EQ(t.decode(Ids{}), "");
  EXPECT_FALSE(t.is_special(-1));
  EXPECT_FALSE(t.is_special(int32_t(t.vocab_size()) + 5));
}

TEST(TokenizerLoad, UnknownRegexRunsThroughPcre2) {
  test::TempDir dir;
  json j = test::tiny_tokenizer_json({{"h", "e"}, {"l", "l"}}, json::array(), R"(\p{L}+|\s+|[0-9]{1,3}|.)");
  Tokenizer t = test::load_json(dir, j);
  EXPECT_EQ(t.pre_tokenizer_engine(), "pcre2");
  EXPECT_EQ(t.decode(t.encode("hello 12345!")), "hello 12345!");
  // GPT-2's ByteLevel(use_regex=true) form.
  j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
  Tokenizer g = test::load_json(dir, j);
  EXPECT_EQ(g.pre_tokenizer_regex(), kGpt2Regex);
  EXPECT_EQ(g.decode(g.encode("it's  hello")), "it's  hello");
}

TEST(TokenizerLoad, GgufMetadataGivesTheSameTokenizer) {
  json j = json::parse(test::read_file(test::mini_dir() + "/tokenizer.json"));
  GgufTokenizerData g;
  g.source = "test.gguf";
  g.pre = "qwen35";
  const size_t n_vocab = j["model"]["vocab"].size();
  g.tokens.resize(n_vocab + j["added_tokens"].size() + 3);
  g.token_types.assign(g.tokens.size(), 1);
  for (auto& [tok, id] : j["model"]["vocab"].items()) g.tokens[id.get<size_t>()] = tok;
  for (auto& a : j["added_tokens"]) {
    const size_t id = a["id"].get<size_t>();
    g.tokens[id] = a["content"].get<std::string>();
    g.token_types[id] = a["special"].get<bool>() ? 3 : 4;
  }
  for (size_t id = g.tokens.size() - 3; id < g.tokens.size(); ++id) {
    g.tokens[id] = "[PAD" + std::to_string(id) + "]";
    g.token_types[id] = 5;
  }
  for (auto& m : j["model"]["merges"]) g.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
  g.eos_id = int32_t(n_vocab + 2);
  Tokenizer t = Tokenizer::from_spec(spec_from_gguf(g));
  for (auto& c : test::mini_golden()) EXPECT_EQ(t.encode(c["text"].get<std::string>()), c["ids"].get<Ids>()) << c["text"];
  EXPECT_EQ(t.eos_id(), int32_t(n_vocab + 2));
  EXPECT_EQ(t.vocab_size(), int64_t(g.tokens.size()));
  EXPECT_EQ(t.decode(Ids{int32_t(g.tokens.size()) - 1}), "");  // unused padding ids decode to nothing

  g.pre = "llama-bpe";
  EXPECT_THROW(spec_from_gguf(g), Error);
  g.pre = "qwen35";
  g.merges.push_back("nospace");
  EXPECT_THROW(spec_from_gguf(g), Error);
}

// Every malformed file is an Error whose message names the problem; none crashes.
TEST(TokenizerLoad, MalformedFilesFailWithMessages) {
  const json good = test::tiny_tokenizer_json({{"a", "b"}});
  struct Case {
    std::string name, text, message;
  };
  auto with = [&](auto&& edit) {
    json j = good;
    edit(j);
    return j.dump();
  };
  std::vector<Case> cases = {
      {"empty file", "", "expected an object"},
      {"not JSON", "hello", "invalid JSON at line 1 column 1"},
      {"truncated", good.dump().substr(0, 300), "invalid JSON"},
      {"trailing text", good.dump() + " x", "unexpected text after the end"},
      {"top level array", "[]", "expected an object"},
      {"no model", with([](json& j) { j.erase("model"); }), "no \"model\""},
      {"model not BPE", with([](json& j) { j["model"]["type"] = "WordPiece"; }), "model type must be BPE"},
      {"vocab not object", with([](json& j) { j["model"]["vocab"] = json::array(); }), "expected an object"},
      {"negative id", with([](json& j) { j["model"]["vocab"]["zzz"] = -3; }), "token id -3 out of range"},
      {"huge id", with([](json& j) { j["model"]["vocab"]["zzz"] = 1LL << 40; }), "out of range"},
      {"id is a string", with([](json& j) { j["model"]["vocab"]["zzz"] = "7"; }), "expected an integer"},
      {"fractional id", with([](json& j) { j["model"]["vocab"]["zzz"] = 7.5; }), "found a fraction"},
      {"duplicate id", with([](json& j) { j["model"]["vocab"]["zzz"] = 5; }), "token id 5 appears twice"},
      {"merge of unknown token", with([](json& j) { j["model"]["merges"].push_back(json::array({"q", "zz"})); }),
       "'zz' is not in the vocabulary"},
      {"merge result unknown", with([](json& j) { j["model"]["merges"].push_back(json::array({"q", "r"})); }),
       "'qr' is not in the vocabulary"},
      {"merge string without space", with([](json& j) { j["model"]["merges"].push_back("ab"); }), "is not \"left right\""},
      {"merge triple", with([](json& j) { j["model"]["merges"].push_back(json::array({"a", "b", "c"})); }), "is not a pair"},
      {"merge number", with([](json& j) { j["model"]["merges"].push_back(3); }), "expected an array"},
      {"normalizer", with([](json& j) { j["normalizer"] = {{"type", "Lowercase"}}; }), "normalizer \"Lowercase\" is not supported"},
      {"byte fallback", with([](json& j) { j["model"]["byte_fallback"] = true; }), "byte_fallback=true is not supported"},
      {"dropout", with([](json& j) { j["model"]["dropout"] = 0.1; }), "dropout is not supported"},
      {"suffix", with([](json& j) { j["model"]["end_of_word_suffix"] = "</w>"; }), "end_of_word_suffix is not supported"},
      {"no pre_tokenizer", with([](json& j) { j.erase("pre_tokenizer"); }), "no \"pre_tokenizer\""},
      {"metaspace", with([](json& j) { j["pre_tokenizer"] = {{"type", "Metaspace"}}; }), "pre_tokenizer \"Metaspace\" is not supported"},
      {"bad regex", with([](json& j) { j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(a"; }),
       "PCRE2 cannot compile it"},
      {"split behavior", with([](json& j) { j["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Removed"; }),
       "behavior Isolated"},
      {"decoder", with([](json& j) { j["decoder"] = {{"type", "WordPiece"}}; }), "decoder must be ByteLevel"},
      {"unk missing", with([](json& j) { j["model"]["unk_token"] = "<unk>"; }), "unknown token '<unk>' is not in the vocabulary"},
      {"added without content", with([](json& j) { j["added_tokens"] = json::array({{{"id", 3}}}); }),
       "added token without content"},
      {"added empty", with([](json& j) { j["added_tokens"] = json::array({{{"id", 3}, {"content", ""}}}); }), "empty content"},
      {"added flag not bool", with([](json& j) { j["added_tokens"] = json::array({{{"content", "x"}, {"special", 1}}}); }),
       "expected true or false"},
      {"invalid UTF-8", "{\"model\": \"\xff\"}", "not valid UTF-8"},
      {"control char in string", "{\"a\": \"x\ny\"}", "control character in string"},
      {"bad escape", R"({"a": "\q"})", "bad escape"},
      {"lone surrogate", R"({"a": "\ud800x"})", "unpaired surrogate"},
      {"deep nesting", "{\"x\": " + std::string(100000, '['), "unexpected end of text"},
  };
  test::TempDir dir;
  for (const Case& c : cases) {
    test::write_file(dir / "tokenizer.json", c.text);
    try {
      Tokenizer::load(dir.path());
      ADD_FAILURE() << c.name << ": loaded";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << c.name << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find("tokenizer.json"), std::string::npos) << c.name << ": " << e.what();
    }
  }
}

TEST(TokenizerLoad, MissingFilesFailWithMessages) {
  test::TempDir dir;
  EXPECT_FALSE(Tokenizer::exists_at(dir.path()));
  try {
    Tokenizer::load(dir.path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no tokenizer in this folder"), std::string::npos) << e.what();
  }
  try {
    Tokenizer::load(dir / "nope.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no such file or folder"), std::string::npos) << e.what();
  }
  test::write_file(dir / "vocab.json", "{\"a\": 0}");
  EXPECT_FALSE(Tokenizer::exists_at(dir.path()));  // merges.txt missing
  test::write_file(dir / "merges.txt", "#version: 0.2\na b c\n");
  try {
    Tokenizer::load(dir.path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("merges.txt:2: expected \"left right\""), std::string::npos) << e.what();
  }
  test::write_file(dir / "tokenizer_config.json", "{bad");
  test::write_file(dir / "merges.txt", "");
  EXPECT_THROW(Tokenizer::load(dir.path()), Error);
}

}  // namespace
}  // namespace a3b
