#include "tokenizer/tokenizer.h"

#include "formats/gguf_model.h"

#include <filesystem>

#include "core/error.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"
#include "tokenizer/flat_map.h"
#include "tokenizer/load_hf.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace a3b {

namespace {

enum TokenFlags : uint8_t { kExists = 1, kAdded = 2, kSpecial = 4 };

// The bytes a token stands for: a spelling made only of byte-alphabet characters maps back to those bytes;
// anything else (an added token with a space, a non-byte-level vocabulary) is its own UTF-8. This is HF's
// ByteLevel decoder, which also applies to added tokens.
void append_token_bytes(std::string& out, std::string_view spelling) {
  const size_t start = out.size();
  for (size_t i = 0; i < spelling.size();) {
    const uint8_t lead = uint8_t(spelling[i]);
    int b;
    if (lead < 0x80) {  // printable ASCII stands for itself
      b = byte_of_char(lead);
      i += 1;
    } else if (lead >= 0xC2 && lead <= 0xC5 && i + 1 < spelling.size()) {  // U+0080..U+017F: the rest of the alphabet
      b = byte_of_char(uint32_t(lead & 0x1F) << 6 | (uint8_t(spelling[i + 1]) & 0x3F));
      if ((uint8_t(spelling[i + 1]) & 0xC0) != 0x80) b = -1;
      i += 2;
    } else {
      b = -1;
    }
    if (b < 0) {
      out.resize(start);
      out.append(spelling);
      return;
    }
    out += char(b);
  }
}

constexpr int64_t kMaxVocab = int64_t(1) << 26;  // far above any real vocabulary; guards against absurd ids

}  // namespace

struct Tokenizer::Impl {
  std::string source;
  StringTable vocab;               // vocabulary spellings; vocab_ids[k] is the id of spelling k
  std::vector<int32_t> vocab_ids;
  StringTable added_index;         // added-token contents; added[k] is the token of content k
  std::vector<AddedToken> added;
  std::vector<uint8_t> flags;      // TokenFlags per id
  std::string bytes;               // decoded bytes of every id, back to back
  std::vector<uint32_t> bytes_end;  // id's bytes are bytes[bytes_end[id-1], bytes_end[id])
  AddedTokenMatcher raw_matcher, normalized_matcher;
  Normalization normalization;
  PreTokenizer pre_tokenizer;
  Bpe bpe;
  bool ignore_merges;
  std::optional<int32_t> bos_id, eos_id, pad_id;
  std::optional<std::string> chat_template;

  Impl(PreTokenizer pre, Bpe b) : pre_tokenizer(std::move(pre)), bpe(std::move(b)) {}

  std::string_view token_bytes(int32_t id) const {
    if (id < 0 || size_t(id) >= flags.size()) return {};
    const uint32_t begin = id ? bytes_end[size_t(id) - 1] : 0;
    return std::string_view(bytes).substr(begin, bytes_end[size_t(id)] - begin);
  }

  void encode_pieces(std::string_view text, std::vector<int32_t>& out) const;
  void encode_segment(std::string_view text, bool parse_special, std::vector<int32_t>& out) const;
};

// ---------------------------------------------------------------------------------------------------------------
// Construction

