#include "tokenizer/bpe.h"

#include <algorithm>
#include <atomic>
#include <functional>

namespace a3b {
namespace {

// bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68 bytes map to U+0100.. in order.
struct ByteAlphabet {
  std::array<uint32_t, 256> to_char{};
  std::array<int16_t, 324> to_byte{};  // every mapped character is below U+0144
  ByteAlphabet() {
    to_byte.fill(-1);
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_char[b] = printable ? b : next++;
      to_byte[to_char[b]] = int16_t(b);
    }
  }
};
const ByteAlphabet kAlphabet;

std::atomic<uint64_t> next_cache_owner{1};

// Per-thread memo of piece -> ids. Cleared when it grows past its budget or serves another Bpe.
struct PieceCache {
  static constexpr size_t kMaxEntries = 1 << 18;
  static constexpr size_t kMaxPieceBytes = 256;
  uint64_t owner = 0;
  StringTable pieces;
  std::vector<int32_t> ids;
  std::vector<uint32_t> ends;  // ids of piece k are ids[ends[k-1] .. ends[k])

  void reset(uint64_t new_owner) {
    owner = new_owner;
    pieces.clear();
    ids.clear();
    ends.clear();
  }
};
thread_local PieceCache piece_cache;

struct Symbol {
  int32_t id;  // -1 once merged into its left neighbour
  int32_t prev, next;
};

struct Candidate {
  int32_t rank, pos;  // pos: index of the pair's left symbol
  bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
};

}  // namespace

uint32_t byte_to_char(uint8_t b) { return kAlphabet.to_char[b]; }

int byte_of_char(uint32_t cp) { return cp < kAlphabet.to_byte.size() ? kAlphabet.to_byte[cp] : -1; }

Bpe::Bpe(std::array<int32_t, 256> byte_ids, const std::vector<Merge>& merges, std::optional<int32_t> unk,
         bool fuse_unk)
    : byte_ids_(byte_ids), unk_(unk), fuse_unk_(fuse_unk), cache_owner_(next_cache_owner++) {
  merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank)
    merges_.insert(merges[rank].left, merges[rank].right, {int32_t(rank), merges[rank].merged});
}

void Bpe::encode(std::string_view piece, std::vector<int32_t>& out) const {
  if (piece.size() == 1 && byte_ids_[uint8_t(piece[0])] >= 0) {
    out.push_back(byte_ids_[uint8_t(piece[0])]);
    return;
  }
  PieceCache& cache = piece_cache;
  if (cache.owner != cache_owner_ || cache.pieces.size() >= PieceCache::kMaxEntries) cache.reset(cache_owner_);
  if (auto k = cache.pieces.find(piece)) {
    const uint32_t begin = *k ? cache.ends[*k - 1] : 0;
    out.insert(out.end(), cache.ids.begin() + begin, cache.ids.begin() + cache.ends[*k]);
    return;
  }
  const size_t first = out.size();
  merge(piece, out);
  if (piece.size() <= PieceCache::kMaxPieceBytes) {
    cache.pieces.intern(piece);
    cache.ids.insert(cache.ids.end(), out.begin() + std::ptrdiff_t(first), out.end());
    cache.ends.push_back(uint32_t(cache.ids.size()));
  }
}

void Bpe::merge(std::string_view piece, std::vector<int32_t>& out) const {
  thread_local std::vector<Symbol> syms;
  thread_local std::vector<Candidate> heap;
  syms.clear();
  heap.clear();
  bool prev_unk = false;
  for (char ch : piece) {
    int32_t id = byte_ids_[uint8_t(ch)];
    if (id < 0) {
      if (!unk_ || (fuse_unk_ && prev_unk)) continue;
      id = *unk_;
    }
    prev_unk = byte_ids_[uint8_t(ch)] < 0;
    const int32_t i = int32_t(syms.size());
    syms.push_back({id, i - 1, i + 1});
  }
  if (syms.empty()) return;
  syms.back().next = -1;

  auto push_pair = [&](int32_t pos) {
    const Symbol& s = syms[size_t(pos)];
    if (s.next < 0) return;
    if (const PairMap::Value* m = merges_.find(s.id, syms[size_t(s.next)].id)) {
      heap.push_back({m->rank, pos});
      std::push_heap(heap.begin(), heap.end(), std::greater<>{});
    }
  };
  for (int32_t i = 0; i + 1 < int32_t(syms.size()); ++i) push_pair(i);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
    const Candidate top = heap.back();
    heap.pop_back();
    Symbol& s = syms[size_t(top.pos)];
    if (s.id < 0 || s.next < 0) continue;
    const PairMap::Value* m = merges_.find(s.id, syms[size_t(s.next)].id);
    if (!m || m->rank != top.rank) continue;  // stale: one side was merged since this pair was queued
    Symbol& right = syms[size_t(s.next)];
    s.id = m->merged;
    s.next = right.next;
    right.id = -1;
    if (s.next >= 0) syms[size_t(s.next)].prev = top.pos;
    if (s.prev >= 0) push_pair(s.prev);
    push_pair(top.pos);
  }
  for (int32_t i = 0; i >= 0; i = syms[size_t(i)].next) out.push_back(syms[size_t(i)].id);
}

}  // namespace a3b
