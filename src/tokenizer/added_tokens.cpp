#include "tokenizer/added_tokens.h"

#include <algorithm>

#include <utf8proc.h>

#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace a3b {
namespace {

// HF decides single_word boundaries with the Rust regex \w: Alphabetic, marks, decimal digits, connector
// punctuation, joiners. Approximated by general category (letters, marks, Nd, Nl, Pc, ZWNJ/ZWJ, circled letters).
bool is_word_char(uint32_t cp) {
  if (cp == 0x200C || cp == 0x200D || (cp >= 0x24B6 && cp <= 0x24E9) || (cp >= 0x1F130 && cp <= 0x1F189)) return true;
  switch (utf8proc_get_property(utf8proc_int32_t(cp))->category) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return false;
  }
}

// Start of the character that ends at text[end) (text is well-formed UTF-8).
size_t char_before(std::string_view text, size_t end) {
  size_t i = end - 1;
  while (i > 0 && (uint8_t(text[i]) & 0xC0) == 0x80) --i;
  return i;
}

bool is_space(std::string_view text, size_t i, size_t* len) {
  Utf8Char c = utf8_next(text, i);
  *len = c.len;
  return char_class(c.cp) & kClassSpace;
}

}  // namespace

void AddedTokenMatcher::add(const AddedToken& token, std::string content) {
  if (content.empty()) return;  // HF never matches an empty token
  const uint32_t index = uint32_t(entries_.size());
  entries_.push_back({std::move(content), token});
  auto& bucket = by_first_byte_[uint8_t(entries_.back().content[0])];
  bucket.push_back(index);
  std::stable_sort(bucket.begin(), bucket.end(),
                   [&](uint32_t a, uint32_t b) { return entries_[a].content.size() > entries_[b].content.size(); });
}

int AddedTokenMatcher::longest_at(std::string_view text, size_t pos) const {
  for (uint32_t e : by_first_byte_[uint8_t(text[pos])])
    if (text.compare(pos, entries_[e].content.size(), entries_[e].content) == 0) return int(e);
  return -1;
}

void AddedTokenMatcher::split(std::string_view text, bool parse_special, std::vector<Part>& out) const {
  size_t covered = 0;  // text before this is emitted
  size_t pos = 0;
  while (pos < text.size()) {
    const int e = longest_at(text, pos);
    if (e < 0) {
      ++pos;
      continue;
    }
    const AddedToken& tok = entries_[size_t(e)].token;
    size_t start = pos, stop = pos + entries_[size_t(e)].content.size();
    pos = stop;  // matches never overlap, whether or not this one is used
    if (tok.special && !parse_special) continue;
    if (tok.single_word) {
      const bool word_before = start > 0 && is_word_char(utf8_next(text, char_before(text, start)).cp);
      const bool word_after = stop < text.size() && is_word_char(utf8_next(text, stop).cp);
      if (word_before || word_after) continue;
    }
    if (tok.lstrip) {
      size_t len = 0;
      while (start > covered && is_space(text, char_before(text, start), &len)) start = char_before(text, start);
    }
    if (tok.rstrip) {
      size_t len = 0;
      while (stop < text.size() && is_space(text, stop, &len)) stop += len;
    }
    if (covered < start) out.push_back({text.substr(covered, start - covered), -1});
    out.push_back({{}, tok.id});
    covered = std::max(covered, stop);
  }
  if (covered < text.size()) out.push_back({text.substr(covered), -1});
}

}  // namespace a3b
