// UTF-8 decoding with the Unicode "maximal subpart" policy: every maximal ill-formed subsequence becomes one
// U+FFFD. That is what Python's bytes.decode(errors="replace") and Rust's String::from_utf8_lossy do, so text
// that reaches the tokenizer (or leaves the detokenizer) is exactly what a Python/Rust caller would see.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace a3b {

inline constexpr uint32_t kReplacementChar = 0xFFFD;

struct Utf8Char {
  uint32_t cp;     // the code point, or U+FFFD when !valid
  uint8_t len;     // bytes consumed (1..4); for an ill-formed sequence the length of its maximal subpart
  bool valid;
  bool truncated;  // ill-formed only because the input ends inside a sequence that could still be completed
};

// Decodes the character that starts at s[i] (i < s.size()).
Utf8Char utf8_next(std::string_view s, size_t i);

// Fast check that the whole string is well-formed UTF-8.
bool utf8_valid(std::string_view s);

// Appends the UTF-8 encoding of cp (which must be a scalar value).
void utf8_append(std::string& out, uint32_t cp);

// Appends s with every ill-formed subsequence replaced by U+FFFD.
void utf8_append_lossy(std::string& out, std::string_view s);

// Length of the tail of s that is an incomplete but so far well-formed sequence (0..3): the bytes a streaming
// decoder must hold back until the next piece arrives.
size_t utf8_incomplete_tail(std::string_view s);

}  // namespace a3b
