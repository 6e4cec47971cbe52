// A qwen35moe GGUF model (llama.cpp's layout, docs/gguf.md sections 3-5) -> ModelWeights, config,
// tokenizer data. Weights stay in the mapped file in their stored (possibly quantized) type.
// Differences from the HF layout that the loader keeps rather than undoes: norms are already 1+w,
// ssm_a is already -exp(A_log), and the linear-attention V heads are tiled (DeltaNetWeights::
// v_heads_tiled). An MTP block (the last nextn_predict_layers blocks) is recognised and skipped.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "model/weights.h"
#include "tokenizer/spec.h"

namespace a3b {

bool is_gguf_path(const std::string& path);

// The shards of a split model ("name-00001-of-00003.gguf"; any shard may be given), or just
// `path`. Throws Error when a shard is missing.
std::vector<std::string> gguf_shard_paths(const std::string& path);

// One model's GGUF files, opened and cross-checked (split.count, duplicate tensors).
class GgufModelFiles {
 public:
  explicit GgufModelFiles(const std::string& path);
  const GgufFile& metadata() const { return files_.front(); }  // shard 1 carries the metadata
  const GgufTensor* find(const std::string& name) const;
  const std::string& file_of(const GgufTensor& t) const;  // for messages
  const std::vector<GgufFile>& files() const { return files_; }

 private:
  std::vector<GgufFile> files_;
  std::map<std::string, std::pair<size_t, const GgufTensor*>> tensors_;
};

ModelConfig gguf_model_config(const GgufFile& f, const GgufTensor* token_embd, bool has_output);
ModelWeights load_gguf_model(const std::string& path);

// tokenizer.ggml.* and tokenizer.chat_template (model must be "gpt2", byte-level BPE).
GgufTokenizerData gguf_tokenizer_data(const GgufFile& f);
TokenizerSpec load_gguf_tokenizer(const std::string& path);  // shard 1 of `path`'s model

// general.sampling.{temp,top_p,top_k} when present (what the model's authors recommend).
struct GgufSamplingDefaults {
  std::optional<float> temperature, top_p;
  std::optional<int> top_k;
};
GgufSamplingDefaults gguf_sampling_defaults(const GgufFile& f);

}  // namespace a3b
