#include "chat/jinja_lexer.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "chat/pystr.h"
#include "core/error.h"

namespace a3b::jinja {

std::string normalize_source(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();  // keep_trailing_newline=False
  return out;
}

std::string describe_position(std::string_view source, size_t offset) {
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < offset && i < source.size(); ++i)
    if (source[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  return cat("line ", line, ", column ", py::code_point_count(source.substr(line_start, offset - line_start)) + 1);
}

namespace {

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  std::vector<Token> run() {
    while (pos_ < src_.size()) {
      const size_t tag = find_tag_start(pos_);
      if (tag == std::string_view::npos) {
        emit_data(std::string(src_.substr(pos_)), pos_);
        break;
      }
      const char kind = src_[tag + 1];
      const char sign = tag + 2 < src_.size() && (src_[tag + 2] == '-' || src_[tag + 2] == '+') ? src_[tag + 2] : 0;
      const size_t raw_end = kind == '%' ? match_raw_begin(tag) : 0;
      emit_data(strip_before_tag(src_.substr(pos_, tag - pos_), sign, kind == '{'), pos_);
      if (raw_end) {
        lex_raw(raw_end);
        continue;
      }
      pos_ = tag + 2 + (sign ? 1 : 0);
      line_starting_ = false;
      if (kind == '#')
        lex_comment(tag);
      else
        lex_tag(kind == '%', tag);
    }
    tokens_.push_back(Token{TokenType::Eof, "", 0, 0, src_.size()});
    return std::move(tokens_);
  }

 private:
  std::string_view src_;
  size_t pos_ = 0;
  bool line_starting_ = true;  // the last match ended with a newline (or nothing matched yet)
  std::vector<Token> tokens_;

  [[noreturn]] void fail(size_t at, const std::string& msg) const {
    a3b::fail("chat template syntax error at ", describe_position(src_, at), ": ", msg);
  }

  bool starts_with(size_t at, std::string_view s) const { return src_.substr(at, s.size()) == s; }

  size_t find_tag_start(size_t from) const {
    for (size_t i = src_.find('{', from); i != std::string_view::npos; i = src_.find('{', i + 1))
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    return std::string_view::npos;
  }

  // Length of the whitespace run at `at` (Python's \s, which includes Unicode spaces).
  size_t skip_space(size_t at) const {
    while (at < src_.size()) {
      size_t next = at;
      if (!py::is_space(py::next_code_point(src_, next))) break;
      at = next;
    }
    return at;
  }

  // If `{%` at `tag` opens `{% raw %}`, the offset just past that tag, else 0.
  size_t match_raw_begin(size_t tag) const {
    size_t p = tag + 2;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) ++p;
    p = skip_space(p);
    if (!starts_with(p, "raw")) return 0;
    p = skip_space(p + 3);
    if (starts_with(p, "-%}")) return skip_space(p + 3);
    if (starts_with(p, "%}")) return p + 2;
    return 0;
  }

  // The data before a tag, after the tag's whitespace control: '-' strips all trailing whitespace;
  // otherwise (unless '+') a block/comment tag preceded on its line only by whitespace takes that
  // indentation away (lstrip_blocks).
  std::string strip_before_tag(std::string_view text, char sign, bool is_variable) const {
    if (sign == '-') return py::strip(text, std::nullopt, false, true);
    if (sign == '+' || is_variable) return std::string(text);
    const size_t nl = text.rfind('\n');
    const size_t line_pos = nl == std::string_view::npos ? 0 : nl + 1;
    if (line_pos == 0 && !line_starting_) return std::string(text);
    const std::string_view tail = text.substr(line_pos);
    if (tail.empty()) return std::string(text);
    for (size_t i = 0; i < tail.size();)
      if (!py::is_space(py::next_code_point(tail, i))) return std::string(text);
    return std::string(text.substr(0, line_pos));
  }

  void emit_data(std::string text, size_t at) {
    if (!text.empty()) tokens_.push_back(Token{TokenType::Data, std::move(text), 0, 0, at});
  }

  // End of a block or comment tag at `at` (`-%}`, `+%}` or `%}` for close = '%'), or npos.
  // Returns the offset after the tag including what it consumes: all following whitespace for
  // '-', one newline for the plain form (trim_blocks).
  size_t match_tag_end(size_t at, char close) const {
    const char end[3] = {close, '}', 0};
    if (src_[at] == '-' && starts_with(at + 1, end)) return skip_space(at + 3);
    if (src_[at] == '+' && starts_with(at + 1, end)) return at + 3;
    if (starts_with(at, end)) return at + 2 + (at + 2 < src_.size() && src_[at + 2] == '\n' ? 1 : 0);
    return std::string_view::npos;
  }

  void finish_match(size_t end) {
    line_starting_ = end > 0 && src_[end - 1] == '\n';
    pos_ = end;
  }

  void lex_comment(size_t tag) {
    for (size_t p = pos_; p < src_.size(); ++p) {
      if (src_[p] != '#' && src_[p] != '-' && src_[p] != '+') continue;
      size_t end = match_tag_end(p, '#');
      if (end != std::string_view::npos) return finish_match(end);
    }
    fail(tag, "Missing end of comment tag");
  }

  void lex_raw(size_t body_start) {
    for (size_t p = src_.find("{%", body_start); p != std::string_view::npos; p = src_.find("{%", p + 1)) {
      size_t q = p + 2;
      const char sign = q < src_.size() && (src_[q] == '-' || src_[q] == '+') ? src_[q] : 0;
      if (sign) ++q;
      q = skip_space(q);
      if (!starts_with(q, "endraw")) continue;
      q = skip_space(q + 6);
      if (q >= src_.size()) continue;
      size_t end = match_tag_end(q, '%');
      if (end == std::string_view::npos) continue;
      line_starting_ = src_[body_start - 1] == '\n';
      emit_data(strip_before_tag(src_.substr(body_start, p - body_start), sign, false), body_start);
      return finish_match(end);
    }
    fail(body_start, "Missing end of raw directive");
  }

  void lex_tag(bool block, size_t tag) {
    tokens_.push_back(Token{block ? TokenType::BlockBegin : TokenType::VariableBegin, "", 0, 0, tag});
    std::vector<char> open;  // brackets awaiting their closer
    for (;;) {
      if (pos_ >= src_.size()) fail(tag, block ? "unexpected end of template, expected '%}'" : "unexpected end of template, expected '}}'");
      if (open.empty()) {
        size_t end = std::string_view::npos;
        if (block) {
          end = match_tag_end(pos_, '%');
        } else if (starts_with(pos_, "-}}")) {
          end = skip_space(pos_ + 3);
        } else if (starts_with(pos_, "}}")) {
          end = pos_ + 2;
        }
        if (end != std::string_view::npos) {
          tokens_.push_back(Token{block ? TokenType::BlockEnd : TokenType::VariableEnd, "", 0, 0, pos_});
          return finish_match(end);
        }
      }
      const size_t after_space = skip_space(pos_);
      if (after_space != pos_) {
        pos_ = after_space;
        continue;
      }
      lex_inner_token(open);
    }
  }

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  static bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

  // Digits with single underscores between them ((\d+_)*\d+); returns the end or npos.
  size_t match_digits(size_t p, bool (*digit)(char)) const {
    if (p >= src_.size() || !digit(src_[p])) return std::string_view::npos;
    while (p < src_.size()) {
      if (digit(src_[p])) {
        ++p;
      } else if (src_[p] == '_' && p + 1 < src_.size() && digit(src_[p + 1])) {
        p += 2;
      } else {
        break;
      }
    }
    return p;
  }

  size_t match_float(size_t p) const {
    if (p > 0 && src_[p - 1] == '.') return std::string_view::npos;
    size_t q = match_digits(p, is_digit);
    if (q == std::string_view::npos) return q;
    size_t frac = std::string_view::npos;
    if (q < src_.size() && src_[q] == '.') frac = match_digits(q + 1, is_digit);
    size_t after_frac = frac == std::string_view::npos ? q : frac;
    if (after_frac < src_.size() && (src_[after_frac] == 'e' || src_[after_frac] == 'E')) {
      size_t e = after_frac + 1;
      if (e < src_.size() && (src_[e] == '+' || src_[e] == '-')) ++e;
      size_t exp_end = match_digits(e, is_digit);
      if (exp_end != std::string_view::npos) return exp_end;
    }
    return frac;
  }

  void lex_number(size_t start) {
    if (size_t end = match_float(start); end != std::string_view::npos) {
      std::string text;
      for (size_t i = start; i < end; ++i)
        if (src_[i] != '_') text += src_[i];
      tokens_.push_back(Token{TokenType::Float, text, 0, std::strtod(text.c_str(), nullptr), start});
      pos_ = end;
      return;
    }
    // Integers: 0b/0o/0x prefixes, a decimal without leading zero, or zeros only.
    int base = 10;
    size_t p = start, end;
    auto bin = [](char c) { return c == '0' || c == '1'; };
    auto oct = [](char c) { return c >= '0' && c <= '7'; };
    auto hex = [](char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); };
    auto zero = [](char c) { return c == '0'; };
    char prefix = p + 1 < src_.size() && src_[p] == '0' ? char(src_[p + 1] | 0x20) : 0;
    auto prefixed = [&](bool (*digit)(char)) {
      // (_?d)+ after the prefix: an underscore may also follow the prefix directly.
      size_t q = p + 2;
      if (q < src_.size() && src_[q] == '_') ++q;
      return match_digits(q, digit);
    };
    if (prefix == 'b' && (end = prefixed(bin)) != std::string_view::npos) {
      base = 2;
    } else if (prefix == 'o' && (end = prefixed(oct)) != std::string_view::npos) {
      base = 8;
    } else if (prefix == 'x' && (end = prefixed(hex)) != std::string_view::npos) {
      base = 16;
    } else if (src_[p] == '0') {
      end = match_digits(p, zero);
    } else {
      end = match_digits(p, is_digit);
    }
    std::string digits;
    for (size_t i = base == 10 ? start : start + 2; i < end; ++i)
      if (src_[i] != '_') digits += src_[i];
    errno = 0;
    char* stop = nullptr;
    long long v = std::strtoll(digits.c_str(), &stop, base);
    if (errno == ERANGE) fail(start, "integer literal too large");
    tokens_.push_back(Token{TokenType::Integer, std::string(src_.substr(start, end - start)), v, 0, start});
    pos_ = end;
  }

