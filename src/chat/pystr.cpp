#include "chat/pystr.h"

#include <charconv>
#include <cmath>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include <utf8proc.h>

namespace a3b::py {

// A byte that does not start a valid UTF-8 sequence decodes to U+DC80+byte (Python's
// "surrogateescape"), and append_utf8 writes such code points back as the raw byte, so text
// passes through unchanged whatever it contains.
constexpr char32_t kEscapedByte = 0xDC00;

char32_t next_code_point(std::string_view s, size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int len = b0 >= 0xF0 && b0 <= 0xF4 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC2 && b0 < 0xE0 ? 2 : 0;
  if (len == 0 || i + len > s.size()) {
    ++i;
    return kEscapedByte + b0;
  }
  char32_t c = b0 & (0x7F >> len);
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return kEscapedByte + b0;
    }
    c = (c << 6) | (b & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8.
  if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10FFFF)) || (c >= 0xD800 && c < 0xE000)) {
    ++i;
    return kEscapedByte + b0;
  }
  i += len;
  return c;
}

void append_utf8(std::string& out, char32_t c) {
  if (c >= kEscapedByte + 0x80 && c <= kEscapedByte + 0xFF) {
    out += static_cast<char>(c - kEscapedByte);
  } else if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

bool is_ascii(std::string_view s) {
  for (char ch : s)
    if (static_cast<unsigned char>(ch) >= 0x80) return false;
  return true;
}

size_t code_point_count(std::string_view s) {
  if (is_ascii(s)) return s.size();
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) next_code_point(s, i);
  return n;
}

std::vector<size_t> code_point_offsets(std::string_view s) {
  std::vector<size_t> at;
  at.reserve(s.size() + 1);
  for (size_t i = 0; i < s.size();) {
    at.push_back(i);
    next_code_point(s, i);
  }
  at.push_back(s.size());
  return at;
}

namespace {

std::vector<char32_t> decode(std::string_view s) {
  std::vector<char32_t> cps;
  cps.reserve(s.size());
  for (size_t i = 0; i < s.size();) cps.push_back(next_code_point(s, i));
  return cps;
}

std::string encode(const std::vector<char32_t>& cps, size_t begin, size_t end) {
  std::string out;
  out.reserve(end - begin);
  for (size_t k = begin; k < end; ++k) append_utf8(out, cps[k]);
  return out;
}

utf8proc_category_t category(char32_t c) {
  return c > 0x10FFFF ? UTF8PROC_CATEGORY_CN : utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

bool is_cased(char32_t c) {
  auto k = category(c);
  return k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT;
}

char32_t map_case(char32_t c, utf8proc_int32_t (*f)(utf8proc_int32_t)) {
  if (c < 0x80) return static_cast<char32_t>(f(static_cast<utf8proc_int32_t>(c)));
  if (c > 0x10FFFF || (c >= 0xD800 && c < 0xE000)) return c;
  return static_cast<char32_t>(f(static_cast<utf8proc_int32_t>(c)));
}

enum class Case { Lower, Upper, Title };

// Unconditional multi-character mappings of Unicode's SpecialCasing.txt that CPython applies
// (utf8proc only has the one-to-one mappings): {code point, lower, upper, title}.
struct SpecialCase {
  char32_t c;
  const char* lower;
  const char* upper;
  const char* title;
};
constexpr SpecialCase kSpecialCases[] = {
    {0x00DF, nullptr, "SS", "Ss"},  // ß
    {0x0130, "i\u0307", nullptr, nullptr},  // İ
    {0x0149, nullptr, "\u02BCN", "\u02BCN"},
    {0x01F0, nullptr, "J\u030C", "J\u030C"},
    {0x0587, nullptr, "\u0535\u0552", "\u0535\u0582"},
    {0x1E96, nullptr, "H\u0331", "H\u0331"},
    {0x1E97, nullptr, "T\u0308", "T\u0308"},
    {0x1E98, nullptr, "W\u030A", "W\u030A"},
    {0x1E99, nullptr, "Y\u030A", "Y\u030A"},
    {0x1E9A, nullptr, "A\u02BE", "A\u02BE"},
    {0xFB00, nullptr, "FF", "Ff"},
    {0xFB01, nullptr, "FI", "Fi"},
    {0xFB02, nullptr, "FL", "Fl"},
    {0xFB03, nullptr, "FFI", "Ffi"},
    {0xFB04, nullptr, "FFL", "Ffl"},
    {0xFB05, nullptr, "ST", "St"},
    {0xFB06, nullptr, "ST", "St"},
};

void append_case(std::string& out, char32_t c, Case how) {
  for (const auto& sc : kSpecialCases) {
    if (sc.c != c) continue;
    const char* s = how == Case::Lower ? sc.lower : how == Case::Upper ? sc.upper : sc.title;
    if (!s) break;
    out += s;
    return;
  }
  append_utf8(out, map_case(c, how == Case::Lower ? utf8proc_tolower : how == Case::Upper ? utf8proc_toupper : utf8proc_totitle));
}

std::string map_each(std::string_view s, Case how) {
  std::string out;
  out.reserve(s.size());
  if (how != Case::Lower) {
    for (size_t i = 0; i < s.size();) append_case(out, next_code_point(s, i), how);
    return out;
  }
  // Lowercase, with Greek final sigma: Σ after a cased letter and not before one becomes ς.
  const std::vector<char32_t> cps = decode(s);
  for (size_t k = 0; k < cps.size(); ++k) {
    if (cps[k] == 0x03A3 && k > 0 && is_cased(cps[k - 1]) && (k + 1 == cps.size() || !is_cased(cps[k + 1]))) {
      append_utf8(out, 0x03C2);
      continue;
    }
    append_case(out, cps[k], Case::Lower);
  }
  return out;
}

bool in_set(char32_t c, const std::vector<char32_t>& set) {
  for (char32_t x : set)
    if (x == c) return true;
  return false;
}

bool is_line_break(char32_t c) {
  return c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E || c == 0x85 ||
         c == 0x2028 || c == 0x2029;
}

void append_hex(std::string& out, const char* prefix, unsigned v, int digits) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%s%0*x", prefix, digits, v);
  out += buf;
}

}  // namespace

