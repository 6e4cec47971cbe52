// Model output -> OpenAI message parts: reasoning (<think>…</think>), content, and tool calls
// (Qwen3-Coder XML, or Hermes JSON, inside <tool_call>…</tool_call>), on streamed text.
//
// Text arrives in chunks split anywhere (inside a tag, inside a UTF-8 character); push() returns
// what can be emitted now, holding back only a possible tag prefix, an incomplete UTF-8 character,
// whitespace that may turn out to border a tag, and the body of a tool call until it is complete.
// The deltas always add up to result(), and the final result does not depend on how the text was
// split.
//
// Rules (chat.md §2-3, as vLLM's qwen3 reasoning parser and qwen3_coder tool parser behave):
//  * With starts_in_reasoning (the prompt ended with an open <think>, Qwen3.5/3.6 thinking on)
//    output is reasoning until </think>; a leading <think> the model repeats is dropped. Without it,
//    output is content, unless it starts with <think> (older templates), which opens reasoning.
//  * <tool_call> followed by <function= ends reasoning too (the models sometimes skip </think>).
//  * Whitespace at the edges of reasoning and content is dropped (the chat template trims it when
//    the turn is rendered back); around a tool call only the whitespace before it is kept, and
//    only if content continues after the call.
//  * A call whose block is malformed or unterminated at finish() stays in content, text unchanged.
//    A call is emitted whole (id, name and all arguments in one delta) once its block is complete.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace a3b {

struct ParserOptions {
  bool starts_in_reasoning = false;  // the prompt opened a <think> block (see prompt_opens_reasoning)
  bool enable_reasoning = true;      // false: no reasoning split; think tags stay in content as text
  bool parse_tool_calls = true;      // false (tool_choice "none"): tool-call tags stay in content
  nlohmann::ordered_json tools = nlohmann::ordered_json::array();  // OpenAI tools, for argument types
  std::function<std::string()> new_call_id;  // default: "call_" + 24 random hex digits
};

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // JSON object text, e.g. {"city": "Paris", "days": 2}
};

// One streaming fragment in OpenAI's shape: the first fragment of a call carries id and name.
struct ToolCallDelta {
  int index = 0;
  std::string id;
  std::string name;
  std::string arguments;
};

struct ChatDelta {
  std::string reasoning;
  std::string content;
  std::vector<ToolCallDelta> tool_calls;
  bool empty() const { return reasoning.empty() && content.empty() && tool_calls.empty(); }
};

struct ChatResult {
  std::string reasoning;
  std::string content;
  std::vector<ToolCall> tool_calls;
};

class ChatOutputParser {
 public:
  explicit ChatOutputParser(ParserOptions options = {});
  ChatDelta push(std::string_view text);
  ChatDelta finish();  // end of generation: flush what was held, unfinished calls become content
  const ChatResult& result() const { return result_; }

 private:
  enum class Mode { Reasoning, Content, CallOpen, CallBody };
  struct Segment {  // reasoning or content, with its whitespace handling
    std::string ChatResult::*field;
    std::string ChatDelta::*delta_field;
    bool skip_leading = true;  // drop leading whitespace of what comes next (at the start, after a call)
    std::string held_space;    // trailing whitespace, emitted only if more text follows
  };

  ParserOptions options_;
  ChatResult result_;
  Mode mode_;
  Mode origin_ = Mode::Content;  // where a <tool_call> that turns out to be text goes back to
  std::string pending_;          // input not yet decided
  bool at_output_start_ = true;  // nothing but whitespace seen yet
  Segment reasoning_{&ChatResult::reasoning, &ChatDelta::reasoning, true, {}};
  Segment content_{&ChatResult::content, &ChatDelta::content, true, {}};
  std::string call_;        // the current call block's raw text, from its opening tag
  bool call_wrapped_ = false;  // opened by <tool_call> (else a bare <function=)
  size_t call_scanned_ = 0;    // call_ offset up to which terminators were looked for
  bool swallow_close_ = false;  // drop a </tool_call> right after a bare <function=...> call
  char last_char_ = '\n';      // the last input byte consumed (a bare <function= must start a line)
  int fallbacks_ = 0;          // call blocks given back as text at the end of output
  bool finished_ = false;

  void run(ChatDelta& out, bool final);
  bool step_text(ChatDelta& out, bool final);
  bool step_call_open(ChatDelta& out, bool final);
  bool step_call_body(ChatDelta& out, bool final);
  void emit(Segment& seg, std::string_view text, ChatDelta& out);
  void end_segment(Segment& seg) { seg.held_space.clear(); }
  void emit_call(const std::string& name, const std::string& arguments, ChatDelta& out);
  void start_call(std::string_view opener, bool wrapped, Mode origin);
};

// Whether a rendered prompt leaves a <think> block open (Qwen3.6 with thinking on ends with
// "<think>\n"; with thinking off it ends with "<think>\n\n</think>\n\n").
bool prompt_opens_reasoning(std::string_view prompt);

}  // namespace a3b
