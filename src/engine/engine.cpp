#include "engine/engine.h"

#include <algorithm>

namespace a3b {

using Clock = std::chrono::steady_clock;

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::None: return "";
    case FinishReason::Stop: return "stop";
    case FinishReason::Length: return "length";
    case FinishReason::Cancelled: return "cancelled";
    case FinishReason::Error: return "error";
  }
  return "";
}

std::optional<TokenEvent> RequestHandle::next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return std::nullopt;
  TokenEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void RequestHandle::push(TokenEvent e) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(e));
  }
  cv_.notify_one();
}

namespace {
TokenEvent ended(FinishReason r, std::string error = {}) {
  TokenEvent e;
  e.finish = r;
  e.error = std::move(error);
  return e;
}
}  // namespace

// A request the engine is working on.
struct Engine::Active {
  GenerationRequest req;
  std::shared_ptr<RequestHandle> handle;
  std::unique_ptr<SequenceState> seq;
  std::unique_ptr<Sampler> sampler;
  size_t prefilled = 0;              // prompt tokens consumed
  std::vector<int32_t> generated;
  Clock::time_point arrived, last_token;
  bool done = false;
};

Engine::Engine(std::shared_ptr<Model> model, EngineOptions opts)
    : model_(std::move(model)),
      opts_(opts),
      backend_(model_->backend()),
      eos_(opts.eos_ids.empty() ? model_->config().eos_ids : opts.eos_ids),
      cache_(opts.prefix_cache_bytes) {
  max_context_ = opts_.max_context > 0 ? opts_.max_context : model_->config().max_positions;
  thread_ = std::thread([this] { loop(); });
}

Engine::~Engine() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::shared_ptr<RequestHandle> Engine::submit(GenerationRequest req) {
  const int64_t V = model_->config().vocab_size;
  if (req.prompt.empty()) fail("the prompt is empty");
  for (int32_t t : req.prompt)
    if (t < 0 || t >= V) fail("prompt token id ", t, " is outside the vocabulary (0..", V - 1, ")");
  if (req.max_tokens < 1) fail("max_tokens must be at least 1");
  if (int64_t(req.prompt.size()) >= max_context_)
    fail("the prompt has ", req.prompt.size(), " tokens; this model's context is ", max_context_, " tokens");
  req.max_tokens = std::min<int64_t>(req.max_tokens, max_context_ - int64_t(req.prompt.size()));
  if (req.top_logprobs < 0 || req.top_logprobs > 20) fail("top_logprobs must be between 0 and 20");

  auto a = std::make_unique<Active>();
  a->handle = std::make_shared<RequestHandle>();
  a->handle->prompt_tokens_ = int64_t(req.prompt.size());
  a->sampler = std::make_unique<Sampler>(req.sampling, req.prompt);
  a->req = std::move(req);
  a->arrived = Clock::now();
  auto handle = a->handle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (int(waiting_.size()) >= opts_.max_queue) {
      std::lock_guard<std::mutex> m(metrics_.mu);
      ++metrics_.requests_rejected;
      throw EngineBusy("the server is busy: too many requests are waiting");
    }
    waiting_.push_back(std::move(a));
    std::lock_guard<std::mutex> m(metrics_.mu);
    ++metrics_.requests_submitted;
    metrics_.queue_depth = int64_t(waiting_.size());
  }
  wake_.notify_one();
  return handle;
}

void Engine::finish(Active& a, TokenEvent e) {
  a.done = true;
  // A finished sequence has consumed its prompt and all but its last token: keep it for reuse.
  if ((e.finish == FinishReason::Stop || e.finish == FinishReason::Length) && a.seq && !a.generated.empty()) {
    std::vector<int32_t> consumed = a.req.prompt;
    consumed.insert(consumed.end(), a.generated.begin(), a.generated.end() - 1);
    if (a.seq->n_past == int64_t(consumed.size())) cache_.insert(std::move(consumed), std::move(a.seq));
  }
  {
    std::lock_guard<std::mutex> m(metrics_.mu);
    ++metrics_.requests_finished;
    if (e.finish == FinishReason::Cancelled) ++metrics_.requests_cancelled;
    metrics_.cache_entries = int64_t(cache_.entries());
    metrics_.cache_bytes = cache_.bytes();
  }
  a.handle->push(std::move(e));
}

void Engine::admit(Active& a) {
  int64_t matched = 0;
  a.seq = cache_.lookup(a.req.prompt, *model_, &matched);
  if (!a.seq) a.seq = model_->new_sequence();
  a.prefilled = size_t(matched);
  a.handle->cached_tokens_ = matched;
  std::lock_guard<std::mutex> m(metrics_.mu);
  if (matched > 0) {
    ++metrics_.cache_hits;
    metrics_.cached_prompt_tokens += uint64_t(matched);
  }
}

