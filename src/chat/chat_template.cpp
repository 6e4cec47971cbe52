#include "chat/chat_template.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace a3b {
namespace {

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open chat template file ", path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

nlohmann::ordered_json read_json_file(const std::string& path) {
  try {
    return nlohmann::ordered_json::parse(read_text_file(path));
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": invalid JSON: ", e.what());
  }
}

// tokenizer_config.json spells a special token as a string or as {"content": "...", ...}.
std::optional<std::string> token_text(const nlohmann::ordered_json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return std::nullopt;
}

nlohmann::ordered_json normalize_part(const nlohmann::ordered_json& part) {
  if (!part.is_object() || !part.contains("type") || !part["type"].is_string()) return part;
  const std::string type = part["type"];
  if ((type == "text" || type == "input_text") && part.contains("text")) return {{"type", "text"}, {"text", part["text"]}};
  if (type == "image_url" || type == "image" || type == "input_image") return {{"type", "image"}};
  if (type == "video_url" || type == "video") return {{"type", "video"}};
  return part;
}

}  // namespace

nlohmann::ordered_json normalize_messages(const nlohmann::ordered_json& messages) {
  if (!messages.is_array()) fail("messages must be a JSON array");
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (size_t i = 0; i < messages.size(); ++i) {
    nlohmann::ordered_json m = messages[i];
    if (!m.is_object()) fail("messages[", i, "] must be a JSON object");
    if (m.contains("role") && m["role"] == "developer") m["role"] = "system";
    if (m.contains("reasoning") && !m.contains("reasoning_content")) {
      m["reasoning_content"] = m["reasoning"];
      m.erase("reasoning");
    }
    if (m.contains("content") && m["content"].is_array())
      for (auto& part : m["content"]) part = normalize_part(part);
    if (m.contains("tool_calls") && m["tool_calls"].is_array()) {
      for (size_t j = 0; j < m["tool_calls"].size(); ++j) {
        auto& call = m["tool_calls"][j];
        if (!call.is_object() || !call.contains("function") || !call["function"].is_object()) continue;
        auto& fn = call["function"];
        if (!fn.contains("arguments") || !fn["arguments"].is_string()) continue;
        const std::string text = fn["arguments"];
        if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
          fn["arguments"] = nlohmann::ordered_json::object();
          continue;
        }
        try {
          fn["arguments"] = nlohmann::ordered_json::parse(text);
        } catch (const nlohmann::json::exception& e) {
          fail("messages[", i, "].tool_calls[", j, "].function.arguments is not valid JSON: ", e.what());
        }
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

ChatTemplate ChatTemplate::from_string(std::string source) {
  ChatTemplate t;
  t.template_ = jinja::Template::parse(source);
  t.source_ = std::move(source);
  return t;
}

ChatTemplate ChatTemplate::from_file(const std::string& path) {
  try {
    return from_string(read_text_file(path));
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
}

std::optional<ChatTemplate> ChatTemplate::from_model_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path root(dir);
  nlohmann::ordered_json config;
  if (fs::exists(root / "tokenizer_config.json")) config = read_json_file((root / "tokenizer_config.json").string());
  std::optional<ChatTemplate> t;
  if (fs::exists(root / "chat_template.jinja")) {
    t = from_file((root / "chat_template.jinja").string());
  } else if (fs::exists(root / "chat_template.json")) {
    auto j = read_json_file((root / "chat_template.json").string());
    if (j.contains("chat_template") && j["chat_template"].is_string()) t = from_string(j["chat_template"]);
  }
  if (!t && config.contains("chat_template")) {
    const auto& ct = config["chat_template"];
    if (ct.is_string()) {
      t = from_string(ct.get<std::string>());
    } else if (ct.is_array()) {
      for (const auto& entry : ct)
        if (entry.is_object() && entry.value("name", "") == "default" && entry.contains("template") &&
            entry["template"].is_string())
          t = from_string(entry["template"].get<std::string>());
    }
  }
  if (!t) return std::nullopt;
  for (const char* name : {"bos_token", "eos_token", "pad_token", "unk_token"})
    if (config.contains(name))
      if (auto text = token_text(config[name])) t->defaults_[name] = *text;
  return t;
}

std::string ChatTemplate::render(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                                 bool add_generation_prompt, const nlohmann::ordered_json& kwargs) const {
  if (!kwargs.is_object()) fail("chat template kwargs must be a JSON object");
  if (!tools.is_null() && !tools.is_array()) fail("tools must be a JSON array or null");
  nlohmann::ordered_json vars = nlohmann::ordered_json::object();
  vars["messages"] = normalize_messages(messages);
  vars["tools"] = tools;
  vars["documents"] = nullptr;
  vars["add_generation_prompt"] = add_generation_prompt;
  for (auto it = defaults_.begin(); it != defaults_.end(); ++it) vars[it.key()] = it.value();
  for (auto it = kwargs.begin(); it != kwargs.end(); ++it) {
    if (it.key() == "messages" || it.key() == "tools" || it.key() == "add_generation_prompt")
      fail("chat template kwargs cannot set '", it.key(), "'");
    vars[it.key()] = it.value();
  }
  return template_.render(vars, options_);
}

}  // namespace a3b
