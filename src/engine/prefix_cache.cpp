#include "engine/prefix_cache.h"

#include <algorithm>

namespace a3b {

std::unique_ptr<SequenceState> PrefixCache::lookup(std::span<const int32_t> prompt, Model& model, int64_t* matched) {
  *matched = 0;
  auto best = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    const auto& t = it->tokens;
    if (t.size() < prompt.size() && int64_t(t.size()) > *matched && std::equal(t.begin(), t.end(), prompt.begin())) {
      best = it;
      *matched = int64_t(t.size());
    }
  }
  if (best == entries_.end()) return nullptr;
  entries_.splice(entries_.begin(), entries_, best);
  return model.clone_sequence(*best->state);
}

void PrefixCache::insert(std::vector<int32_t> tokens, std::unique_ptr<SequenceState> state) {
  if (tokens.empty() || !state) return;
  const int64_t b = state->bytes();
  if (b > capacity_) return;
  // An identical sequence replaces the older copy.
  for (auto it = entries_.begin(); it != entries_.end(); ++it)
    if (it->tokens == tokens) {
      bytes_ -= it->bytes;
      entries_.erase(it);
      break;
    }
  entries_.push_front({std::move(tokens), std::move(state), b});
  bytes_ += b;
  while (bytes_ > capacity_) {
    bytes_ -= entries_.back().bytes;
    entries_.pop_back();
  }
}

}  // namespace a3b
