// Shared helpers for the unit tests: fixture paths, temporary folders, golden data.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cpu/cpu_model.h"
#include "formats/model_file.h"
#include "tokenizer/utf8.h"

namespace a3b::test {

namespace fs = std::filesystem;

// tests/fixtures; A3B_FIXTURES in the environment wins (the GPU machine has another layout).
inline std::string fixtures_dir() {
  const char* env = std::getenv("A3B_FIXTURES");
  return env && *env ? env : A3B_FIXTURES;
}
inline std::string fixture(const std::string& name) { return fixtures_dir() + "/" + name; }
// Logits for every position of `tokens` in one prefill of the model at `path` (folder or GGUF)
// on the CPU engine.
inline std::vector<float> prefill_logits(const std::string& path, std::span<const int32_t> tokens) {
  CpuModel m(load_model_weights(path), 2);
  auto seq = m.new_sequence();
  std::vector<float> out(tokens.size() * size_t(m.config().vocab_size));
  BatchItem item{seq.get(), tokens, true};
  m.forward({&item, 1}, out.data());
  return out;
}

// models/default; A3B_DEFAULT_MODEL in the environment wins (as for fixtures).
inline std::string default_model_dir() {
  const char* env = std::getenv("A3B_DEFAULT_MODEL");
  return env && *env ? env : std::string(A3B_SOURCE_DIR) + "/models/default";
}

inline std::string a3b_binary() {
  const char* env = std::getenv("A3B_BINARY");
  return env && *env ? env : A3B_BINARY;
}

// A fresh folder under the system temp dir, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("a3b-test-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string path() const { return path_.string(); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

inline nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_file(path)); }

struct Golden {
  std::vector<int32_t> prompt, greedy;
  std::vector<float> prefill, decode;  // [len(prompt), V], [len(greedy) - 1, V]
  int64_t vocab = 0;
};

Golden load_golden(const std::string& fixture_dir);

// sqrt(Σ (a - ref)²) / sqrt(Σ ref²)
inline double relative_rms(const std::vector<float>& a, const std::vector<float>& ref) {
  double err = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    err += (double(a[i]) - ref[i]) * (double(a[i]) - ref[i]);
    norm += double(ref[i]) * ref[i];
  }
  return std::sqrt(err / norm);
}

// s with invalid UTF-8 replaced by U+FFFD, as a Python str would decode it.
inline std::string lossy_utf8(std::string_view s) {
  std::string out;
  utf8_append_lossy(out, s);
  return out;
}

inline int32_t argmax(const float* x, int64_t n) { return int32_t(std::max_element(x, x + n) - x); }

// max |a - b| over max |b|
double max_rel_diff(const float* a, const float* b, size_t n);

// Runs a shell command; returns its exit status and fills `output` with stdout+stderr.
int run_command(const std::string& cmd, std::string* output);

}  // namespace a3b::test
