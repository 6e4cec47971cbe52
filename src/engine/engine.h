// The engine: one thread that runs every active request through shared forward passes
// (continuous batching). New requests join the running batch between steps; prompts are prefilled
// in chunks so a long prompt never stalls the others' decoding; a cancelled request's state is
// freed at the next step.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "engine/metrics.h"
#include "engine/prefix_cache.h"
#include "engine/sampler.h"
#include "model/model.h"

namespace a3b {

struct EngineOptions {
  int max_sequences = 64;        // running at once
  int max_queue = 256;           // waiting beyond that → EngineBusy
  int max_batch_tokens = 512;    // tokens per forward pass (decode tokens first, then prefill chunks)
  int64_t max_context = 0;       // prompt + generated; 0 = the model's max_position_embeddings
  int64_t prefix_cache_bytes = int64_t(1) << 30;  // snapshots kept for prompt reuse; 0 = off
  std::vector<int32_t> eos_ids;  // end-of-sequence ids; empty = the model config's
};

enum class FinishReason { None, Stop, Length, Cancelled, Error };
const char* finish_reason_name(FinishReason r);  // "stop", "length", ... as OpenAI spells them

struct GenerationRequest {
  std::vector<int32_t> prompt;
  SamplingParams sampling;
  int64_t max_tokens = 256;
  std::vector<int32_t> stop_token_ids;  // besides the model's end-of-sequence ids
  bool ignore_eos = false;
  int top_logprobs = 0;                 // alternatives per token (0–20)
  bool logprobs = false;
};

struct TokenEvent {
  int32_t token = -1;                   // -1: no token (a finish without one)
  bool is_stop_token = false;           // an end-of-sequence or stop id: not part of the text
  float logprob = 0;
  std::vector<TokenLogprob> top;
  FinishReason finish = FinishReason::None;
  std::string error;
};

// Thrown by submit when the waiting queue is full (HTTP 429).
class EngineBusy : public Error {
 public:
  using Error::Error;
};

class RequestHandle {
 public:
  // The next event, or nothing if none came within `timeout`. After a finish event there are no more.
  std::optional<TokenEvent> next(std::chrono::milliseconds timeout);
  void cancel() { cancelled_ = true; }
  bool cancelled() const { return cancelled_; }
  int64_t prompt_tokens() const { return prompt_tokens_; }
  int64_t cached_tokens() const { return cached_tokens_; }  // prompt tokens reused from the cache

 private:
  friend class Engine;
  void push(TokenEvent e);
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<TokenEvent> events_;
  std::atomic<bool> cancelled_{false};
  int64_t prompt_tokens_ = 0;
  std::atomic<int64_t> cached_tokens_{0};
};

class Engine {
 public:
  Engine(std::shared_ptr<Model> model, EngineOptions opts);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Validates (throws Error: empty prompt, token outside the vocabulary, context overflow) and queues.
  std::shared_ptr<RequestHandle> submit(GenerationRequest req);

  const ModelConfig& config() const { return model_->config(); }
  int64_t max_context() const { return max_context_; }
  const EngineMetrics& metrics() const { return metrics_; }
  const std::string& backend() const { return backend_; }

 private:
  struct Active;
  void loop();
  void step(std::vector<std::unique_ptr<Active>>& running);
  void finish(Active& a, TokenEvent e);
  void admit(Active& a);

  std::shared_ptr<Model> model_;
  EngineOptions opts_;
  int64_t max_context_;
  std::string backend_;
  std::vector<int32_t> eos_;
  EngineMetrics metrics_;
  PrefixCache cache_;  // used by the engine thread only
  // A step's logits, kept across steps (engine thread): a fresh buffer of a 64-sequence batch
  // would zero and fault in 64 MB every step.
  std::vector<float> logits_;

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Active>> waiting_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace a3b
