// Byte-level BPE tokenizer, id-for-id identical to Hugging Face `tokenizers` on Qwen2/3/3.5/3.6 files.
//
// encode: (1) invalid UTF-8 becomes U+FFFD (maximal subparts, as a Python str would get it); (2) added tokens
// are cut out of the raw text, longest match first, leftmost first; (3) each remaining segment is
// NFC-normalized (when the file asks), (4) split by the pre-tokenizer regex, (5) each piece's bytes run through
// BPE. Nothing is prepended or appended (no BOS/EOS): the chat template does that.
//
// decode: the bytes of every token concatenated (vocabulary tokens spelled in GPT-2's byte alphabet are mapped
// back to bytes; added tokens are their text), then ill-formed UTF-8 becomes U+FFFD. Ids that name no token
// (negative, past the vocabulary, holes such as the padding ids 248077..248319 of Qwen3.5) decode to nothing,
// as in HF.
//
// A Tokenizer is immutable and cheap to copy (shared state); encode/decode are safe from many threads.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/spec.h"

namespace a3b {

class Tokenizer {
 public:
  // A tokenizer.json file, a .gguf model (tokenizer.ggml.* metadata), or a model folder holding
  // tokenizer.json or vocab.json + merges.txt.
  // tokenizer_config.json (next to the file / in the folder) adds its added_tokens_decoder entries, the
  // bos/eos/pad tokens and chat_template; chat_template.jinja, when present, wins over the latter.
  // Throws Error naming the file and field on anything it cannot use.
  static Tokenizer load(const std::string& path);
  static Tokenizer from_spec(TokenizerSpec spec);
  // True if path is a tokenizer.json file or a folder with one of the file sets load() reads.
  static bool exists_at(const std::string& path);

  // parse_special=false: special added tokens are plain text; non-special ones (<think>, <tool_call>, ...)
  // are still matched. This is HF's split_special_tokens=True and llama.cpp's parse_special=false.
  std::vector<int32_t> encode(std::string_view text, bool parse_special = true) const;
  std::string decode(std::span<const int32_t> ids, bool skip_special = false) const;

  std::optional<int32_t> token_id(std::string_view token) const;  // added-token text or vocabulary spelling
  std::string token_text(int32_t id) const;  // the token's bytes (maybe partial UTF-8); Error if no such id
  std::string_view token_bytes(int32_t id) const;  // same, as a view; empty for ids that name no token
  bool is_special(int32_t id) const;
  bool is_added(int32_t id) const;
  int64_t vocab_size() const;  // highest id + 1

  std::optional<int32_t> bos_id() const;
  std::optional<int32_t> eos_id() const;
  std::optional<int32_t> pad_id() const;
  std::optional<std::string> chat_template() const;
  const std::vector<AddedToken>& added_tokens() const;
  const std::string& pre_tokenizer_regex() const;
  std::string_view pre_tokenizer_engine() const;  // "qwen2", "qwen35" (native splitters) or "pcre2"
  const std::string& source() const;

  struct Impl;

 private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// Incremental detokenizer: push ids one at a time, get text as soon as it is complete UTF-8. The concatenation
// of everything push() and flush() return equals tok.decode(all ids), for any way the ids arrive.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tok, bool skip_special = false);
  std::string push(int32_t id);  // complete UTF-8 text only; an unfinished sequence waits for the next ids
  std::string flush();           // whatever is left (an unfinished sequence becomes U+FFFD); resets

 private:
  Tokenizer tok_;
  bool skip_special_;
  std::string pending_;  // bytes of an unfinished UTF-8 sequence
};

}  // namespace a3b
