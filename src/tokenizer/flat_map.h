// Open-addressing hash tables for the tokenizer's hot paths: no allocation per entry, linear probing over a
// power-of-two slot array.
//   StringTable: interned strings (one arena) <-> dense indices 0..n-1.
//   PairMap:     (id, id) -> (merge rank, merged id).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace a3b {

inline uint64_t mix64(uint64_t x) {  // splitmix64 finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

class StringTable {
 public:
  size_t size() const { return offsets_.size() - 1; }
  size_t bytes() const { return arena_.size(); }
  std::string_view at(uint32_t index) const {
    return {arena_.data() + offsets_[index], offsets_[index + 1] - offsets_[index]};
  }

  void reserve(size_t n, size_t total_bytes) {
    offsets_.reserve(n + 1);
    arena_.reserve(total_bytes);
    if (2 * n > slots_.size()) rehash(n);
  }

  std::optional<uint32_t> find(std::string_view s) const { return find(s, hash(s)); }

  // Index of s, adding it if new; `added` tells which.
  uint32_t intern(std::string_view s, bool* added = nullptr) {
    const uint64_t h = hash(s);
    if (auto i = find(s, h)) {
      if (added) *added = false;
      return *i;
    }
    if (2 * (size() + 1) > slots_.size()) rehash(size() + 1);
    const uint32_t index = uint32_t(size());
    arena_.append(s);
    offsets_.push_back(uint32_t(arena_.size()));
    place(h, index);
    if (added) *added = true;
    return index;
  }

  void clear() {
    arena_.clear();
    offsets_.assign(1, 0);
    slots_.assign(slots_.size(), Slot{});
  }

 private:
  struct Slot {
    uint32_t hash = 0;
    uint32_t index_plus1 = 0;  // 0 = empty
  };

  static uint64_t hash(std::string_view s) { return std::hash<std::string_view>{}(s); }

  std::optional<uint32_t> find(std::string_view s, uint64_t h) const {
    if (slots_.empty()) return std::nullopt;
    const size_t mask = slots_.size() - 1;
    for (size_t i = size_t(h) & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots_[i];
      if (slot.index_plus1 == 0) return std::nullopt;
      if (slot.hash == uint32_t(h >> 32) && at(slot.index_plus1 - 1) == s) return slot.index_plus1 - 1;
    }
  }

  void place(uint64_t h, uint32_t index) {
    const size_t mask = slots_.size() - 1;
    size_t i = size_t(h) & mask;
    while (slots_[i].index_plus1 != 0) i = (i + 1) & mask;
    slots_[i] = {uint32_t(h >> 32), index + 1};
  }

  void rehash(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    slots_.assign(cap, Slot{});
    for (uint32_t k = 0; k < size(); ++k) place(hash(at(k)), k);
  }

  std::string arena_;
  std::vector<uint32_t> offsets_{0};
  std::vector<Slot> slots_;
};

class PairMap {
 public:
  struct Value {
    int32_t rank;
    int32_t merged;
  };

  void reserve(size_t n) {
    if (2 * n > slots_.size()) rehash(n);
  }

  // Later inserts of the same pair replace earlier ones.
  void insert(int32_t a, int32_t b, Value v) {
    if (2 * (size_ + 1) > slots_.size()) rehash(size_ + 1);
    const uint64_t key = make_key(a, b);
    Slot& s = slots_[probe(key)];
    if (s.key == kEmpty) ++size_;
    s = {key, v};
  }

  const Value* find(int32_t a, int32_t b) const {
    if (slots_.empty()) return nullptr;
    const Slot& s = slots_[probe(make_key(a, b))];
    return s.key == kEmpty ? nullptr : &s.value;
  }

  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = ~0ull;
  struct Slot {
    uint64_t key = kEmpty;
    Value value{};
  };

  static uint64_t make_key(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }

  size_t probe(uint64_t key) const {  // slot holding key, or the empty slot where it would go
    const size_t mask = slots_.size() - 1;
    size_t i = size_t(mix64(key)) & mask;
    while (slots_[i].key != kEmpty && slots_[i].key != key) i = (i + 1) & mask;
    return i;
  }

  void rehash(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    std::vector<Slot> old(cap);
    old.swap(slots_);
    for (const Slot& s : old)
      if (s.key != kEmpty) slots_[probe(s.key)] = s;
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace a3b
