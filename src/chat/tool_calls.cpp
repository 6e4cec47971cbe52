#include "chat/tool_calls.h"

#include <cctype>
#include <cmath>

#include "chat/jinja_value.h"
#include "chat/pystr.h"

namespace a3b {
namespace {

using json = nlohmann::ordered_json;

constexpr std::string_view kToolCallOpen = "<tool_call>";
constexpr std::string_view kToolCallClose = "</tool_call>";
constexpr std::string_view kFunctionOpen = "<function=";
constexpr std::string_view kFunctionClose = "</function>";
constexpr std::string_view kParameterOpen = "<parameter=";
constexpr std::string_view kParameterClose = "</parameter>";

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t skip_ws(std::string_view s, size_t p) {
  while (p < s.size() && is_ws(s[p])) ++p;
  return p;
}

bool at(std::string_view s, size_t p, std::string_view tag) { return s.substr(p, tag.size()) == tag; }

// Function names the model can mean: no whitespace, quotes or brackets (which would be leftovers of
// template text such as `<function={{ name }}>`).
bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  for (char c : name)
    if (is_ws(c) || c == '{' || c == '}' || c == '<' || c == '>' || c == '"' || c == '\'') return false;
  return true;
}

// ---- Python literals (ast.literal_eval of containers, as vLLM's fallback) ----

class PyLiteral {
 public:
  explicit PyLiteral(std::string_view s) : s_(s) {}

  std::optional<json> parse() {
    auto v = value(0);
    if (!v) return std::nullopt;
    p_ = skip_ws(s_, p_);
    if (p_ != s_.size()) return std::nullopt;
    return v;
  }

 private:
  std::string_view s_;
  size_t p_ = 0;

  std::optional<json> value(int depth) {
    if (depth > 64) return std::nullopt;
    p_ = skip_ws(s_, p_);
    if (p_ >= s_.size()) return std::nullopt;
    const char c = s_[p_];
    if (c == '{') return container(depth, '}', true);
    if (c == '[' || c == '(') return container(depth, c == '[' ? ']' : ')', false);
    if (c == '\'' || c == '"') return string();
    for (auto [word, v] : {std::pair<std::string_view, json>{"True", true}, {"False", false}, {"None", nullptr}})
      if (at(s_, p_, word)) {
        p_ += word.size();
        return v;
      }
    return number();
  }

  std::optional<json> container(int depth, char close, bool is_dict) {
    ++p_;
    json out = is_dict ? json::object() : json::array();
    for (bool first = true;; first = false) {
      p_ = skip_ws(s_, p_);
      if (p_ < s_.size() && s_[p_] == close) {
        ++p_;
        return out;
      }
      if (!first) {
        if (p_ >= s_.size() || s_[p_] != ',') return std::nullopt;
        p_ = skip_ws(s_, p_ + 1);
        if (p_ < s_.size() && s_[p_] == close) {
          ++p_;
          return out;
        }
      }
      auto item = value(depth + 1);
      if (!item) return std::nullopt;
      if (!is_dict) {
        out.push_back(std::move(*item));
        continue;
      }
      p_ = skip_ws(s_, p_);
      if (p_ >= s_.size() || s_[p_] != ':') return std::nullopt;
      ++p_;
      auto val = value(depth + 1);
      if (!val) return std::nullopt;
      std::string key;
      if (item->is_string()) key = item->get<std::string>();
      else if (item->is_number() || item->is_boolean() || item->is_null()) key = item->dump();  // as json.dumps keys
      else return std::nullopt;
      out[key] = std::move(*val);
    }
  }

  std::optional<json> string() {
    const char quote = s_[p_++];
    std::string out;
    while (p_ < s_.size() && s_[p_] != quote) {
      char c = s_[p_++];
      if (c == '\n') return std::nullopt;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (p_ >= s_.size()) return std::nullopt;
      c = s_[p_++];
      switch (c) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'u':
        case 'x': {
          const size_t digits = c == 'u' ? 4 : 2;
          char32_t v = 0;
          for (size_t k = 0; k < digits; ++k, ++p_) {
            const char h = p_ < s_.size() ? char(s_[p_] | 0x20) : 0;
            if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f'))) return std::nullopt;
            v = v * 16 + char32_t(h <= '9' ? h - '0' : h - 'a' + 10);
          }
          if (v >= 0xD800 && v < 0xE000) return std::nullopt;  // lone surrogates are not text
          py::append_utf8(out, v);
          break;
        }
        default: out += '\\'; out += c;
      }
    }
    if (p_ >= s_.size()) return std::nullopt;
    ++p_;
    return json(out);
  }

  std::optional<json> number() {
    size_t e = p_;
    while (e < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[e])) || s_[e] == '.' || s_[e] == '_' ||
                             s_[e] == '+' || s_[e] == '-'))
      ++e;
    const std::string text(s_.substr(p_, e - p_));
    if (text.empty()) return std::nullopt;
    p_ = e;
    if (auto i = py::parse_int(text)) return json(*i);
    if (auto f = py::parse_float(text); f && std::isfinite(*f)) return json(*f);
    return std::nullopt;
  }
};