Tokenizer Tokenizer::from_spec(TokenizerSpec spec) {
  const std::string& src = spec.source;
  if (int64_t(spec.tokens.size()) > kMaxVocab) fail(src, ": vocabulary of ", spec.tokens.size(), " tokens is too big");

  // Vocabulary spellings -> ids.
  StringTable vocab;
  std::vector<int32_t> vocab_ids;
  size_t spelled_bytes = 0;
  for (auto& t : spec.tokens) spelled_bytes += t.size();
  vocab.reserve(spec.tokens.size(), spelled_bytes);
  vocab_ids.reserve(spec.tokens.size());
  for (size_t id = 0; id < spec.tokens.size(); ++id) {
    if (spec.tokens[id].empty()) continue;
    bool added = false;
    const uint32_t k = vocab.intern(spec.tokens[id], &added);
    if (added) vocab_ids.push_back(int32_t(id));
    else vocab_ids[k] = int32_t(id);  // a repeated spelling: the last id wins, as in a JSON object or llama.cpp
  }
  auto vocab_id = [&](std::string_view s) -> std::optional<int32_t> {
    if (auto k = vocab.find(s)) return vocab_ids[*k];
    return std::nullopt;
  };

  // The 256 byte symbols and the merges, as ids.
  std::array<int32_t, 256> byte_ids;
  for (int b = 0; b < 256; ++b) {
    std::string spelled;
    utf8_append(spelled, byte_to_char(uint8_t(b)));
    byte_ids[size_t(b)] = vocab_id(spelled).value_or(-1);
  }
  std::vector<Bpe::Merge> merges;
  merges.reserve(spec.merges.size());
  std::string joined;
  for (size_t rank = 0; rank < spec.merges.size(); ++rank) {
    const auto& [left, right] = spec.merges[rank];
    joined.assign(left).append(right);
    auto l = vocab_id(left), r = vocab_id(right), m = vocab_id(joined);
    if (!l || !r || !m)
      fail(src, ": merge ", rank, " ('", left, "' '", right, "'): '", !l ? left : !r ? right : joined,
           "' is not in the vocabulary");
    merges.push_back({*l, *r, *m});
  }
  if (!spec.unk_id && spec.unk_token) {
    spec.unk_id = vocab_id(*spec.unk_token);
    if (!spec.unk_id) fail(src, ": the unknown token '", *spec.unk_token, "' is not in the vocabulary");
  }
  if (spec.unk_id && (*spec.unk_id < 0 || size_t(*spec.unk_id) >= spec.tokens.size() || spec.tokens[size_t(*spec.unk_id)].empty()))
    fail(src, ": the unknown token id ", *spec.unk_id, " is not in the vocabulary");

  std::optional<PreTokenizer> pre;
  try {
    pre.emplace(spec.pre_tokenizer_regex);
  } catch (const Error& e) {
    fail(src, ": ", e.what());
  }
  auto impl = std::make_shared<Impl>(std::move(*pre), Bpe(byte_ids, merges, spec.unk_id, spec.fuse_unk));
  Impl& t = *impl;
  t.source = spec.source;
  t.normalization = spec.normalization;
  t.ignore_merges = spec.ignore_merges;

  // Added tokens. Without an id, a token gets the id of the same text already added or in the vocabulary, else
  // the next free id after the vocabulary and the added tokens so far (HF AddedVocabulary::add_tokens, which
  // ignores the ids written in tokenizer.json).
  const int64_t vocab_count = int64_t(vocab.size());
  int64_t max_added = -1;
  int64_t n_ids = int64_t(spec.tokens.size());
  for (AddedToken a : spec.added_tokens) {
    if (a.content.empty()) fail(src, ": an added token has empty content");
    if (!utf8_valid(a.content)) fail(src, ": added token ", a.id, " is not valid UTF-8");
    const std::optional<uint32_t> seen = t.added_index.find(a.content);
    if (a.id < 0) {
      if (seen) a.id = t.added[*seen].id;
      else if (auto v = vocab_id(a.content)) a.id = *v;
      else a.id = int32_t(max_added >= vocab_count ? max_added + 1 : vocab_count);
    }
    if (a.id >= kMaxVocab) fail(src, ": added token '", a.content, "' has id ", a.id, " out of range");
    max_added = std::max(max_added, int64_t(a.id));
    n_ids = std::max(n_ids, int64_t(a.id) + 1);
    if (seen) t.added[*seen] = a;  // a repeated content: the later entry wins, as in HF
    else t.added_index.intern(a.content), t.added.push_back(a);
  }
  t.flags.assign(size_t(n_ids), 0);
  for (size_t id = 0; id < spec.tokens.size(); ++id)
    if (!spec.tokens[id].empty()) t.flags[id] = kExists;
  for (const AddedToken& a : t.added) {
    t.flags[size_t(a.id)] = uint8_t(kExists | kAdded | (a.special ? kSpecial : 0));
    if (a.normalized && t.normalization == Normalization::NFC)
      t.normalized_matcher.add(a, to_nfc(a.content));
    else if (a.normalized)
      t.normalized_matcher.add(a, a.content);
    else
      t.raw_matcher.add(a, a.content);
  }

  // Decoded bytes per id; an added token wins over a vocabulary token with the same id.
  std::vector<std::string_view> spelling(static_cast<size_t>(n_ids));
  for (size_t id = 0; id < spec.tokens.size(); ++id) spelling[id] = spec.tokens[id];
  for (const AddedToken& a : t.added) spelling[size_t(a.id)] = a.content;
  t.bytes.reserve(spelled_bytes);
  t.bytes_end.resize(size_t(n_ids));
  for (size_t id = 0; id < size_t(n_ids); ++id) {
    append_token_bytes(t.bytes, spelling[id]);
    t.bytes_end[id] = uint32_t(t.bytes.size());
  }

  auto resolve = [&](std::optional<int32_t> id, const std::optional<std::string>& content,
                     const char* what) -> std::optional<int32_t> {
    if (!id && content) {
      if (auto k = t.added_index.find(*content)) id = t.added[*k].id;
      else id = vocab_id(*content);
      if (!id) fail(src, ": ", what, " token '", *content, "' is not a token");
    }
    if (id && (*id < 0 || *id >= n_ids || !t.flags[size_t(*id)])) fail(src, ": ", what, " id ", *id, " names no token");
    return id;
  };
  t.bos_id = resolve(spec.bos_id, spec.bos_token, "bos");
  t.eos_id = resolve(spec.eos_id, spec.eos_token, "eos");
  t.pad_id = resolve(spec.pad_id, spec.pad_token, "pad");
  t.chat_template = std::move(spec.chat_template);
  t.vocab = std::move(vocab);  // last: vocab_id() reads the local tables
  t.vocab_ids = std::move(vocab_ids);
  return Tokenizer(std::move(impl));
}

