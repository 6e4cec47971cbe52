// Byte-level BPE on one pre-tokenized piece: the piece's bytes start as one symbol each (GPT-2's byte alphabet),
// then the adjacent pair with the lowest merge rank is merged, leftmost first among equal ranks, until no pair
// has a merge. Results are cached per thread, keyed by the piece's bytes.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "tokenizer/flat_map.h"

namespace a3b {

// GPT-2's bytes_to_unicode: the printable character each byte is written as inside a byte-level vocabulary.
uint32_t byte_to_char(uint8_t b);
// The inverse; -1 for a character that stands for no byte.
int byte_of_char(uint32_t cp);

class Bpe {
 public:
  struct Merge {
    int32_t left, right, merged;
  };
  // byte_ids[b]: id of the symbol for byte b, -1 if the vocabulary lacks it (such a byte becomes unk when
  // there is one, as in HF, and is dropped otherwise; fuse_unk joins adjacent unks). merges in rank order.
  Bpe(std::array<int32_t, 256> byte_ids, const std::vector<Merge>& merges, std::optional<int32_t> unk, bool fuse_unk);

  // Appends the ids of one piece (its raw bytes, not the byte-alphabet spelling).
  void encode(std::string_view piece, std::vector<int32_t>& out) const;

 private:
  void merge(std::string_view piece, std::vector<int32_t>& out) const;

  std::array<int32_t, 256> byte_ids_;
  PairMap merges_;
  std::optional<int32_t> unk_;
  bool fuse_unk_;
  uint64_t cache_owner_;  // unique per Bpe, so a thread's cache never serves another vocabulary
};

}  // namespace a3b
