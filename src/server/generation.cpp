#include "server/generation.h"

#include <algorithm>

#include "tokenizer/utf8.h"

namespace a3b {

using json = nlohmann::ordered_json;

// Holds back text that could still become a stop string; cuts at the first one that completes.
class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}

  // New text in → the text that is safe to emit. After a stop string, `stopped()` is true.
  std::string push(const std::string& text) {
    if (stopped_) return {};
    held_ += text;
    size_t cut = std::string::npos;
    for (auto& s : stops_) cut = std::min(cut, held_.find(s));
    if (cut != std::string::npos) {
      stopped_ = true;
      std::string out = held_.substr(0, cut);
      held_.clear();
      return out;
    }
    size_t keep = 0;  // longest tail of held_ that begins some stop string
    for (auto& s : stops_)
      for (size_t n = std::min(s.size() - 1, held_.size()); n > keep; --n)
        if (held_.compare(held_.size() - n, n, s, 0, n) == 0) {
          keep = n;
          break;
        }
    std::string out = held_.substr(0, held_.size() - keep);
    held_.erase(0, held_.size() - keep);
    return out;
  }
  std::string flush() { return stopped_ ? std::string() : std::exchange(held_, {}); }
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

struct Generation::Choice {
  std::shared_ptr<RequestHandle> handle;
  StreamDecoder decoder;
  StopMatcher stops;
  std::optional<ChatOutputParser> parser;
  int64_t tokens = 0;
  bool finished = false;

  Choice(const Tokenizer& tok, std::vector<std::string> stop_strings)
      : decoder(tok, /*skip_special=*/true), stops(std::move(stop_strings)) {}
};

Generation::Generation(Engine& engine, const Tokenizer& tok, std::vector<GenerationRequest> requests,
                       std::vector<std::string> stop_strings, std::optional<ParserOptions> parser_options,
                       const std::string& parser_prefix)
    : tok_(tok) {
  prompt_tokens_ = requests.empty() ? 0 : int64_t(requests[0].prompt.size()) * int64_t(requests.size());
  try {
    for (auto& r : requests) {
      auto c = std::make_unique<Choice>(tok, stop_strings);
      if (parser_options) {
        c->parser.emplace(*parser_options);
        c->parser->push(parser_prefix);  // an incomplete call opening: held, nothing emitted
      }
      c->handle = engine.submit(std::move(r));
      choices_.push_back(std::move(c));
    }
  } catch (...) {
    cancel();
    throw;
  }
}

Generation::~Generation() { cancel(); }

void Generation::cancel() {
  for (auto& c : choices_)
    if (!c->finished) c->handle->cancel();
}

bool Generation::done() const {
  return std::all_of(choices_.begin(), choices_.end(), [](auto& c) { return c->finished; });
}

int64_t Generation::cached_tokens() const {
  int64_t n = 0;
  for (auto& c : choices_) n += c->handle->cached_tokens();
  return n;
}

int64_t Generation::completion_tokens() const {
  int64_t n = 0;
  for (auto& c : choices_) n += c->tokens;
  return n;
}

int64_t Generation::reasoning_tokens() const {
  int64_t n = 0;
  for (auto& c : choices_)
    if (c->parser) n += int64_t(tok_.encode(c->parser->result().reasoning, false).size());
  return n;
}

std::vector<ChoiceUpdate> Generation::poll(std::chrono::milliseconds wait) {
  std::vector<ChoiceUpdate> updates;
  // Block on the first unfinished choice only; the others are drained without waiting.
  bool blocked = false;
  for (size_t i = 0; i < choices_.size(); ++i) {
    Choice& c = *choices_[i];
    if (c.finished) continue;
    ChoiceUpdate u;
    u.index = int(i);
    std::string text;
    FinishReason finish = FinishReason::None;
    for (;;) {
      auto e = c.handle->next(blocked ? std::chrono::milliseconds(0) : wait);
      blocked = true;
      if (!e) break;
      if (e->token >= 0 && !e->is_stop_token) {
        ++c.tokens;
        u.logprobs.push_back({e->token, e->logprob, std::move(e->top)});
        text += c.stops.push(c.decoder.push(e->token));
        if (c.stops.stopped()) {
          c.handle->cancel();  // a stop string ends the request here
          finish = FinishReason::Stop;
          break;
        }
      } else if (e->token >= 0) {
        ++c.tokens;  // the end-of-sequence token counts as generated, as OpenAI counts it
      }
      if (e->finish != FinishReason::None) {
        finish = e->finish;
        u.error = e->error;
        break;
      }
    }
    if (finish != FinishReason::None && !c.stops.stopped()) text += c.stops.push(c.decoder.flush()) + c.stops.flush();
    if (c.parser) {
      u.delta = c.parser->push(text);
      if (finish != FinishReason::None) {
        ChatDelta last = c.parser->finish();
        u.delta.reasoning += last.reasoning;
        u.delta.content += last.content;
        u.delta.tool_calls.insert(u.delta.tool_calls.end(), last.tool_calls.begin(), last.tool_calls.end());
      }
    } else {
      u.text = std::move(text);
    }
    if (finish != FinishReason::None) {
      c.finished = true;
      bool calls = c.parser && !c.parser->result().tool_calls.empty();
      u.finish_reason = finish == FinishReason::Length ? "length" : calls ? "tool_calls" : finish == FinishReason::Error ? "error" : "stop";
    }
    if (!u.text.empty() || !u.delta.reasoning.empty() || !u.delta.content.empty() || !u.delta.tool_calls.empty() ||
        !u.logprobs.empty() || !u.finish_reason.empty())
      updates.push_back(std::move(u));
  }
  return updates;
}

namespace {

json bytes_of(const std::string& s) {
  json b = json::array();
  for (unsigned char ch : s) b.push_back(int(ch));
  return b;
}

// A token's text for logprobs; a token that is part of a UTF-8 character shows U+FFFD (its
// "bytes" field carries the real bytes).
std::string piece(const Tokenizer& tok, int32_t id) {
  std::string out;
  utf8_append_lossy(out, tok.token_text(id));
  return out;
}

}  // namespace

json chat_logprobs_json(const Tokenizer& tok, const std::vector<LogprobEntry>& entries) {
  json content = json::array();
  for (auto& e : entries) {
    json top = json::array();
    for (auto& t : e.top) {
      top.push_back({{"token", piece(tok, t.token)}, {"logprob", t.logprob}, {"bytes", bytes_of(tok.token_text(t.token))}});
    }
    content.push_back({{"token", piece(tok, e.token)}, {"logprob", e.logprob}, {"bytes", bytes_of(tok.token_text(e.token))},
                       {"top_logprobs", top}});
  }
  return {{"content", content}};
}

json completion_logprobs_json(const Tokenizer& tok, const std::vector<LogprobEntry>& entries, size_t text_offset) {
  json tokens = json::array(), lps = json::array(), tops = json::array(), offsets = json::array();
  for (auto& e : entries) {
    std::string p = piece(tok, e.token);
    tokens.push_back(p);
    lps.push_back(e.logprob);
    json top = json::object();
    for (auto& t : e.top) top[piece(tok, t.token)] = t.logprob;
    tops.push_back(top);
    offsets.push_back(text_offset);
    text_offset += p.size();
  }
  return {{"tokens", tokens}, {"token_logprobs", lps}, {"top_logprobs", tops}, {"text_offset", offsets}};
}

}  // namespace a3b
