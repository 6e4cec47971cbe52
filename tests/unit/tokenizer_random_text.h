// Seeded random text for tokenizer property tests: code points drawn from pools that stress the pre-tokenizer,
// NFC and byte-level BPE (marks, jamo, CJK, emoji and joiners, whitespace of all kinds, digits, apostrophes,
// added-token literals).
#pragma once
#include <random>
#include <string>
#include <vector>

#include "tokenizer/utf8.h"

namespace a3b::test {

inline std::string random_text(std::mt19937& rng, size_t max_chars) {
  static const std::vector<std::pair<uint32_t, uint32_t>> pools = {
      {0x20, 0x7E},     {0x20, 0x7E},     {0x61, 0x7A},   {0x30, 0x39},     {0x09, 0x0D},   {0x00, 0x1F},
      {0xA0, 0x17F},    {0x300, 0x36F},   {0x370, 0x3FF}, {0x400, 0x45F},   {0x5D0, 0x5EA}, {0x600, 0x6FF},
      {0x900, 0x97F},   {0xE00, 0xE5B},   {0x1100, 0x11FF}, {0xAC00, 0xAC40}, {0x1E00, 0x1EFF}, {0x2000, 0x200F},
      {0x2028, 0x202F}, {0x3000, 0x3003}, {0x3040, 0x30FF}, {0x4E00, 0x4E80}, {0xFE00, 0xFE0F}, {0xFF01, 0xFF5E},
      {0x1F300, 0x1F64F}, {0x1F3FB, 0x1F3FF}, {0x0085, 0x0085}, {0x17F, 0x17F}, {0x27, 0x27}, {0x200D, 0x200D}};
  static const std::vector<std::string> literals = {"<|im_start|>", "<|im_end|>", "<think>", "</think>", "'s", "'LL",
                                                    "\r\n", "   ", "<|endoftext|>", "e\u0301", "\u1100\u1161\u11A8"};
  std::string s;
  const size_t n = std::uniform_int_distribution<size_t>(0, max_chars)(rng);
  for (size_t i = 0; i < n; ++i) {
    if (rng() % 16 == 0) {
      s += literals[rng() % literals.size()];
      continue;
    }
    auto [lo, hi] = pools[rng() % pools.size()];
    utf8_append(s, std::uniform_int_distribution<uint32_t>(lo, hi)(rng));
  }
  return s;
}

inline std::string random_bytes(std::mt19937& rng, size_t max_len) {
  std::string s(std::uniform_int_distribution<size_t>(0, max_len)(rng), '\0');
  for (char& c : s) c = char(rng() % 4 == 0 ? 0x80 + rng() % 0x80 : rng() % 256);
  return s;
}

}  // namespace a3b::test