void Engine::loop() {
  std::vector<std::unique_ptr<Active>> running;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || !waiting_.empty() || !running.empty(); });
      if (stop_) break;
      while (!waiting_.empty() && int(running.size()) < opts_.max_sequences) {
        running.push_back(std::move(waiting_.front()));
        waiting_.pop_front();
        admit(*running.back());
      }
      std::lock_guard<std::mutex> m(metrics_.mu);
      metrics_.queue_depth = int64_t(waiting_.size());
    }
    step(running);
    std::erase_if(running, [](auto& a) { return a->done; });  // frees their state now
    int64_t bytes = 0;
    for (auto& a : running) bytes += a->seq ? a->seq->bytes() : 0;
    std::lock_guard<std::mutex> m(metrics_.mu);
    metrics_.running = int64_t(running.size());
    metrics_.state_bytes = bytes;
  }
  for (auto& a : running) finish(*a, ended(FinishReason::Cancelled, "the server is shutting down"));
  for (auto& a : waiting_) finish(*a, ended(FinishReason::Cancelled, "the server is shutting down"));
}

void Engine::step(std::vector<std::unique_ptr<Active>>& running) {
  // Cancelled requests leave before any work is spent on them.
  for (auto& a : running)
    if (a->handle->cancelled()) finish(*a, ended(FinishReason::Cancelled));

  // Decode tokens first (one per sequence), then prompt chunks with what is left of the budget.
  std::vector<BatchItem> items;
  std::vector<Active*> owners;
  int64_t budget = opts_.max_batch_tokens;
  for (auto& a : running) {
    if (a->done || a->prefilled < a->req.prompt.size()) continue;
    items.push_back({a->seq.get(), std::span(&a->generated.back(), 1), false});
    owners.push_back(a.get());
    --budget;
  }
  for (auto& a : running) {
    if (a->done || a->prefilled >= a->req.prompt.size() || budget <= 0) continue;
    size_t n = std::min<size_t>(a->req.prompt.size() - a->prefilled, size_t(budget));
    items.push_back({a->seq.get(), std::span(a->req.prompt).subspan(a->prefilled, n), false});
    owners.push_back(a.get());
    budget -= int64_t(n);
  }
  if (items.empty()) return;

  const int64_t V = model_->config().vocab_size;
  if (logits_.size() < items.size() * size_t(V)) logits_.resize(items.size() * size_t(V));
  float* logits = logits_.data();
  try {
    model_->forward(items, logits);
  } catch (const std::exception& e) {
    for (Active* a : owners) finish(*a, ended(FinishReason::Error, e.what()));
    return;
  }
  int64_t tokens = 0;
  for (auto& it : items) tokens += int64_t(it.tokens.size());
  {
    std::lock_guard<std::mutex> m(metrics_.mu);
    ++metrics_.steps;
    metrics_.batch_seqs.observe(double(items.size()));
    metrics_.batch_tokens.observe(double(tokens));
  }

  const Clock::time_point now = Clock::now();
  for (size_t i = 0; i < items.size(); ++i) {
    Active& a = *owners[i];
    bool was_prefill = a.prefilled < a.req.prompt.size();
    if (was_prefill) {
      a.prefilled += items[i].tokens.size();
      std::lock_guard<std::mutex> m(metrics_.mu);
      metrics_.prompt_tokens += items[i].tokens.size();
      if (a.prefilled < a.req.prompt.size()) continue;  // more prompt to go: no token yet
    }
    TokenEvent e;
    e.token = a.sampler->sample(&logits[i * size_t(V)], V, a.req.top_logprobs, a.req.logprobs ? &e.logprob : nullptr,
                                a.req.top_logprobs > 0 ? &e.top : nullptr);
    a.sampler->accept(e.token);
    a.generated.push_back(e.token);
    {
      std::lock_guard<std::mutex> m(metrics_.mu);
      ++metrics_.generated_tokens;
      (a.generated.size() == 1 ? metrics_.ttft : metrics_.itl)
          .observe(std::chrono::duration<double>(now - (a.generated.size() == 1 ? a.arrived : a.last_token)).count());
    }
    a.last_token = now;
    bool eos = !a.req.ignore_eos && std::find(eos_.begin(), eos_.end(), e.token) != eos_.end();
    bool stop_id = std::find(a.req.stop_token_ids.begin(), a.req.stop_token_ids.end(), e.token) != a.req.stop_token_ids.end();
    e.is_stop_token = eos || stop_id;
    if (e.is_stop_token) {
      e.finish = FinishReason::Stop;
      finish(a, std::move(e));
    } else if (int64_t(a.generated.size()) >= a.req.max_tokens) {
      e.finish = FinishReason::Length;
      finish(a, std::move(e));
    } else {
      a.handle->push(std::move(e));
    }
  }
}

}  // namespace a3b
