// The backend-neutral face of a loaded model: sequences with their own state, and one forward
// call that advances any number of them together (continuous batching builds on this).
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "model/config.h"

namespace a3b {

// Everything a sequence carries between calls: KV cache of the attention layers, conv and
// recurrent state of the DeltaNet layers. Owned by the caller, created by the model.
class SequenceState {
 public:
  virtual ~SequenceState() = default;
  virtual int64_t bytes() const = 0;  // memory the state holds now
  int64_t n_past = 0;  // tokens consumed so far = position of the next token
};

struct BatchItem {
  SequenceState* seq = nullptr;
  std::span<const int32_t> tokens;  // appended at positions seq->n_past, n_past + 1, ...
  bool all_logits = false;          // logits for every token, or only for the last one
};

struct ForwardOptions {
  bool chunked_deltanet = true;     // prefill DeltaNet in chunks of 64 (false: token by token)
};

class Model {
 public:
  virtual ~Model() = default;
  virtual const ModelConfig& config() const = 0;
  virtual std::string backend() const = 0;
  virtual std::unique_ptr<SequenceState> new_sequence() = 0;
  // A copy that continues independently (prefix cache, n > 1 choices).
  virtual std::unique_ptr<SequenceState> clone_sequence(const SequenceState& s) = 0;

  // Runs every item's tokens; writes float32 logits [rows, vocab] for the rows each item asks
  // for (all its tokens or its last), items in order. Throws Error on a token outside the vocabulary.
  virtual void forward(std::span<const BatchItem> batch, float* logits) = 0;

  ForwardOptions options;

  static int64_t logit_rows(std::span<const BatchItem> batch) {
    int64_t n = 0;
    for (auto& b : batch) n += b.all_logits ? int64_t(b.tokens.size()) : (b.tokens.empty() ? 0 : 1);
    return n;
  }
};

}  // namespace a3b
