// The server's view of one API request in flight: n choices, each an engine request whose tokens
// become text (detokenized, stop strings applied) and, for chat, reasoning/content/tool-call
// deltas. Streaming and non-streaming responses are both built from `poll`.
#pragma once
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_parser.h"
#include "engine/engine.h"
#include "tokenizer/tokenizer.h"

namespace a3b {

struct LogprobEntry {
  int32_t token;
  float logprob;
  std::vector<TokenLogprob> top;
};

// What one choice produced since the last poll.
struct ChoiceUpdate {
  int index = 0;
  std::string text;                    // completions: new text
  ChatDelta delta;                     // chat: new reasoning/content/tool-call pieces
  std::vector<LogprobEntry> logprobs;  // one per new token
  std::string finish_reason;           // set once, on the last update of the choice
  std::string error;                   // the engine failed this choice
};

class Generation {
 public:
  struct Choice;
  // One engine request per choice; `parser_options` set → chat output parsing.
  // `parser_prefix`: text the prompt already holds of the model's answer (a forced tool-call opening).
  Generation(Engine& engine, const Tokenizer& tok, std::vector<GenerationRequest> requests,
             std::vector<std::string> stop_strings, std::optional<ParserOptions> parser_options,
             const std::string& parser_prefix = {});
  ~Generation();

  // Waits up to `wait` for progress; returns the updates of the choices that moved.
  std::vector<ChoiceUpdate> poll(std::chrono::milliseconds wait);
  bool done() const;
  void cancel();

  int64_t prompt_tokens() const { return prompt_tokens_; }
  int64_t cached_tokens() const;
  int64_t completion_tokens() const;
  int64_t reasoning_tokens() const;  // tokens of the parsed reasoning text (chat)

 private:
  std::vector<std::unique_ptr<Choice>> choices_;
  const Tokenizer& tok_;
  int64_t prompt_tokens_ = 0;
};

// OpenAI "logprobs" objects.
nlohmann::ordered_json chat_logprobs_json(const Tokenizer& tok, const std::vector<LogprobEntry>& entries);
nlohmann::ordered_json completion_logprobs_json(const Tokenizer& tok, const std::vector<LogprobEntry>& entries, size_t text_offset);

}  // namespace a3b
