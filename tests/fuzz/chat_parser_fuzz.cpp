// libFuzzer target: the streaming chat output parser on arbitrary model output.
// Input: byte 0 = options, byte 1 = seed for chunk boundaries, the rest = model output.
// Properties: never crashes (ASan/UBSan watch), and the final result does not depend on where
// the stream was split (the same text pushed whole and in random chunks parses the same).
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string_view>

#include "chat/chat_parser.h"

namespace {

const nlohmann::ordered_json& tools() {
  static const auto t = nlohmann::ordered_json::parse(R"([
    {"type": "function", "function": {"name": "calculator", "parameters": {"type": "object",
      "properties": {"expression": {"type": "string"}}}}},
    {"type": "function", "function": {"name": "typed", "parameters": {"type": "object",
      "properties": {"n": {"type": "integer"}, "x": {"type": "number"}, "b": {"type": "boolean"},
                     "o": {"type": "object"}, "a": {"type": "array"}, "u": {"type": ["null", "integer"]},
                     "e": {"enum": ["a", "b"]}}}}}
  ])");
  return t;
}

a3b::ParserOptions options(uint8_t flags) {
  a3b::ParserOptions o;
  o.starts_in_reasoning = flags & 1;
  o.enable_reasoning = !(flags & 2);
  o.parse_tool_calls = !(flags & 4);
  if (!(flags & 8)) o.tools = tools();
  int counter = 0;
  o.new_call_id = [counter]() mutable { return "call_" + std::to_string(counter++); };
  return o;
}

a3b::ChatResult parse(std::string_view text, uint8_t flags, std::mt19937* split) {
  a3b::ChatOutputParser p(options(flags));
  size_t at = 0;
  while (at < text.size()) {
    size_t n = split ? 1 + (*split)() % 7 : text.size();
    n = std::min(n, text.size() - at);
    p.push(text.substr(at, n));
    at += n;
  }
  p.finish();
  return p.result();
}

bool same(const a3b::ChatResult& a, const a3b::ChatResult& b) {
  if (a.reasoning != b.reasoning || a.content != b.content || a.tool_calls.size() != b.tool_calls.size()) return false;
  for (size_t i = 0; i < a.tool_calls.size(); ++i)
    if (a.tool_calls[i].id != b.tool_calls[i].id || a.tool_calls[i].name != b.tool_calls[i].name ||
        a.tool_calls[i].arguments != b.tool_calls[i].arguments)
      return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t flags = data[0];
  std::mt19937 rng(data[1]);
  std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
  a3b::ChatResult whole = parse(text, flags, nullptr);
  a3b::ChatResult chunked = parse(text, flags, &rng);
  if (!same(whole, chunked)) std::abort();  // the split changed the result
  return 0;
}
