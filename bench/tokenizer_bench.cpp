// Tokenizer benchmark: load time, and single-threaded encode/decode throughput on a corpus (JSONL, one document
// per line), timed inside the process (process start and file reading excluded): the documents joined by "\n" as
// one input, and each document as its own call. bench/tokenizer_bench.sh runs it next to HF tokenizers.
//
//   build/a3b_tokenizer_bench TOKENIZER CORPUS_JSONL [REPS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "core/error.h"
#include <nlohmann/json.hpp>

#include "core/mapped_file.h"
#include "tokenizer/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s TOKENIZER CORPUS_JSONL [REPS]\n", argv[0]);
    return 2;
  }
  const int reps = argc > 3 ? std::max(1, std::atoi(argv[3])) : 5;
  try {
    std::vector<double> loads;
    for (int i = 0; i < reps; ++i) {
      auto t0 = Clock::now();
      a3b::Tokenizer t = a3b::Tokenizer::load(argv[1]);
      loads.push_back(ms_since(t0));
    }
    const a3b::MappedFile file(argv[2]);
    const std::string_view jsonl(reinterpret_cast<const char*>(file.data()), file.size());
    std::vector<std::string> docs;
    std::string text;
    for (size_t pos = 0; pos < jsonl.size();) {
      size_t end = std::min(jsonl.find('\n', pos), jsonl.size());
      if (end > pos) {
        docs.push_back(nlohmann::json::parse(jsonl.substr(pos, end - pos)).get<std::string>());
        text += (text.empty() && docs.size() == 1 ? "" : "\n") + docs.back();
      }
      pos = end + 1;
    }
    const double mb = double(text.size()) / 1e6;

    // Cold: a fresh tokenizer, so no piece is cached yet (the cache belongs to the tokenizer instance).
    std::vector<double> cold, warm, decode, stream, per_doc;
    std::vector<int32_t> ids;
    for (int i = 0; i < reps; ++i) {
      a3b::Tokenizer t = a3b::Tokenizer::load(argv[1]);
      auto t0 = Clock::now();
      ids = t.encode(text);
      cold.push_back(ms_since(t0));
      t0 = Clock::now();
      ids = t.encode(text);
      warm.push_back(ms_since(t0));
      t0 = Clock::now();
      std::string back = t.decode(ids);
      decode.push_back(ms_since(t0));
      t0 = Clock::now();
      a3b::StreamDecoder s(t);
      size_t n = 0;
      for (int32_t id : ids) n += s.push(id).size();
      n += s.flush().size();
      stream.push_back(ms_since(t0));
      if (back.size() != n) a3b::fail("stream and decode disagree");
      a3b::Tokenizer fresh = a3b::Tokenizer::load(argv[1]);
      t0 = Clock::now();
      size_t count = 0;
      for (const std::string& d : docs) count += fresh.encode(d).size();
      per_doc.push_back(ms_since(t0));
      if (count == 0) a3b::fail("no tokens");
    }
    std::printf("a3b  %-26s %8.1f ms (median of %d; min %.1f)\n", "load", median(loads), reps,
                *std::min_element(loads.begin(), loads.end()));
    std::printf("a3b  %-26s %8.1f ms  %6.2f MB/s  (%zu bytes -> %zu tokens)\n", "encode, cold cache", median(cold),
                mb / median(cold) * 1e3, text.size(), ids.size());
    std::printf("a3b  %-26s %8.1f ms  %6.2f MB/s\n", "encode, warm cache", median(warm), mb / median(warm) * 1e3);
    std::printf("a3b  %-26s %8.1f ms  %6.2f MB/s  (%zu calls)\n", "encode per document, cold", median(per_doc),
                mb / median(per_doc) * 1e3, docs.size());
    std::printf("a3b  %-26s %8.1f ms\n", "decode", median(decode));
    std::printf("a3b  %-26s %8.1f ms\n", "stream decode (per id)", median(stream));
  } catch (const a3b::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
