#include "tokenizer/json_cursor.h"

#include <cstring>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace a3b {
namespace {

bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

JsonCursor::JsonCursor(std::string_view text, std::string source) : text_(text), source_(std::move(source)) {}

void JsonCursor::error(std::string_view what) const {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < pos_ && i < text_.size(); ++i) {
    if (text_[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  fail(source_, ": invalid JSON at line ", line, " column ", col, ": ", what);
}

void JsonCursor::skip_ws() {
  while (pos_ < text_.size() && is_ws(text_[pos_])) ++pos_;
}

char JsonCursor::next_char() {
  skip_ws();
  return pos_ < text_.size() ? text_[pos_] : '\0';
}

void JsonCursor::expect(char c) {
  if (next_char() != c) error(pos_ < text_.size() ? cat("expected '", c, "'") : cat("expected '", c, "', found the end"));
  ++pos_;
}

JsonCursor::Kind JsonCursor::peek() {
  switch (next_char()) {
    case '{': return Kind::Object;
    case '[': return Kind::Array;
    case '"': return Kind::String;
    case 't': return Kind::True;
    case 'f': return Kind::False;
    case 'n': return Kind::Null;
    case '-': return Kind::Number;
    default:
      if (is_digit(next_char())) return Kind::Number;
      error(pos_ < text_.size() ? "expected a value" : "unexpected end of text");
  }
}

void JsonCursor::begin_object() {
  if (next_char() != '{') error("expected an object");
  ++pos_;
  first_.push_back(true);
}

std::optional<std::string_view> JsonCursor::next_key() {
  if (next_char() == '}') {
    ++pos_;
    first_.pop_back();
    return std::nullopt;
  }
  if (!first_.back()) expect(',');
  first_.back() = false;
  if (next_char() != '"') error("expected a member name");
  std::string_view key = parse_string(key_scratch_);
  expect(':');
  return key;
}

void JsonCursor::begin_array() {
  if (next_char() != '[') error("expected an array");
  ++pos_;
  first_.push_back(true);
}

bool JsonCursor::next_element() {
  if (next_char() == ']') {
    ++pos_;
    first_.pop_back();
    return false;
  }
  if (!first_.back()) expect(',');
  first_.back() = false;
  return true;
}

std::string_view JsonCursor::string() {
  if (next_char() != '"') error("expected a string");
  return parse_string(value_scratch_);
}

std::string_view JsonCursor::parse_string(std::string& scratch) {
  const size_t start = ++pos_;  // after the opening quote
  // Fast path: no escapes, the string is a view of the text.
  size_t i = start;
  while (i < text_.size() && text_[i] != '"' && text_[i] != '\\' && uint8_t(text_[i]) >= 0x20) ++i;
  if (i < text_.size() && text_[i] == '"') {
    pos_ = i + 1;
    return text_.substr(start, i - start);
  }
  scratch.assign(text_.data() + start, i - start);
  pos_ = i;
  for (;;) {
    if (pos_ >= text_.size()) error("unterminated string");
    const char c = text_[pos_];
    if (c == '"') {
      ++pos_;
      return scratch;
    }
    if (uint8_t(c) < 0x20) error("control character in string");
    if (c != '\\') {
      scratch += c;
      ++pos_;
      continue;
    }
    if (pos_ + 1 >= text_.size()) error("unterminated string");
    const char e = text_[pos_ + 1];
    pos_ += 2;
    switch (e) {
      case '"': scratch += '"'; break;
      case '\\': scratch += '\\'; break;
      case '/': scratch += '/'; break;
      case 'b': scratch += '\b'; break;
      case 'f': scratch += '\f'; break;
      case 'n': scratch += '\n'; break;
      case 'r': scratch += '\r'; break;
      case 't': scratch += '\t'; break;
      case 'u': {
        auto hex4 = [&]() -> uint32_t {
          if (pos_ + 4 > text_.size()) error("truncated \\u escape");
          uint32_t v = 0;
          for (int k = 0; k < 4; ++k) {
            int h = hex_value(text_[pos_ + size_t(k)]);
            if (h < 0) error("bad \\u escape");
            v = v * 16 + uint32_t(h);
          }
          pos_ += 4;
          return v;
        };
        uint32_t cp = hex4();
        if (cp >= 0xDC00 && cp <= 0xDFFF) error("unpaired surrogate in \\u escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (text_.substr(pos_, 2) != "\\u") error("unpaired surrogate in \\u escape");
          pos_ += 2;
          uint32_t lo = hex4();
          if (lo < 0xDC00 || lo > 0xDFFF) error("unpaired surrogate in \\u escape");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        utf8_append(scratch, cp);
        break;
      }
      default:
        pos_ -= 1;
        error("bad escape in string");
    }
  }
}

int64_t JsonCursor::integer() {
  if (peek() != Kind::Number) error("expected an integer");
  const size_t start = pos_;
  const bool negative = text_[pos_] == '-';
  if (negative) ++pos_;
  if (pos_ >= text_.size() || !is_digit(text_[pos_])) error("expected an integer");
  int64_t v = 0;
  while (pos_ < text_.size() && is_digit(text_[pos_])) {
    if (v > (INT64_MAX - 9) / 10) error("integer out of range");
    v = v * 10 + (text_[pos_++] - '0');
  }
  if (pos_ < text_.size() && (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E')) {
    pos_ = start;
    error("expected an integer, found a fraction");
  }
  return negative ? -v : v;
}

bool JsonCursor::boolean() {
  Kind k = peek();
  if (k != Kind::True && k != Kind::False) error("expected true or false");
  std::string_view word = k == Kind::True ? "true" : "false";
  if (text_.substr(pos_, word.size()) != word) error("bad literal");
  pos_ += word.size();
  return k == Kind::True;
}

bool JsonCursor::null() {
  if (peek() != Kind::Null) return false;
  if (text_.substr(pos_, 4) != "null") error("bad literal");
  pos_ += 4;
  return true;
}

std::string_view JsonCursor::raw_value() {
  const size_t start = (skip_ws(), pos_);
  std::vector<char> closers;  // iterative, so deep nesting cannot overflow the stack
  do {
    switch (peek()) {
      case Kind::Object:
      case Kind::Array: {
        const bool object = text_[pos_] == '{';
        ++pos_;
        closers.push_back(object ? '}' : ']');
        first_.push_back(true);
        break;
      }
      case Kind::String: parse_string(value_scratch_); break;
      case Kind::True:
      case Kind::False: boolean(); break;
      case Kind::Null: null(); break;
      case Kind::Number: {
        if (text_[pos_] == '-') ++pos_;
        const size_t digits = pos_;
        while (pos_ < text_.size() && (is_digit(text_[pos_]) || std::strchr(".eE+-", text_[pos_]))) ++pos_;
        if (pos_ == digits) error("bad number");
        break;
      }
    }
    // Close every container that ends here, then position before the next value.
    for (;;) {
      if (closers.empty()) break;
      const bool object = closers.back() == '}';
      const bool more = object ? next_key().has_value() : next_element();
      if (more) break;
      closers.pop_back();
    }
  } while (!closers.empty());
  return text_.substr(start, pos_ - start);
}

void JsonCursor::end() {
  if (next_char() != '\0' || pos_ < text_.size()) error("unexpected text after the end");
}

}  // namespace a3b
