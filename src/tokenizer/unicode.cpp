#include "tokenizer/unicode.h"

#include <array>
#include <cstdlib>
#include <memory>
#include <vector>

#include <utf8proc.h>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace a3b {
namespace {

bool is_white_space(uint32_t cp) {
  switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0x85: case 0xA0: case 0x1680:
    case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

uint8_t compute_class(uint32_t cp) {
  uint8_t c = 0;
  switch (utf8proc_get_property(utf8proc_int32_t(cp))->category) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      c |= kClassLetter;
      break;
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
      c |= kClassMark;
      break;
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      c |= kClassNumber;
      break;
    default:
      break;
  }
  if (is_white_space(cp)) c |= kClassSpace;
  if (cp == '\r' || cp == '\n') c |= kClassNewline;
  return c;
}

// Classes of the Basic Multilingual Plane, computed once (64 KiB); other planes ask utf8proc.
const std::array<uint8_t, 0x10000>& bmp_classes() {
  static const auto table = [] {
    auto t = std::make_unique<std::array<uint8_t, 0x10000>>();
    for (uint32_t cp = 0; cp < 0x10000; ++cp) (*t)[cp] = compute_class(cp);
    return t;
  }();
  return *table;
}

std::string utf8proc_nfc(std::string_view s) {
  utf8proc_uint8_t* out = nullptr;
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()), utf8proc_ssize_t(s.size()),
                                    &out, utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) fail("NFC normalization failed: ", utf8proc_errmsg(n));
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(out, &std::free);
  return std::string(reinterpret_cast<const char*>(out), size_t(n));
}

// A code point NFC leaves alone whatever surrounds it (NFC_Quick_Check=Yes with combining class 0): a starter
// that never composes with a preceding character and is itself in NFC (precomposed letters such as U+00E9 are;
// singletons and composition exclusions are not). Hangul V/T jamo compose algorithmically, so they are
// excluded by hand.
bool compute_nfc_inert(uint32_t cp) {
  if ((cp >= 0x1161 && cp <= 0x1175) || (cp >= 0x11A8 && cp <= 0x11C2)) return false;
  const utf8proc_property_t* p = utf8proc_get_property(utf8proc_int32_t(cp));
  if (p->combining_class != 0) return false;
  if (p->comb_index != UINT16_MAX && p->comb_index >= 0x8000) return false;  // second of a composition pair
  if (p->decomp_seqindex != UINT16_MAX && p->decomp_type == 0) {             // canonical decomposition
    std::string c;
    utf8_append(c, cp);
    return utf8proc_nfc(c) == c;
  }
  return true;
}

const std::vector<bool>& bmp_nfc_inert() {
  static const std::vector<bool> table = [] {
    std::vector<bool> t(0x10000);
    for (uint32_t cp = 0; cp < 0x10000; ++cp) t[cp] = compute_nfc_inert(cp);
    return t;
  }();
  return table;
}

bool nfc_inert(uint32_t cp) { return cp < 0x10000 ? bmp_nfc_inert()[cp] : compute_nfc_inert(cp); }

}  // namespace

uint8_t char_class(uint32_t cp) { return cp < 0x10000 ? bmp_classes()[cp] : compute_class(cp); }

bool nfc_quick_check(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (uint8_t(s[i]) < 0x80) {
      ++i;
      continue;
    }
    Utf8Char c = utf8_next(s, i);
    if (!nfc_inert(c.cp)) return false;
    i += c.len;
  }
  return true;
}

std::string to_nfc(std::string_view s) {
  // utf8proc 2.8 wrongly composes an LV syllable with U+11A7 (the T base, which is no trailing consonant) and
  // drops the jamo. U+11A7 is a starter that never composes, so NFC of the text before it and of the text from it
  // on are independent: normalize the two separately.
  constexpr std::string_view kTBase = "\xE1\x86\xA7";
  std::string out;
  for (size_t cut; (cut = s.find(kTBase, 1)) != std::string_view::npos; s.remove_prefix(cut)) out += utf8proc_nfc(s.substr(0, cut));
  return out + utf8proc_nfc(s);
}

bool normalize_nfc(std::string_view s, std::string& out) {
  // NFC(a + b) == NFC(a) + NFC(b) when b starts with an inert character: nothing before it can reorder or
  // compose across it. So only the stretch from the last inert character before a non-inert one up to the
  // next inert character needs the normalizer; close stretches are joined to call it less often.
  constexpr size_t kJoinGap = 32;
  bool changed = false;
  size_t copied = 0;    // when changed: s[0, copied) is accounted for in out
  size_t boundary = 0;  // start of the last inert character seen
  std::string stretch_nfc;
  for (size_t i = 0; i < s.size();) {
    if (uint8_t(s[i]) < 0x80) {
      boundary = i++;
      continue;
    }
    Utf8Char c = utf8_next(s, i);
    if (nfc_inert(c.cp)) {
      boundary = i;
      i += c.len;
      continue;
    }
    // s[boundary, end) holds every non-inert character from here on that lies within kJoinGap of the previous.
    size_t end = i + c.len, scan = end;
    while (scan < s.size() && scan < end + kJoinGap) {
      Utf8Char d = uint8_t(s[scan]) < 0x80 ? Utf8Char{uint8_t(s[scan]), 1, true, false} : utf8_next(s, scan);
      scan += d.len;
      if (!nfc_inert(d.cp)) end = scan;
    }
    const std::string_view stretch = s.substr(boundary, end - boundary);
    stretch_nfc = to_nfc(stretch);
    if (stretch_nfc != stretch) {
      if (!changed) out.assign(s.substr(0, boundary));
      else out.append(s.substr(copied, boundary - copied));
      out += stretch_nfc;
      copied = end;
      changed = true;
    }
    i = boundary = end;
  }
  if (changed) out.append(s.substr(copied));
  return changed;
}

}  // namespace a3b
