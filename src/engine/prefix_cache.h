// Reuse of work across requests that share a prompt prefix (agent turns resend the whole
// conversation). The model is a hybrid: DeltaNet state cannot be rolled back, so the cache keeps
// whole-sequence snapshots at exact lengths (the end of each finished request) rather than KV
// blocks, and a request resumes from the longest snapshot that is a prefix of its prompt.
#pragma once
#include <cstdint>
#include <list>
#include <memory>
#include <span>
#include <vector>

#include "model/model.h"

namespace a3b {

class PrefixCache {
 public:
  explicit PrefixCache(int64_t capacity_bytes) : capacity_(capacity_bytes) {}

  // The longest snapshot whose tokens are a strict prefix of `prompt` (at least one prompt token
  // must remain to produce logits), cloned so the cache keeps its copy. Null if none.
  std::unique_ptr<SequenceState> lookup(std::span<const int32_t> prompt, Model& model, int64_t* matched);

  // Keeps `state`, which has consumed exactly `tokens`; evicts least recently used snapshots.
  void insert(std::vector<int32_t> tokens, std::unique_ptr<SequenceState> state);

  int64_t bytes() const { return bytes_; }
  size_t entries() const { return entries_.size(); }

 private:
  struct Entry {
    std::vector<int32_t> tokens;
    std::unique_ptr<SequenceState> state;
    int64_t bytes;
  };
  std::list<Entry> entries_;  // most recently used first
  int64_t capacity_, bytes_ = 0;
};

}  // namespace a3b