bool Tokenizer::exists_at(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return true;
  const fs::path dir(path);
  return fs::is_regular_file(dir / "tokenizer.json", ec) ||
         (fs::is_regular_file(dir / "vocab.json", ec) && fs::is_regular_file(dir / "merges.txt", ec));
}

Tokenizer Tokenizer::load(const std::string& path) {
  if (is_gguf_path(path)) return from_spec(load_gguf_tokenizer(path));
  return from_spec(load_hf_tokenizer(path));
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding

void Tokenizer::Impl::encode_pieces(std::string_view text, std::vector<int32_t>& out) const {
  thread_local std::vector<Span> pieces;
  pieces.clear();
  pre_tokenizer.split(text, pieces);
  std::string spelled;
  for (const Span& s : pieces) {
    const std::string_view piece = text.substr(s.begin, s.end - s.begin);
    if (ignore_merges) {
      spelled.clear();
      for (char ch : piece) utf8_append(spelled, byte_to_char(uint8_t(ch)));
      if (auto k = vocab.find(spelled)) {
        out.push_back(vocab_ids[*k]);
        continue;
      }
    }
    bpe.encode(piece, out);
  }
}

void Tokenizer::Impl::encode_segment(std::string_view text, bool parse_special, std::vector<int32_t>& out) const {
  std::string normalized;
  if (normalization == Normalization::NFC && normalize_nfc(text, normalized)) text = normalized;
  if (normalized_matcher.empty()) return encode_pieces(text, out);
  std::vector<AddedTokenMatcher::Part> parts;
  normalized_matcher.split(text, parse_special, parts);
  for (const auto& p : parts) {
    if (p.id >= 0) out.push_back(p.id);
    else encode_pieces(p.text, out);
  }
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special) const {
  std::string repaired;
  if (!utf8_valid(text)) {
    utf8_append_lossy(repaired, text);
    text = repaired;
  }
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  std::vector<AddedTokenMatcher::Part> parts;
  impl_->raw_matcher.split(text, parse_special, parts);
  for (const auto& p : parts) {
    if (p.id >= 0) out.push_back(p.id);
    else impl_->encode_segment(p.text, parse_special, out);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding and lookups

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string raw;
  for (int32_t id : ids) {
    if (skip_special && is_special(id)) continue;
    raw.append(impl_->token_bytes(id));
  }
  if (utf8_valid(raw)) return raw;
  std::string text;
  utf8_append_lossy(text, raw);
  return text;
}

std::optional<int32_t> Tokenizer::token_id(std::string_view token) const {
  if (auto k = impl_->added_index.find(token)) return impl_->added[*k].id;
  if (auto k = impl_->vocab.find(token)) return impl_->vocab_ids[*k];
  return std::nullopt;
}

std::string Tokenizer::token_text(int32_t id) const {
  if (id < 0 || id >= vocab_size() || !impl_->flags[size_t(id)])
    fail(impl_->source, ": token id ", id, " names no token (vocabulary size ", vocab_size(), ")");
  return std::string(impl_->token_bytes(id));
}

std::string_view Tokenizer::token_bytes(int32_t id) const { return impl_->token_bytes(id); }

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && size_t(id) < impl_->flags.size() && (impl_->flags[size_t(id)] & kSpecial);
}
bool Tokenizer::is_added(int32_t id) const {
  return id >= 0 && size_t(id) < impl_->flags.size() && (impl_->flags[size_t(id)] & kAdded);
}
int64_t Tokenizer::vocab_size() const { return int64_t(impl_->flags.size()); }
std::optional<int32_t> Tokenizer::bos_id() const { return impl_->bos_id; }
std::optional<int32_t> Tokenizer::eos_id() const { return impl_->eos_id; }
std::optional<int32_t> Tokenizer::pad_id() const { return impl_->pad_id; }
std::optional<std::string> Tokenizer::chat_template() const { return impl_->chat_template; }
const std::vector<AddedToken>& Tokenizer::added_tokens() const { return impl_->added; }
const std::string& Tokenizer::pre_tokenizer_regex() const { return impl_->pre_tokenizer.regex(); }
const std::string& Tokenizer::source() const { return impl_->source; }

std::string_view Tokenizer::pre_tokenizer_engine() const {
  switch (impl_->pre_tokenizer.engine()) {
    case PreTokenizer::Engine::Qwen2: return "qwen2";
    case PreTokenizer::Engine::Qwen35: return "qwen35";
    case PreTokenizer::Engine::Pcre2: return "pcre2";
  }
  return "";
}

// ---------------------------------------------------------------------------------------------------------------
// Streaming

StreamDecoder::StreamDecoder(const Tokenizer& tok, bool skip_special) : tok_(tok), skip_special_(skip_special) {}

std::string StreamDecoder::push(int32_t id) {
  std::string out;
  if (skip_special_ && tok_.is_special(id)) return out;
  pending_.append(tok_.token_bytes(id));
  const size_t hold = utf8_incomplete_tail(pending_);
  utf8_append_lossy(out, std::string_view(pending_).substr(0, pending_.size() - hold));
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  utf8_append_lossy(out, pending_);
  pending_.clear();
  return out;
}

}  // namespace a3b
