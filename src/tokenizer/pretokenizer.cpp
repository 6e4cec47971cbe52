#include "tokenizer/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/error.h"
#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace a3b {
namespace {

struct Char {
  uint32_t cp;
  uint32_t offset;  // byte offset in the text
  uint8_t cls;      // CharClass bits
};

// The Qwen2 and Qwen3.5 patterns, alternative by alternative, with the regex engine's leftmost-first choice
// and backtracking worked out by hand (marks = the qwen35 variant):
//   1 (?i:'s|'t|'re|'ve|'m|'ll|'d)   2 [^\r\n\p{L}\p{N}]?W+   3 \p{N}   4 ' '?P+[\r\n]*
//   5 \s*[\r\n]+   6 \s+(?!\S)   7 \s+
// where W = \p{L} (qwen2) or [\p{L}\p{M}] (qwen35) and P = anything but \s, W and \p{N}.
class QwenSplitter {
 public:
  QwenSplitter(const std::vector<Char>& cs, bool marks)
      : cs_(cs), n_(cs.size() - 1), word_(uint8_t(kClassLetter | (marks ? kClassMark : 0))) {}

  // End (char index) of the piece that starts at char i.
  size_t match(size_t i) const {
    const uint32_t c = cs_[i].cp;
    const uint8_t cls = cs_[i].cls;
    if (c == '\'') {  // 1: contractions, case-insensitive (Unicode folding: U+017F long s matches s)
      const uint32_t a = folded(i + 1), b = folded(i + 2);
      if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
      if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
    }
    if (!(cls & (kClassNewline | kClassLetter | kClassNumber)) && is_word(i + 1)) return word_run(i + 1);  // 2
    if (cls & word_) return word_run(i);                                                                  // 2
    if (cls & kClassNumber) return i + 1;                                                                 // 3
    const size_t p = (c == ' ' && is_punct(i + 1)) ? i + 1 : i;                                           // 4
    if (is_punct(p)) {
      size_t j = p;
      while (is_punct(j)) ++j;
      while (j < n_ && (cs_[j].cls & kClassNewline)) ++j;
      return j;
    }
    if (cls & kClassSpace) {
      size_t j = i, last_newline = SIZE_MAX;
      for (; j < n_ && (cs_[j].cls & kClassSpace); ++j)
        if (cs_[j].cls & kClassNewline) last_newline = j;
      if (last_newline != SIZE_MAX) return last_newline + 1;  // 5: \s* backs off to the last newline
      if (j == n_ || j - 1 == i) return j;                    // 6 at the end, else 7 for a single space
      return j - 1;                                           // 6: leave the last space to the next piece
    }
    return i + 1;  // not reachable: the alternatives cover every character
  }

 private:
  uint32_t folded(size_t j) const {
    if (j >= n_) return 0;
    const uint32_t c = cs_[j].cp;
    if (c >= 'A' && c <= 'Z') return c + 32;
    return c == 0x17F ? 's' : c;
  }
  bool is_word(size_t j) const { return j < n_ && (cs_[j].cls & word_); }
  bool is_punct(size_t j) const { return j < n_ && !(cs_[j].cls & (kClassSpace | word_ | kClassNumber)); }
  size_t word_run(size_t j) const {
    while (is_word(j)) ++j;
    return j;
  }

  const std::vector<Char>& cs_;
  const size_t n_;
  const uint8_t word_;
};

void split_qwen(std::string_view text, bool marks, std::vector<Span>& out) {
  std::vector<Char> cs;
  cs.reserve(text.size() + 1);
  for (size_t i = 0; i < text.size();) {
    Utf8Char c = utf8_next(text, i);
    cs.push_back({c.cp, uint32_t(i), char_class(c.cp)});
    i += c.len;
  }
  cs.push_back({0, uint32_t(text.size()), 0});  // sentinel: the end offset
  QwenSplitter splitter(cs, marks);
  for (size_t i = 0, n = cs.size() - 1; i < n;) {
    const size_t end = splitter.match(i);
    out.push_back({cs[i].offset, cs[end].offset});
    i = end;
  }
}

// Oniguruma's \s is White_Space, which has U+0085; PCRE2's (with UCP) lacks it.
std::string widen_whitespace(const std::string& regex) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < regex.size(); ++i) {
    const char c = regex[i];
    if (c == '\\' && i + 1 < regex.size()) {
      const char e = regex[++i];
      if (e == 's') out += in_class ? "\\s\\x{85}" : "[\\s\\x{85}]";
      else if (e == 'S' && !in_class) out += "[^\\s\\x{85}]";
      else out.append({c, e});
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      if (i + 1 < regex.size() && regex[i + 1] == '^') out += regex[++i];
      if (i + 1 < regex.size() && regex[i + 1] == ']') out += regex[++i];  // a leading ] is literal
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

}  // namespace

struct PreTokenizer::Pcre2 {
  pcre2_code* code = nullptr;
  ~Pcre2() { pcre2_code_free(code); }
};

PreTokenizer::PreTokenizer(std::string regex)
    : PreTokenizer(regex, regex == kQwen2Regex    ? Engine::Qwen2
                          : regex == kQwen35Regex ? Engine::Qwen35
                                                  : Engine::Pcre2) {}

PreTokenizer PreTokenizer::with_pcre2(std::string regex) { return PreTokenizer(std::move(regex), Engine::Pcre2); }

PreTokenizer::PreTokenizer(std::string regex, Engine engine) : regex_(std::move(regex)), engine_(engine) {
  if (engine_ != Engine::Pcre2) return;
  const std::string pattern = widen_whitespace(regex_);
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  auto compiled = std::make_shared<Pcre2>();
  compiled->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), PCRE2_UTF | PCRE2_UCP,
                                 &err, &err_offset, nullptr);
  if (!compiled->code) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    fail("pre-tokenizer regex ", regex_, ": PCRE2 cannot compile it at offset ", err_offset, ": ",
         reinterpret_cast<const char*>(msg));
  }
  pcre2_jit_compile(compiled->code, PCRE2_JIT_COMPLETE);  // best effort: the interpreter is the fallback
  pcre2_ = std::move(compiled);
}

void PreTokenizer::split(std::string_view text, std::vector<Span>& out) const {
  if (engine_ != Engine::Pcre2) return split_qwen(text, engine_ == Engine::Qwen35, out);

  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> md(
      pcre2_match_data_create_from_pattern(pcre2_->code, nullptr), &pcre2_match_data_free);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0, covered = 0;
  while (pos < text.size()) {
    int rc = pcre2_match(pcre2_->code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) fail("pre-tokenizer regex ", regex_, ": PCRE2 match error ", rc);
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
    if (ov[1] == ov[0]) {  // empty match: contributes no piece; move on one character
      pos = ov[0] + (ov[0] < text.size() ? utf8_next(text, ov[0]).len : 1);
      continue;
    }
    if (ov[0] > covered) out.push_back({uint32_t(covered), uint32_t(ov[0])});  // the gap is a piece too
    out.push_back({uint32_t(ov[0]), uint32_t(ov[1])});
    covered = pos = ov[1];
  }
  if (covered < text.size()) out.push_back({uint32_t(covered), uint32_t(text.size())});
}

}  // namespace a3b
