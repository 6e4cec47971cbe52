// Helpers for the tokenizer tests: small synthetic byte-level tokenizers written as real tokenizer.json files,
// and the committed mini tokenizer (tests/fixtures/tokenizer-mini, made by tests/tokenizer/make_mini_fixture.js).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "test_util.h"
#include "tokenizer/bpe.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace a3b::test {

// Bytes spelled in GPT-2's byte alphabet, as vocabulary files spell tokens.
inline std::string spell(std::string_view bytes) {
  std::string s;
  for (char c : bytes) utf8_append(s, byte_to_char(uint8_t(c)));
  return s;
}

// The byte alphabet at ids 0..255 (bytes_to_unicode order, as in Qwen's files), then one token per merge.
// merges are given as raw byte strings; added_tokens as HF JSON objects.
inline nlohmann::json tiny_tokenizer_json(const std::vector<std::pair<std::string, std::string>>& merges,
                                          nlohmann::json added_tokens = nlohmann::json::array(),
                                          std::string_view regex = kQwen35Regex) {
  using nlohmann::json;
  std::vector<int> order;
  for (int b = 0; b < 256; ++b)
    if (byte_to_char(uint8_t(b)) == uint32_t(b)) order.push_back(b);
  for (int b = 0; b < 256; ++b)
    if (byte_to_char(uint8_t(b)) != uint32_t(b)) order.push_back(b);
  json vocab = json::object();
  for (size_t i = 0; i < order.size(); ++i) vocab[spell(std::string(1, char(order[i])))] = i;
  json merge_list = json::array();
  for (auto& [a, b] : merges) {
    merge_list.push_back(json::array({spell(a), spell(b)}));
    if (!vocab.contains(spell(a + b))) vocab[spell(a + b)] = vocab.size();
  }
  json pre = {{"type", "Sequence"},
              {"pretokenizers",
               json::array({{{"type", "Split"}, {"pattern", {{"Regex", std::string(regex)}}}, {"behavior", "Isolated"},
                             {"invert", false}},
                            {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}})}};
  return {{"version", "1.0"},
          {"added_tokens", added_tokens},
          {"normalizer", {{"type", "NFC"}}},
          {"pre_tokenizer", pre},
          {"post_processor", nullptr},
          {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}},
          {"model",
           {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", ""},
            {"end_of_word_suffix", ""}, {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", false},
            {"vocab", vocab}, {"merges", merge_list}}}};
}

inline nlohmann::json added_token(int id, const std::string& content, bool special, bool lstrip = false,
                                  bool rstrip = false, bool normalized = false, bool single_word = false) {
  return {{"id", id},         {"content", content}, {"single_word", single_word}, {"lstrip", lstrip},
          {"rstrip", rstrip}, {"normalized", normalized}, {"special", special}};
}

// Writes j as tokenizer.json in dir and loads the folder.
inline Tokenizer load_json(const TempDir& dir, const nlohmann::json& j) {
  write_file(dir / "tokenizer.json", j.dump());
  return Tokenizer::load(dir.path());
}

inline std::string mini_dir() { return fixture("tokenizer-mini"); }

inline std::vector<nlohmann::json> mini_golden() {
  std::vector<nlohmann::json> out;
  std::string text = read_file(mini_dir() + "/golden.jsonl");
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    if (end > pos) out.push_back(nlohmann::json::parse(text.substr(pos, end - pos)));
    pos = end + 1;
  }
  return out;
}

}  // namespace a3b::test