std::optional<json> parse_json_text(const std::string& raw) {
  json v = json::parse(raw, nullptr, false);
  if (v.is_discarded()) return std::nullopt;
  return v;
}

bool all_finite(const json& v, int depth = 0) {
  if (depth > jinja::kMaxDepth) return false;
  if (v.is_number_float()) return std::isfinite(v.get<double>());
  if (v.is_structured())
    for (const auto& x : v)
      if (!all_finite(x, depth + 1)) return false;
  return true;
}

// The schema type of a parameter: "" when unknown; nullable when the schema admits null.
struct ParamType {
  std::string type;
  bool nullable = false;
};

// tools[i].function.parameters.properties of the named function, or null if there is none.
const json* schema_properties(const json& tools, const std::string& function) {
  if (!tools.is_array()) return nullptr;
  for (const auto& tool : tools) {
    if (!tool.is_object()) continue;
    const json& fn = tool.contains("function") && tool["function"].is_object() ? tool["function"] : tool;
    if (!fn.contains("name") || fn["name"] != function) continue;
    if (!fn.contains("parameters") || !fn["parameters"].is_object()) return nullptr;
    const json& params = fn["parameters"];
    if (!params.contains("properties") || !params["properties"].is_object()) return nullptr;
    return &params["properties"];
  }
  return nullptr;
}

ParamType param_type(const json& tools, const std::string& function, const std::string& key) {
  const json* props = schema_properties(tools, function);
  if (!props || !props->contains(key)) return {};
  const json& prop = (*props)[key];
  if (!prop.is_object()) return {};
  ParamType t;
  auto take = [&](const json& type) {
    if (type.is_string()) {
      std::string name = py::lower(py::strip(type.get<std::string>(), std::nullopt, true, true));
      if (name == "null") t.nullable = true;
      else if (t.type.empty()) t.type = name;
    }
  };
  if (prop.contains("type")) {
    if (prop["type"].is_array())
      for (const auto& x : prop["type"]) take(x);
    else
      take(prop["type"]);
  }
  for (const char* combinator : {"anyOf", "oneOf"})
    if (t.type.empty() && prop.contains(combinator) && prop[combinator].is_array())
      for (const auto& option : prop[combinator])
        if (option.is_object() && option.contains("type")) take(option["type"]);
  if (t.type.empty() && prop.contains("enum") && prop["enum"].is_array()) {
    bool strings = !prop["enum"].empty();
    for (const auto& x : prop["enum"]) strings = strings && x.is_string();
    if (strings) t.type = "string";
  }
  if (t.type.empty() && t.nullable) t.type = "null";
  return t;
}

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

std::optional<std::string> python_json(const json& value) {
  if (!all_finite(value)) return std::nullopt;
  try {
    return jinja::dump_json(jinja::from_json(value));
  } catch (const jinja::RuntimeError&) {
    return std::nullopt;
  }
}

json typed_argument(const json& tools, const std::string& function, const std::string& key, const std::string& raw) {
  const ParamType t = param_type(tools, function, key);
  const std::string lower = py::lower(raw);
  const bool null_text = lower == "null" || lower == "none";
  auto json_or_text = [&]() -> json {
    auto v = parse_json_text(raw);
    return v && all_finite(*v) ? *v : json(raw);
  };
  if (t.type.empty()) return json_or_text();
  if (t.nullable && null_text) return nullptr;
  const std::string& type = t.type;
  if (type == "string" || type == "str" || type == "text" || type == "varchar" || type == "char" || type == "enum")
    return raw;
  if (null_text) return nullptr;
  if (starts_with(type, "int") || starts_with(type, "uint") || starts_with(type, "long") || starts_with(type, "short") ||
      starts_with(type, "unsigned")) {
    if (auto i = py::parse_int(raw)) return *i;
    return raw;
  }
  if (starts_with(type, "num") || starts_with(type, "float") || starts_with(type, "double")) {
    auto f = py::parse_float(raw);
    if (!f || !std::isfinite(*f)) return raw;
    if (std::trunc(*f) == *f && std::fabs(*f) < 9007199254740992.0) return int64_t(*f);  // 3.0 -> 3, as vLLM
    return *f;
  }
  if (type == "boolean" || type == "bool" || type == "binary") {
    if (lower == "true") return true;
    if (lower == "false") return false;
    return raw;
  }
  if (type == "object" || type == "array" || type == "arr" || starts_with(type, "dict") || starts_with(type, "list")) {
    if (auto v = parse_json_text(raw); v && all_finite(*v)) {
      if (v->is_string())  // a JSON-encoded Python repr: "{'k': 'v'}"
        if (auto inner = PyLiteral(v->get<std::string>()).parse()) return *inner;
      return *v;
    }
    if (auto v = PyLiteral(raw).parse()) return *v;
    return raw;
  }
  return json_or_text();
}

