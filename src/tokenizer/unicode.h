// The few Unicode facts the tokenizer needs: general-category classes for the pre-tokenizer regexes, the
// White_Space property (what \s means in Oniguruma, the regex engine of HF tokenizers) and NFC. Data come from
// utf8proc (Unicode 15).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace a3b {

// Classes of a code point, as bit flags.
enum CharClass : uint8_t {
  kClassLetter = 1,   // \p{L}
  kClassMark = 2,     // \p{M}
  kClassNumber = 4,   // \p{N}
  kClassSpace = 8,    // \s (White_Space)
  kClassNewline = 16  // \r or \n
};

uint8_t char_class(uint32_t cp);

// True when NFC(s) == s is certain without normalizing (the usual case); s must be well-formed UTF-8.
bool nfc_quick_check(std::string_view s);

// NFC of well-formed UTF-8.
std::string to_nfc(std::string_view s);

// NFC for the tokenizer's hot path: false (out untouched) when s is already NFC; otherwise out = NFC(s). Only the
// stretches around characters that may change go through the normalizer.
bool normalize_nfc(std::string_view s, std::string& out);

}  // namespace a3b