bool is_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_printable(char32_t c) {
  if (c == ' ') return true;
  switch (category(c)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_ZS:
      return false;
    default:
      return true;
  }
}

std::string strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right) {
  const std::vector<char32_t> set = chars ? decode(*chars) : std::vector<char32_t>{};
  auto strippable = [&](char32_t c) { return chars ? in_set(c, set) : is_space(c); };
  const std::vector<char32_t> cps = decode(s);
  size_t b = 0, e = cps.size();
  if (left)
    while (b < e && strippable(cps[b])) ++b;
  if (right)
    while (e > b && strippable(cps[e - 1])) --e;
  return encode(cps, b, e);
}

std::vector<std::string> split(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit) {
  std::vector<std::string> parts;
  if (sep) {
    if (sep->empty()) throw std::invalid_argument("empty separator");
    size_t start = 0;
    for (;;) {
      size_t at = maxsplit < 0 || int64_t(parts.size()) < maxsplit ? s.find(*sep, start) : std::string_view::npos;
      if (at == std::string_view::npos) break;
      parts.emplace_back(s.substr(start, at - start));
      start = at + sep->size();
    }
    parts.emplace_back(s.substr(start));
    return parts;
  }
  const std::vector<char32_t> cps = decode(s);
  size_t i = 0;
  const size_t n = cps.size();
  for (;;) {
    while (i < n && is_space(cps[i])) ++i;
    if (i == n) break;
    if (maxsplit >= 0 && int64_t(parts.size()) == maxsplit) {  // the rest, trailing space included
      parts.push_back(encode(cps, i, n));
      break;
    }
    size_t j = i;
    while (j < n && !is_space(cps[j])) ++j;
    parts.push_back(encode(cps, i, j));
    i = j;
  }
  return parts;
}

std::vector<std::string> rsplit(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit) {
  std::vector<std::string> parts;
  if (sep) {
    if (sep->empty()) throw std::invalid_argument("empty separator");
    size_t end = s.size();
    for (;;) {
      if (maxsplit >= 0 && int64_t(parts.size()) >= maxsplit) break;
      if (end < sep->size()) break;
      size_t at = s.rfind(*sep, end - sep->size());
      if (at == std::string_view::npos) break;
      parts.emplace_back(s.substr(at + sep->size(), end - at - sep->size()));
      end = at;
    }
    parts.emplace_back(s.substr(0, end));
  } else {
    const std::vector<char32_t> cps = decode(s);
    size_t j = cps.size();
    for (;;) {
      while (j > 0 && is_space(cps[j - 1])) --j;
      if (j == 0) break;
      if (maxsplit >= 0 && int64_t(parts.size()) == maxsplit) {  // the rest, leading space included
        parts.push_back(encode(cps, 0, j));
        break;
      }
      size_t i = j;
      while (i > 0 && !is_space(cps[i - 1])) --i;
      parts.push_back(encode(cps, i, j));
      j = i;
    }
  }
  return {parts.rbegin(), parts.rend()};
}

