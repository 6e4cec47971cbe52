// a3b chat-template: render a chat prompt from a template and OpenAI-style messages, byte-exact.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "chat/chat_template.h"
#include "cli/commands.h"
#include "core/error.h"

namespace a3b {
namespace {

struct ChatTemplateArgs {
  std::string template_path;
  std::string messages_path;
  std::string tools_path;
  std::string kwargs = "{}";
  bool add_generation_prompt = false;
};

nlohmann::ordered_json parse_json(const std::string& text, const std::string& what) {
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail(what, ": invalid JSON: ", e.what());
  }
}

nlohmann::ordered_json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open ", path);
  std::ostringstream s;
  s << in.rdbuf();
  return parse_json(s.str(), path);
}

void run_chat_template(const ChatTemplateArgs& a) {
  std::optional<ChatTemplate> tpl;
  if (std::filesystem::is_directory(a.template_path)) {
    tpl = ChatTemplate::from_model_dir(a.template_path);
    if (!tpl) fail(a.template_path, ": no chat template found in this folder");
  } else {
    tpl = ChatTemplate::from_file(a.template_path);
  }
  const auto messages = read_json(a.messages_path);
  const auto tools = a.tools_path.empty() ? nlohmann::ordered_json() : read_json(a.tools_path);
  const auto kwargs = parse_json(a.kwargs, "--kwargs");
  const std::string prompt = tpl->render(messages, tools, a.add_generation_prompt, kwargs);
  std::fwrite(prompt.data(), 1, prompt.size(), stdout);
}

}  // namespace

void add_chat_template_command(CLI::App& app) {
  auto args = std::make_shared<ChatTemplateArgs>();
  CLI::App* cmd = app.add_subcommand("chat-template", "Render a chat prompt with a Jinja chat template (printed exactly)");
  cmd->add_option("--template", args->template_path, "Template file (.jinja), or a model folder")->required();
  cmd->add_option("--messages", args->messages_path, "JSON file with the OpenAI-style messages array")->required();
  cmd->add_option("--tools", args->tools_path, "JSON file with the tools array");
  cmd->add_option("--kwargs", args->kwargs, "Extra template variables as a JSON object, e.g. '{\"enable_thinking\": false}'");
  cmd->add_flag("--add-generation-prompt", args->add_generation_prompt, "End with the assistant turn opener");
  cmd->callback([args] { run_chat_template(*args); });
}

}  // namespace a3b
