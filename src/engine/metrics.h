// Counters and histograms the engine keeps, rendered as Prometheus text for GET /metrics.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace a3b {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}
  void observe(double v);
  void render(std::string& out, const std::string& name, const std::string& help) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative); the last is +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

struct EngineMetrics {
  mutable std::mutex mu;
  uint64_t requests_submitted = 0, requests_finished = 0, requests_rejected = 0, requests_cancelled = 0;
  uint64_t prompt_tokens = 0, generated_tokens = 0, steps = 0;
  int64_t queue_depth = 0, running = 0;
  int64_t state_bytes = 0;
  uint64_t cache_hits = 0, cached_prompt_tokens = 0;
  int64_t cache_entries = 0, cache_bytes = 0;
  Histogram ttft{{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}};
  Histogram itl{{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}};
  Histogram batch_seqs{{1, 2, 4, 8, 16, 32, 64, 128, 256}};
  Histogram batch_tokens{{1, 4, 16, 64, 256, 1024, 4096}};

  std::string prometheus() const;
};

}  // namespace a3b
