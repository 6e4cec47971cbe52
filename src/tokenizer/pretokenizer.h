// Pre-tokenization: splitting normalized text into the pieces BPE works on, by the regex of the tokenizer file
// (HF Split, behavior Isolated: every match is a piece, so is every gap between matches).
//
// The two Qwen patterns run in a hand-written splitter (no regex engine, one pass): Qwen2/2.5/3's, and
// Qwen3.5/3.6's ("qwen35"), which adds \p{M} to the letter runs. Any other pattern runs through PCRE2 (UTF + UCP,
// JIT), with \s widened to Oniguruma's White_Space set (U+0085) so it means what it means in HF tokenizers.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace a3b {

inline constexpr std::string_view kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
inline constexpr std::string_view kQwen35Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// The regex GPT-2's ByteLevel pre-tokenizer applies when use_regex is true.
inline constexpr std::string_view kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

struct Span {
  uint32_t begin, end;  // byte offsets
};

class PreTokenizer {
 public:
  enum class Engine { Qwen2, Qwen35, Pcre2 };

  // Picks the native splitter when the pattern is one of the Qwen ones, PCRE2 otherwise. Throws Error if PCRE2
  // cannot compile the pattern.
  explicit PreTokenizer(std::string regex);
  // Always PCRE2 (tests compare it with the native splitters).
  static PreTokenizer with_pcre2(std::string regex);

  // Appends the pieces of text (well-formed UTF-8) to out, offsets relative to text, covering all of it.
  void split(std::string_view text, std::vector<Span>& out) const;

  Engine engine() const { return engine_; }
  const std::string& regex() const { return regex_; }

 private:
  struct Pcre2;
  PreTokenizer(std::string regex, Engine engine);

  std::string regex_;
  Engine engine_;
  std::shared_ptr<const Pcre2> pcre2_;  // compiled pattern (immutable, shared by copies)
};

}  // namespace a3b
