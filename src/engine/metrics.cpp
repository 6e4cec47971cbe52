#include "engine/metrics.h"

#include <cstdio>

namespace a3b {

void Histogram::observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& help) const {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  uint64_t cum = 0;
  char buf[128];
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i];
    std::snprintf(buf, sizeof buf, "%s_bucket{le=\"%g\"} %llu\n", name.c_str(), bounds_[i], (unsigned long long)cum);
    out += buf;
  }
  cum += counts_.back();
  std::snprintf(buf, sizeof buf, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name.c_str(),
                (unsigned long long)cum, name.c_str(), sum_, name.c_str(), (unsigned long long)count_);
  out += buf;
}

std::string EngineMetrics::prometheus() const {
  std::lock_guard<std::mutex> lock(mu);
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help, double v) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
    out += buf;
  };
  metric("a3b_requests_total", "counter", "Generation requests accepted", double(requests_submitted));
  metric("a3b_requests_finished_total", "counter", "Generation requests finished", double(requests_finished));
  metric("a3b_requests_rejected_total", "counter", "Requests refused because the queue was full", double(requests_rejected));
  metric("a3b_requests_cancelled_total", "counter", "Requests cancelled (client gone or stop string)", double(requests_cancelled));
  metric("a3b_prompt_tokens_total", "counter", "Prompt tokens processed", double(prompt_tokens));
  metric("a3b_generation_tokens_total", "counter", "Tokens generated", double(generated_tokens));
  metric("a3b_engine_steps_total", "counter", "Forward passes run by the engine", double(steps));
  metric("a3b_queue_depth", "gauge", "Requests waiting for a sequence slot", double(queue_depth));
  metric("a3b_running_sequences", "gauge", "Sequences in the running batch", double(running));
  metric("a3b_sequence_state_bytes", "gauge", "Bytes of per-sequence state (KV cache, DeltaNet state) in use", double(state_bytes));
  metric("a3b_prefix_cache_bytes", "gauge", "Bytes held by prefix-cache snapshots", double(cache_bytes));
  metric("a3b_prefix_cache_entries", "gauge", "Snapshots in the prefix cache", double(cache_entries));
  metric("a3b_prefix_cache_hits_total", "counter", "Requests that resumed from a cached prefix", double(cache_hits));
  metric("a3b_prefix_cache_tokens_total", "counter", "Prompt tokens skipped thanks to the prefix cache", double(cached_prompt_tokens));
  ttft.render(out, "a3b_time_to_first_token_seconds", "Time from request arrival to its first generated token");
  itl.render(out, "a3b_inter_token_latency_seconds", "Time between consecutive generated tokens of a request");
  batch_seqs.render(out, "a3b_batch_sequences", "Sequences in each forward pass");
  batch_tokens.render(out, "a3b_batch_tokens", "Tokens in each forward pass");
  return out;
}

}  // namespace a3b