  void lex_string(size_t start) {
    const char quote = src_[start];
    std::string value;
    size_t p = start + 1;
    for (;;) {
      if (p >= src_.size()) fail(start, "unterminated string literal");
      const char c = src_[p];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        ++p;
        continue;
      }
      if (p + 1 >= src_.size()) fail(start, "unterminated string literal");
      p = decode_escape(p + 1, value);
    }
    tokens_.push_back(Token{TokenType::String, std::move(value), 0, 0, start});
    pos_ = p + 1;
  }

  // Python's unicode-escape decoding of the escape whose letter is at p; returns the next offset.
  size_t decode_escape(size_t p, std::string& out) {
    const char c = src_[p];
    auto hex_escape = [&](int digits) {
      unsigned long v = 0;
      for (int k = 1; k <= digits; ++k) {
        const char h = p + k < src_.size() ? src_[p + k] : 0;
        int d = is_digit(h) ? h - '0' : (h | 0x20) >= 'a' && (h | 0x20) <= 'f' ? (h | 0x20) - 'a' + 10 : -1;
        if (d < 0) fail(p - 1, cat("truncated \\", c, " escape in string literal"));
        v = v * 16 + unsigned(d);
      }
      if (v > 0x10FFFF) fail(p - 1, "illegal Unicode character in string literal");
      py::append_utf8(out, char32_t(v));
      return p + 1 + digits;
    };
    switch (c) {
      case '\n': return p + 1;  // line continuation
      case '\\': out += '\\'; return p + 1;
      case '\'': out += '\''; return p + 1;
      case '"': out += '"'; return p + 1;
      case 'a': out += '\a'; return p + 1;
      case 'b': out += '\b'; return p + 1;
      case 'f': out += '\f'; return p + 1;
      case 'n': out += '\n'; return p + 1;
      case 'r': out += '\r'; return p + 1;
      case 't': out += '\t'; return p + 1;
      case 'v': out += '\v'; return p + 1;
      case 'x': return hex_escape(2);
      case 'u': return hex_escape(4);
      case 'U': return hex_escape(8);
      case 'N': fail(p - 1, "\\N{...} escapes are not supported");
      default: break;
    }
    if (c >= '0' && c <= '7') {
      unsigned v = 0;
      size_t q = p;
      for (; q < p + 3 && q < src_.size() && src_[q] >= '0' && src_[q] <= '7'; ++q) v = v * 8 + unsigned(src_[q] - '0');
      py::append_utf8(out, char32_t(v));
      return q;
    }
    out += '\\';  // unknown escapes keep their backslash
    return p;
  }

  void lex_inner_token(std::vector<char>& open) {
    const size_t start = pos_;
    const char c = src_[start];
    if (is_digit(c)) return lex_number(start);
    if (is_name_start(c)) {
      size_t p = start + 1;
      while (p < src_.size() && (is_name_start(src_[p]) || is_digit(src_[p]))) ++p;
      tokens_.push_back(Token{TokenType::Name, std::string(src_.substr(start, p - start)), 0, 0, start});
      pos_ = p;
      return;
    }
    if (c == '\'' || c == '"') return lex_string(start);
    static const char* const two_char_ops[] = {"//", "**", "==", "!=", ">=", "<="};
    for (const char* op : two_char_ops)
      if (starts_with(start, op)) {
        tokens_.push_back(Token{TokenType::Operator, op, 0, 0, start});
        pos_ = start + 2;
        return;
      }
    if (!std::strchr("+-/*%~[](){}><=.:|,;", c) || c == 0) {
      size_t next = start;
      std::string ch;
      py::append_utf8(ch, py::next_code_point(src_, next));
      fail(start, cat("unexpected char ", py::repr(ch)));
    }
    if (c == '(' || c == '[' || c == '{') {
      open.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    } else if (c == ')' || c == ']' || c == '}') {
      if (open.empty()) fail(start, cat("unexpected '", c, "'"));
      if (open.back() != c) fail(start, cat("unexpected '", c, "', expected '", open.back(), "'"));
      open.pop_back();
    }
    tokens_.push_back(Token{TokenType::Operator, std::string(1, c), 0, 0, start});
    pos_ = start + 1;
  }
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) { return Lexer(source).run(); }

}  // namespace a3b::jinja
