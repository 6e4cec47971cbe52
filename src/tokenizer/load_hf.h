// Hugging Face tokenizer files -> TokenizerSpec.
#pragma once
#include <string>

#include "tokenizer/spec.h"

namespace a3b {

// A tokenizer.json file or a model folder (tokenizer.json, else vocab.json + merges.txt), plus
// tokenizer_config.json and chat_template.jinja from the same folder when present.
TokenizerSpec load_hf_tokenizer(const std::string& path);

// The pieces, for tests and other loaders.
TokenizerSpec load_tokenizer_json(const std::string& path);
// vocab.json + merges.txt carry no normalizer or regex: model_type/tokenizer_class decide (see the .cpp).
TokenizerSpec load_vocab_and_merges(const std::string& folder);
// Adds tokenizer_config.json's added_tokens_decoder entries missing from spec, resolves bos/eos/pad tokens and
// takes chat_template.
void apply_tokenizer_config(TokenizerSpec& spec, const std::string& path);

}  // namespace a3b
