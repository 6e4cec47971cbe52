#include "tokenizer/utf8.h"

#include <cstring>

namespace a3b {
namespace {

// Unicode 15, table 3-7 (well-formed byte sequences): the length a lead byte announces and the allowed range of
// the byte after it; every later byte is 80..BF.
struct Lead {
  uint8_t len, lo, hi;
};

Lead lead_of(uint8_t b) {
  if (b < 0x80) return {1, 0, 0};
  if (b < 0xC2) return {0, 0, 0};  // continuation byte or overlong C0/C1
  if (b < 0xE0) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};  // excludes surrogates
  if (b < 0xF0) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b < 0xF4) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};  // up to U+10FFFF
  return {0, 0, 0};
}

}  // namespace

Utf8Char utf8_next(std::string_view s, size_t i) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data()) + i;
  const size_t n = s.size() - i;
  if (p[0] < 0x80) return {p[0], 1, true, false};
  const Lead lead = lead_of(p[0]);
  if (lead.len == 0) return {kReplacementChar, 1, false, false};
  uint32_t cp = p[0] & (0xFF >> (lead.len + 1));
  for (uint8_t k = 1; k < lead.len; ++k) {
    if (k >= n) return {kReplacementChar, k, false, true};
    const uint8_t lo = k == 1 ? lead.lo : 0x80, hi = k == 1 ? lead.hi : 0xBF;
    if (p[k] < lo || p[k] > hi) return {kReplacementChar, k, false, false};
    cp = (cp << 6) | (p[k] & 0x3F);
  }
  return {cp, lead.len, true, false};
}

bool utf8_valid(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    // Skip ASCII eight bytes at a time; most text is mostly ASCII.
    if (i + 8 <= s.size()) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    // Two-byte sequences (Latin, Greek, Cyrillic, the byte alphabet of BPE vocabularies) inline.
    const uint8_t b = uint8_t(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    if (b >= 0xC2 && b <= 0xDF && i + 1 < s.size() && (uint8_t(s[i + 1]) & 0xC0) == 0x80) {
      i += 2;
      continue;
    }
    Utf8Char c = utf8_next(s, i);
    if (!c.valid) return false;
    i += c.len;
  }
  return true;
}

void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

void utf8_append_lossy(std::string& out, std::string_view s) {
  size_t done = 0, i = 0;  // s[done, i) is well-formed and not yet copied
  while (i < s.size()) {
    if (uint8_t(s[i]) < 0x80) {
      ++i;
      continue;
    }
    Utf8Char c = utf8_next(s, i);
    if (c.valid) {
      i += c.len;
      continue;
    }
    out.append(s.data() + done, i - done);
    utf8_append(out, kReplacementChar);
    i += c.len;
    done = i;
  }
  out.append(s.data() + done, s.size() - done);
}

size_t utf8_incomplete_tail(std::string_view s) {
  // A sequence is at most 4 bytes, so only a lead byte among the last 3 can start an unfinished one.
  for (size_t back = 1; back <= 3 && back <= s.size(); ++back) {
    const size_t i = s.size() - back;
    if ((uint8_t(s[i]) & 0xC0) == 0x80) continue;  // continuation byte: look further back
    Utf8Char c = utf8_next(s, i);
    return c.truncated ? back : 0;
  }
  return 0;
}

}  // namespace a3b
