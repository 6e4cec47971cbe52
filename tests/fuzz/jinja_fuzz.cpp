// libFuzzer target: the Jinja engine on arbitrary template source, rendered with a fixed set of
// chat-like variables. Any input must either render or throw a3b::Error, never crash or hang.
#include <cstdint>
#include <ctime>
#include <string>

#include "chat/jinja.h"
#include "core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto vars = nlohmann::ordered_json::parse(R"({
    "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi <b>"},
                 {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": {"x": 1}}}]}],
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "add_generation_prompt": true, "n": 3, "s": "héllo", "l": [1, 2, 3], "none": null})");
  std::string source(reinterpret_cast<const char*>(data), size);
  try {
    a3b::jinja::RenderOptions limits;  // small, so that loops a fuzzer writes end in time
    limits.max_output_bytes = 1 << 20;
    limits.max_steps = 200'000;
    limits.clock = [] { return std::tm{}; };
    (void)a3b::jinja::Template::parse(source).render(vars, limits);
  } catch (const a3b::Error&) {
  }
  return 0;
}