std::vector<std::string> splitlines(std::string_view s, bool keepends) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t i = 0; i < s.size();) {
    size_t at = i;
    char32_t c = next_code_point(s, i);
    if (!is_line_break(c)) continue;
    if (c == '\r' && i < s.size() && s[i] == '\n') ++i;
    lines.emplace_back(s.substr(start, (keepends ? i : at) - start));
    start = i;
  }
  if (start < s.size()) lines.emplace_back(s.substr(start));
  return lines;
}

std::string replace(std::string_view s, std::string_view old, std::string_view with, int64_t count) {
  std::string out;
  if (old.empty()) {  // Python inserts the replacement around every code point
    int64_t done = 0;
    for (size_t i = 0; i <= s.size();) {
      if (count < 0 || done < count) {
        out += with;
        ++done;
      }
      if (i == s.size()) break;
      size_t start = i;
      next_code_point(s, i);
      out += s.substr(start, i - start);
    }
    return out;
  }
  size_t start = 0;
  for (int64_t done = 0; count < 0 || done < count; ++done) {
    size_t at = s.find(old, start);
    if (at == std::string_view::npos) break;
    out += s.substr(start, at - start);
    out += with;
    start = at + old.size();
  }
  out += s.substr(start);
  return out;
}

std::string lower(std::string_view s) { return map_each(s, Case::Lower); }
std::string upper(std::string_view s) { return map_each(s, Case::Upper); }

std::string title(std::string_view s) {
  std::string out;
  bool previous_cased = false;
  for (size_t i = 0; i < s.size();) {
    char32_t c = next_code_point(s, i);
    append_case(out, c, previous_cased ? Case::Lower : Case::Title);
    previous_cased = is_cased(c);
  }
  return out;
}

std::string capitalize(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    bool first = i == 0;
    char32_t c = next_code_point(s, i);
    append_case(out, c, first ? Case::Title : Case::Lower);
  }
  return out;
}

static bool all_cased_are(std::string_view s, utf8proc_category_t want) {
  bool any = false;
  for (size_t i = 0; i < s.size();) {
    char32_t c = next_code_point(s, i);
    auto k = category(c);
    if (k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT) {
      if (k != want) return false;
      any = true;
    }
  }
  return any;
}

bool is_lower(std::string_view s) { return all_cased_are(s, UTF8PROC_CATEGORY_LL); }
bool is_upper(std::string_view s) { return all_cased_are(s, UTF8PROC_CATEGORY_LU); }

namespace {

std::string_view trim_space(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e) {
    size_t next = b;
    if (!is_space(next_code_point(s, next))) break;
    b = next;
  }
  size_t last_end = b;  // end of the last non-space code point
  for (size_t i = b; i < e;) {
    if (!is_space(next_code_point(s, i))) last_end = i;
  }
  return s.substr(b, last_end - b);
}

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = char(c | 0x20);
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  return 99;
}

// Digits of `base` with single '_' between digits; appends the digits to out. False if malformed.
bool take_digits(std::string_view s, int base, std::string& out) {
  if (s.empty()) return false;
  bool prev_digit = false;
  for (char c : s) {
    if (c == '_') {
      if (!prev_digit) return false;
      prev_digit = false;
      continue;
    }
    if (digit_value(c) >= base) return false;
    out += c;
    prev_digit = true;
  }
  return prev_digit;
}

}  // namespace

std::optional<int64_t> parse_int(std::string_view text, int base) {
  std::string_view s = trim_space(text);
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.size() > 2 && s[0] == '0' &&
      ((base == 16 && (s[1] | 0x20) == 'x') || (base == 8 && (s[1] | 0x20) == 'o') || (base == 2 && (s[1] | 0x20) == 'b'))) {
    s.remove_prefix(2);
    if (!s.empty() && s[0] == '_') s.remove_prefix(1);
  }
  std::string digits;
  if (!take_digits(s, base, digits)) return std::nullopt;
  if (base == 10 && digits.size() > 1 && digits[0] == '0' && digits.find_first_not_of('0') != std::string::npos)
    return std::nullopt;  // Python rejects leading zeros in decimal literals like "012"
  unsigned long long v = 0;
  for (char c : digits) {
    if (__builtin_mul_overflow(v, (unsigned long long)base, &v) || __builtin_add_overflow(v, (unsigned long long)digit_value(c), &v))
      return std::nullopt;
  }
  if (v > (unsigned long long)INT64_MAX + (negative ? 1 : 0)) return std::nullopt;
  return negative ? int64_t(0 - v) : int64_t(v);
}

