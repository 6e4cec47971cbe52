// A Jinja2 engine for chat templates, written to render byte-for-byte what Python's jinja2 3.1 renders
// in the environment transformers uses for apply_chat_template:
//   ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
//   plus transformers' tojson (json.dumps(ensure_ascii=False, ...)), raise_exception and strftime_now.
// Values follow Python semantics (printing, truthiness, int vs float, str methods); undefined values
// follow jinja2's default Undefined. Mutating methods (list.append, dict.update, ...) are refused as
// the immutable sandbox refuses them.
//
// Not supported (clear errors): template inheritance and includes (extends/block/include/import),
// {% call %}, recursive loops, *unknown* filters/tests (rejected when parsing, as jinja2 does).
#pragma once
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chat/jinja_value.h"

namespace a3b::jinja {

struct Program;

// Resource limits: a template is a program, and a hostile or broken one must fail, not hang or OOM.
struct RenderOptions {
  size_t max_output_bytes = size_t(64) << 20;  // also the largest string or list built on the way
  int max_call_depth = 100;                     // macro recursion
  uint64_t max_steps = 20'000'000;              // statements, loop iterations, calls, bytes/256 built
  std::function<std::tm()> clock;               // for strftime_now(); default: local time now
};

class Template {
 public:
  // Parses (and checks filter/test names); a syntax error is an a3b::Error with line and column.
  static Template parse(std::string_view source);

  // Renders with the given top-level variables (a JSON object). Template errors are a3b::Error
  // naming the position; raise_exception('msg') is an a3b::Error whose message is exactly msg.
  std::string render(const nlohmann::ordered_json& variables, const RenderOptions& options = {}) const;
  std::string render(const Dict& variables, const RenderOptions& options = {}) const;

 private:
  std::string source_;  // normalized (see jinja_lexer.h); error positions refer to it
  std::shared_ptr<const Program> program_;
};

}  // namespace a3b::jinja
