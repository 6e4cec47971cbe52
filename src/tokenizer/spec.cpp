#include "tokenizer/spec.h"

#include "core/error.h"
#include "tokenizer/pretokenizer.h"

namespace a3b {

TokenizerSpec spec_from_gguf(const GgufTokenizerData& g) {
  enum TokenType { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };
  TokenizerSpec spec;
  spec.source = g.source;
  if (g.pre == "qwen35") spec.pre_tokenizer_regex = std::string(kQwen35Regex);
  else if (g.pre == "qwen2") spec.pre_tokenizer_regex = std::string(kQwen2Regex);
  else fail(g.source, ": tokenizer.ggml.pre \"", g.pre, "\" is not supported (qwen2, qwen35)");
  spec.normalization = Normalization::NFC;
  if (!g.token_types.empty() && g.token_types.size() != g.tokens.size())
    fail(g.source, ": tokenizer.ggml.token_type has ", g.token_types.size(), " entries for ", g.tokens.size(), " tokens");

  spec.tokens.resize(g.tokens.size());
  for (size_t id = 0; id < g.tokens.size(); ++id) {
    const int type = g.token_types.empty() ? kNormal : g.token_types[id];
    if (type == kControl || type == kUserDefined) {
      AddedToken a;
      a.id = int32_t(id);
      a.content = g.tokens[id];
      a.special = type == kControl;
      spec.added_tokens.push_back(std::move(a));
    } else if (type != kUnused) {  // unused: padding ids, which decode to nothing as in HF
      spec.tokens[id] = g.tokens[id];
    }
  }
  spec.merges.reserve(g.merges.size());
  for (size_t rank = 0; rank < g.merges.size(); ++rank) {
    const std::string& m = g.merges[rank];
    const size_t space = m.find(' ');
    if (space == std::string::npos) fail(g.source, ": tokenizer.ggml.merges[", rank, "] is not \"left right\"");
    spec.merges.push_back({m.substr(0, space), m.substr(space + 1)});
  }
  spec.bos_id = g.bos_id;
  spec.eos_id = g.eos_id;
  spec.pad_id = g.pad_id;
  spec.unk_id = g.unk_id;
  spec.chat_template = g.chat_template;
  return spec;
}

}  // namespace a3b
