// The vocabulary model, independent of the file it came from. Loaders fill a TokenizerSpec (HF tokenizer.json
// [+ tokenizer_config.json], vocab.json + merges.txt, GGUF tokenizer.ggml.* metadata) and Tokenizer::from_spec
// builds the fast structures from it.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace a3b {

// A token matched in raw text before normalization and pre-tokenization (HF "added token").
struct AddedToken {
  int32_t id = -1;           // < 0: assigned as HF's AddedVocabulary does (see Tokenizer::from_spec)
  std::string content;
  bool special = false;      // skipped by decode(skip_special); left as text by encode(parse_special=false)
  bool lstrip = false;       // the match swallows whitespace on its left
  bool rstrip = false;       // ... and on its right
  bool normalized = false;   // matched in normalized text instead of raw text
  bool single_word = false;  // only matched when not inside a word
};

enum class Normalization { None, NFC };

struct TokenizerSpec {
  std::string source;  // file or folder, for messages

  // BPE vocabulary: tokens[id] spelled in GPT-2's byte alphabet; an empty string is a hole (no such id).
  std::vector<std::string> tokens;
  // Merges in rank order, as pairs of token spellings.
  std::vector<std::array<std::string, 2>> merges;
  std::vector<AddedToken> added_tokens;  // ids may lie inside tokens (a vocabulary token made "added") or past it
  std::optional<int32_t> unk_id;
  std::optional<std::string> unk_token;  // used when unk_id is not given
  bool fuse_unk = false;
  bool ignore_merges = false;  // a piece that is a vocabulary token is that token without running merges

  Normalization normalization = Normalization::NFC;
  std::string pre_tokenizer_regex;  // HF Split regex; see pretokenizer.h for which ones run natively

  // By id, or by content (an added token's text or a vocabulary spelling) when the id is not given.
  std::optional<int32_t> bos_id, eos_id, pad_id;
  std::optional<std::string> bos_token, eos_token, pad_token;
  std::optional<std::string> chat_template;
};

// GGUF tokenizer metadata (gguf.md): tokenizer.ggml.model must be "gpt2"; the GGUF reader fills this from
// tokenizer.ggml.{tokens,token_type,merges,pre,bos_token_id,eos_token_id,padding_token_id,unknown_token_id}
// and tokenizer.chat_template.
struct GgufTokenizerData {
  std::vector<std::string> tokens;
  std::vector<int32_t> token_types;  // llama.cpp: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
  std::vector<std::string> merges;   // "left right"
  std::string pre;                   // "qwen2", "qwen35", ...
  std::optional<int32_t> bos_id, eos_id, pad_id, unk_id;
  std::optional<std::string> chat_template;
  std::string source;
};

// Control tokens become special added tokens, user-defined ones non-special added tokens (llama.cpp matches
// both in text). GGUF has no normalizer field: the Qwen pre-tokenizers get NFC, as in the HF files they come
// from. Throws Error on an unknown pre-tokenizer name or inconsistent arrays.
TokenizerSpec spec_from_gguf(const GgufTokenizerData& gguf);

}  // namespace a3b
