// Chat prompt rendering: OpenAI-style messages + tools -> the prompt text a model was trained on,
// through the model's own Jinja chat template (see chat/jinja.h), exactly as transformers'
// apply_chat_template renders it (variables messages, tools, documents=None,
// add_generation_prompt, then the special tokens and the caller's kwargs).
//
// Use nlohmann::ordered_json for requests: Python keeps JSON key order and the Qwen templates print
// tools with tojson, so sorted keys (nlohmann::json) give a different prompt than reference servers.
#pragma once
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "chat/jinja.h"

namespace a3b {

class ChatTemplate {
 public:
  static ChatTemplate from_string(std::string source);
  static ChatTemplate from_file(const std::string& path);
  // chat_template.jinja in the folder, else chat_template.json, else tokenizer_config.json
  // "chat_template" (a string, or a list of {name, template} from which "default" is taken).
  // Also takes bos/eos/pad/unk token strings from tokenizer_config.json as default variables.
  static std::optional<ChatTemplate> from_model_dir(const std::string& dir);

  // messages: OpenAI-style array (normalized first, see normalize_messages); tools: array or null;
  // kwargs: extra template variables (enable_thinking, preserve_thinking, add_vision_id, bos_token...).
  std::string render(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                     bool add_generation_prompt,
                     const nlohmann::ordered_json& kwargs = nlohmann::ordered_json::object()) const;

  const std::string& source() const { return source_; }
  // Variables every render gets unless kwargs override them (special tokens from the model folder).
  nlohmann::ordered_json& default_kwargs() { return defaults_; }
  jinja::RenderOptions& options() { return options_; }

 private:
  std::string source_;
  jinja::Template template_;
  nlohmann::ordered_json defaults_ = nlohmann::ordered_json::object();
  jinja::RenderOptions options_;
};

// What servers do to OpenAI requests before templating:
//  * role "developer" becomes "system" (Qwen templates reject unknown roles);
//  * assistant `reasoning` (vLLM's field) becomes `reasoning_content` unless that is present;
//  * tool_calls[].function.arguments given as a JSON string is parsed to an object ("" means {});
//    invalid JSON is an a3b::Error naming the message;
//  * content parts are reduced to what templates read: {"type":"text","text":...}, {"type":"image"}
//    for image_url/image/input_image, {"type":"video"} for video_url/video; others stay as given.
nlohmann::ordered_json normalize_messages(const nlohmann::ordered_json& messages);

}  // namespace a3b