namespace {

std::optional<ParsedCall> parse_json_call(std::string_view body) {
  json v = json::parse(body, nullptr, false);
  if (v.is_discarded() || !v.is_object() || !v.contains("name") || !v["name"].is_string()) return std::nullopt;
  const std::string name = v["name"];
  if (!valid_name(name)) return std::nullopt;
  json args = json::object();
  for (const char* field : {"arguments", "parameters"}) {
    if (!v.contains(field)) continue;
    args = v[field];
    if (args.is_string()) {
      args = json::parse(args.get<std::string>(), nullptr, false);
      if (args.is_discarded()) return std::nullopt;
    }
    break;
  }
  if (!args.is_object()) return std::nullopt;
  auto text = python_json(args);
  if (!text) return std::nullopt;
  return ParsedCall{name, *text};
}

// End of a parameter value starting at `from`: the first </parameter> followed (after whitespace)
// by <parameter= or </function>. A missing </parameter> ends the value earlier at a line starting
// <parameter=KEY> for a KEY not seen yet in this call (and in the tool's schema, `known`, if there
// is one), or, with no </parameter> at all, at a line starting </function>.
// Returns {value end, offset after the closing tag}, or nullopt.
std::optional<std::pair<size_t, size_t>> value_end(std::string_view s, size_t from, const json& seen,
                                                   const json* known) {
  size_t close = std::string_view::npos, after_close = 0;
  for (size_t c = s.find(kParameterClose, from); c != std::string_view::npos; c = s.find(kParameterClose, c + 1)) {
    const size_t next = skip_ws(s, c + kParameterClose.size());
    if (at(s, next, kParameterOpen) || at(s, next, kFunctionClose)) {
      close = c;
      after_close = c + kParameterClose.size();
      break;
    }
  }
  for (size_t nl = s.find('\n', from); nl != std::string_view::npos && nl < close; nl = s.find('\n', nl + 1)) {
    if (!at(s, nl + 1, kParameterOpen)) continue;
    const size_t key_start = nl + 1 + kParameterOpen.size(), key_end = s.find('>', key_start);
    if (key_end == std::string_view::npos || key_end == key_start) continue;
    const std::string key(s.substr(key_start, key_end - key_start));
    if (!seen.contains(key) && (!known || known->contains(key))) return std::make_pair(nl + 1, nl + 1);
  }
  if (close != std::string_view::npos) return std::make_pair(close, after_close);
  for (size_t nl = s.find('\n', from); nl != std::string_view::npos; nl = s.find('\n', nl + 1))
    if (at(s, nl + 1, kFunctionClose)) return std::make_pair(nl + 1, nl + 1);
  return std::nullopt;
}

}  // namespace

std::optional<ParsedCall> parse_tool_call_block(std::string_view s, bool wrapped, bool require_close, const json& tools) {
  size_t p = 0;
  if (wrapped) {
    if (!at(s, 0, kToolCallOpen)) return std::nullopt;
    p = skip_ws(s, kToolCallOpen.size());
    if (p < s.size() && s[p] == '{') {  // Hermes-style JSON call
      size_t close = s.rfind(kToolCallClose);
      if (close == std::string_view::npos || close < p) {
        if (require_close) return std::nullopt;
        close = s.size();
      } else if (skip_ws(s, close + kToolCallClose.size()) != s.size()) {
        return std::nullopt;
      }
      return parse_json_call(s.substr(p, close - p));
    }
  }
  if (!at(s, p, kFunctionOpen)) return std::nullopt;
  p += kFunctionOpen.size();
  const size_t name_end = s.find('>', p);
  if (name_end == std::string_view::npos) return std::nullopt;
  ParsedCall call;
  call.name = std::string(s.substr(p, name_end - p));
  if (!valid_name(call.name)) return std::nullopt;
  p = name_end + 1;
  const json* known = schema_properties(tools, call.name);
  json args = json::object();
  for (;;) {
    p = skip_ws(s, p);
    if (at(s, p, kFunctionClose)) {
      p += kFunctionClose.size();
      break;
    }
    if (!at(s, p, kParameterOpen)) return std::nullopt;
    p += kParameterOpen.size();
    const size_t key_end = s.find('>', p);
    if (key_end == std::string_view::npos) return std::nullopt;
    const std::string key(s.substr(p, key_end - p));
    if (key.empty() || key.find_first_of("<\n") != std::string::npos) return std::nullopt;
    args[key];  // seen: a later line <parameter=KEY> does not end a value that lacks its close tag
    auto end = value_end(s, key_end + 1, args, known);
    if (!end) return std::nullopt;
    std::string_view value = s.substr(key_end + 1, end->first - key_end - 1);
    if (!value.empty() && value.front() == '\n') value.remove_prefix(1);
    if (!value.empty() && value.back() == '\n') value.remove_suffix(1);
    args[key] = typed_argument(tools, call.name, key, std::string(value));
    p = end->second;
  }
  p = skip_ws(s, p);
  if (wrapped) {
    if (at(s, p, kToolCallClose)) p = skip_ws(s, p + kToolCallClose.size());
    else if (require_close) return std::nullopt;
  }
  if (p != s.size()) return std::nullopt;
  auto text = python_json(args);
  if (!text) return std::nullopt;
  call.arguments = *text;
  return call;
}

}  // namespace a3b
