// Finding added tokens in text, with HF tokenizers' AddedVocabulary semantics: leftmost-longest, non-overlapping
// matches (computed as if every token took part), then per match: special tokens skipped when special parsing is
// off, single_word tokens skipped inside words, lstrip/rstrip extend the match over adjacent whitespace.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/spec.h"

namespace a3b {

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  // content_of(token) is the text to look for (the normalized content for normalized tokens).
  void add(const AddedToken& token, std::string content);
  bool empty() const { return entries_.empty(); }

  struct Part {
    std::string_view text;  // a stretch of plain text when id < 0
    int32_t id;
  };
  // Cuts text into plain-text parts and token matches, in order; parts cover the text (less stripped spaces).
  void split(std::string_view text, bool parse_special, std::vector<Part>& out) const;

 private:
  struct Entry {
    std::string content;
    AddedToken token;
  };
  // Index of the longest entry matching at text[pos], or -1.
  int longest_at(std::string_view text, size_t pos) const;

  std::vector<Entry> entries_;
  std::array<std::vector<uint32_t>, 256> by_first_byte_;  // entry indices, longest content first
};

}  // namespace a3b