std::optional<double> parse_float(std::string_view text) {
  std::string_view s = trim_space(text);
  std::string clean;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) clean += s[i++];
  std::string word;
  for (size_t k = i; k < s.size(); ++k) word += char(std::tolower(static_cast<unsigned char>(s[k])));
  if (word == "inf" || word == "infinity") return clean == "-" ? -HUGE_VAL : HUGE_VAL;
  if (word == "nan") return std::nan("");
  // mantissa: digits [. digits] | . digits, then optional exponent
  size_t j = i;
  while (j < s.size() && (digit_value(s[j]) < 10 || s[j] == '_')) ++j;
  const bool has_int = j > i;
  if (has_int && !take_digits(s.substr(i, j - i), 10, clean)) return std::nullopt;
  bool has_frac = false;
  if (j < s.size() && s[j] == '.') {
    clean += '.';
    size_t k = ++j;
    while (j < s.size() && (digit_value(s[j]) < 10 || s[j] == '_')) ++j;
    has_frac = j > k;
    if (has_frac && !take_digits(s.substr(k, j - k), 10, clean)) return std::nullopt;
  }
  if (!has_int && !has_frac) return std::nullopt;
  if (j < s.size() && (s[j] | 0x20) == 'e') {
    clean += 'e';
    ++j;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) clean += s[j++];
    size_t k = j;
    while (j < s.size() && (digit_value(s[j]) < 10 || s[j] == '_')) ++j;
    if (!take_digits(s.substr(k, j - k), 10, clean)) return std::nullopt;
  }
  if (j != s.size()) return std::nullopt;
  return std::strtod(clean.c_str(), nullptr);
}

std::string repr(std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (size_t i = 0; i < s.size();) {
    char32_t c = next_code_point(s, i);
    if (c == char32_t(quote) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7F) {
      append_hex(out, "\\x", c, 2);
    } else if (c < 0x7F || is_printable(c)) {
      append_utf8(out, c);
    } else if (c <= 0xFF) {
      append_hex(out, "\\x", c, 2);
    } else if (c <= 0xFFFF) {
      append_hex(out, "\\u", c, 4);
    } else {
      append_hex(out, "\\U", c, 8);
    }
  }
  out += quote;
  return out;
}

std::string float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  // Shortest round-trip digits in scientific form, e.g. "-1.2345e+20", then laid out by
  // CPython's rule for repr: positional when -4 <= exponent < 16, else d.ddde+XX.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  const size_t e_at = sci.find('e');
  std::string digits = sci.substr(0, e_at);
  if (digits.size() > 1) digits.erase(1, 1);  // drop the '.'
  const int exponent = std::stoi(sci.substr(e_at + 1));
  const int decpt = exponent + 1;  // value = 0.DIGITS x 10^decpt
  std::string out = sign;
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out += "0." + std::string(size_t(-decpt), '0') + digits;
    } else if (size_t(decpt) >= digits.size()) {
      out += digits + std::string(size_t(decpt) - digits.size(), '0') + ".0";
    } else {
      out += digits.substr(0, size_t(decpt)) + "." + digits.substr(size_t(decpt));
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char exp_buf[16];
  std::snprintf(exp_buf, sizeof exp_buf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  return out + exp_buf;
}

void append_json_string(std::string& out, std::string_view s, bool ensure_ascii) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b >= 0x80) {
      size_t start = i;
      char32_t c = next_code_point(s, i);
      if (!ensure_ascii) {
        out += s.substr(start, i - start);
      } else if (c >= 0x10000) {
        c -= 0x10000;
        append_hex(out, "\\u", 0xD800 + (c >> 10), 4);
        append_hex(out, "\\u", 0xDC00 + (c & 0x3FF), 4);
      } else {
        append_hex(out, "\\u", c, 4);
      }
      continue;
    }
    ++i;
    switch (b) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (b < 0x20)
          append_hex(out, "\\u", b, 4);
        else
          out += static_cast<char>(b);
    }
  }
  out += '"';
}

}  // namespace a3b::py
