// Tool calls in model output: one complete call block (Qwen3-Coder XML or Hermes JSON) to a name
// and JSON arguments, with parameter values typed by the tool's JSON schema (chat.md §2.2).
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace a3b {

struct ParsedCall {
  std::string name;
  std::string arguments;  // a JSON object as Python's json.dumps writes it: {"city": "Paris", "days": 2}
};

// Parses a whole call block:
//   <tool_call>\n<function=NAME>\n<parameter=KEY>\nVALUE\n</parameter>\n...</function>\n</tool_call>
// (or the same without the <tool_call> wrapper when wrapped is false), or, wrapped,
//   <tool_call>\n{"name": NAME, "arguments": {...}}\n</tool_call>
// A `</parameter>` ends a value only when the next tag is <parameter= or </function>, so values may
// contain such text; a missing `</parameter>` ends at the next line starting <parameter= or
// </function>. With require_close false the final </tool_call> may be missing (end of output).
// nullopt when the text is not exactly one well-formed call (callers then keep it as text).
std::optional<ParsedCall> parse_tool_call_block(std::string_view block, bool wrapped, bool require_close,
                                                const nlohmann::ordered_json& tools);

// A parameter's raw text typed by the schema of tools[name].parameters.properties[key]:
// string types stay text; integer/number/boolean/object/array are parsed (objects also from Python
// literals like {'a': True}), falling back to the text when that fails; "null"/"None" is null for
// non-string (or nullable) types; parameters without a schema are JSON if they parse, else text.
nlohmann::ordered_json typed_argument(const nlohmann::ordered_json& tools, const std::string& function,
                                      const std::string& key, const std::string& raw);

// Python json.dumps(value, ensure_ascii=False) of a JSON value; nullopt for NaN/Infinity.
std::optional<std::string> python_json(const nlohmann::ordered_json& value);

}  // namespace a3b
