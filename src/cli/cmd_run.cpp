// a3b run: an interactive chat in the terminal, on the same engine as the server.
// Reasoning is shown dimmed apart from the answer (/reasoning toggles it); /think and /no_think
// switch thinking; /clear forgets the conversation; /tool TEXT answers the model's last tool call;
// /quit leaves. Tools come from --tools FILE.json, else from the model folder's tools.json.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "chat/chat_parser.h"
#include "cli/commands.h"
#include "cli/model_loader.h"
#include "core/error.h"
#include "engine/engine.h"

namespace a3b {
namespace {

using json = nlohmann::ordered_json;
using namespace std::chrono_literals;

struct RunArgs {
  ModelArgs model;
  std::string system;
  int64_t max_tokens = 2048;
  bool no_think = false;
  bool hide_reasoning = false;
  std::optional<float> temperature;
  std::optional<uint64_t> seed;
  std::string tools;  // a JSON array of OpenAI tools; "none" offers none
};

const char* kDim = "\x1b[2m";
const char* kReset = "\x1b[0m";
const char* kBold = "\x1b[1m";

// The tools offered to the model: --tools FILE, else MODEL/tools.json when the folder has one.
json load_tools(const std::string& option, const std::string& model_path) {
  std::string path = option;
  if (path == "none") return json(nullptr);
  if (path.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(model_path, ec)) return json(nullptr);
    path = model_path + "/tools.json";
    if (!std::filesystem::exists(path, ec)) return json(nullptr);
  }
  std::ifstream in(path);
  if (!in) fail("cannot read tools file '", path, "'");
  json tools = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (tools.is_discarded()) fail(path, ": not valid JSON");
  if (!tools.is_array()) fail(path, ": expected a JSON array of OpenAI tools ({\"type\": \"function\", ...})");
  for (const json& t : tools)
    if (!t.is_object() || !t.contains("function") || !t["function"].is_object() || !t["function"].contains("name"))
      fail(path, ": every tool must be {\"type\": \"function\", \"function\": {\"name\": ..., ...}}");
  return tools.empty() ? json(nullptr) : tools;
}

void run_chat(RunArgs& a) {
  LoadedModel m = load_model(a.model, /*need_tokenizer=*/true);
  if (!m.chat_template) fail(m.path, ": the model has no chat template (give --chat-template FILE)");
  EngineOptions eo;
  eo.eos_ids = m.eos_ids;
  Engine engine(m.model, eo);
  const bool tty = isatty(STDOUT_FILENO);
  auto style = [&](const char* s) { return tty ? s : ""; };

  bool thinking = !a.no_think, show_reasoning = !a.hide_reasoning;
  json history = json::array();
  if (!a.system.empty()) history.push_back({{"role", "system"}, {"content", a.system}});
  const json tools = load_tools(a.tools, m.path);
  std::printf("a3b: chatting with %s. /think /no_think /reasoning /clear /tool RESULT /quit\n", m.name.c_str());
  if (!tools.is_null()) {
    std::printf("tools:");
    for (const json& t : tools) std::printf(" %s", t["function"]["name"].get<std::string>().c_str());
    std::printf(" (answer a call with /tool RESULT)\n");
  }

  std::string line;
  for (;;) {
    std::printf("%s> %s", style(kBold), style(kReset));
    std::fflush(stdout);
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    if (line == "/quit" || line == "/exit") break;
    if (line == "/think" || line == "/no_think") {
      thinking = line == "/think";
      std::printf("(thinking %s)\n", thinking ? "on" : "off");
      continue;
    }
    if (line == "/reasoning") {
      show_reasoning = !show_reasoning;
      std::printf("(reasoning %s)\n", show_reasoning ? "shown" : "hidden");
      continue;
    }
    if (line == "/clear") {
      history = json::array();
      if (!a.system.empty()) history.push_back({{"role", "system"}, {"content", a.system}});
      std::printf("(conversation cleared)\n");
      continue;
    }
    if (line.rfind("/tool", 0) == 0 && (line.size() == 5 || line[5] == ' ')) {
      if (history.empty() || (!history.back().contains("tool_calls") && history.back()["role"] != "tool")) {
        std::printf("(no tool call to answer)\n");
        continue;
      }
      history.push_back({{"role", "tool"}, {"content", line.size() > 6 ? line.substr(6) : ""}});
    } else if (line[0] == '/' && line.find(' ') == std::string::npos) {  // "/etc/hosts: what is it?" is text
      std::printf("(unknown command %s)\n", line.c_str());
      continue;
    } else {
      history.push_back({{"role", "user"}, {"content", line}});
    }
    std::string prompt = m.chat_template->render(history, tools, true, {{"enable_thinking", thinking}});
    GenerationRequest req;
    req.prompt = m.tokenizer->encode(prompt, true);
    req.sampling = m.defaults.sampling;
    if (a.temperature) req.sampling.temperature = *a.temperature;
    if (a.seed) req.sampling.seed = *a.seed;
    req.max_tokens = a.max_tokens;
    auto handle = engine.submit(std::move(req));

    ParserOptions popts;
    popts.starts_in_reasoning = prompt_opens_reasoning(prompt);
    popts.parse_tool_calls = !tools.is_null();
    if (!tools.is_null()) popts.tools = tools;
    ChatOutputParser parser(popts);
    StreamDecoder decoder(*m.tokenizer, true);
    bool in_reasoning_shown = false;
    auto show = [&](const ChatDelta& d) {
      if (!d.reasoning.empty() && show_reasoning) {
        if (!in_reasoning_shown) std::printf("%s", style(kDim));
        in_reasoning_shown = true;
        std::printf("%s", d.reasoning.c_str());
      }
      if (!d.content.empty()) {
        if (in_reasoning_shown) std::printf("%s\n", style(kReset));
        in_reasoning_shown = false;
        std::printf("%s", d.content.c_str());
      }
      std::fflush(stdout);
    };
    for (;;) {
      auto e = handle->next(3600s);
      if (!e) break;
      if (e->token >= 0 && !e->is_stop_token) show(parser.push(decoder.push(e->token)));
      if (e->finish != FinishReason::None) {
        show(parser.push(decoder.flush()));
        show(parser.finish());
        if (!e->error.empty()) std::printf("\n(error: %s)", e->error.c_str());
        if (e->finish == FinishReason::Length) std::printf("\n(stopped at the token limit)");
        break;
      }
    }
    if (in_reasoning_shown) std::printf("%s", style(kReset));
    const ChatResult& said = parser.result();
    json reply = {{"role", "assistant"}, {"content", said.content}};
    if (!said.reasoning.empty()) reply["reasoning_content"] = said.reasoning;
    if (!said.tool_calls.empty()) {
      reply["tool_calls"] = json::array();
      for (auto& c : said.tool_calls) {
        std::printf("\n%s[tool call] %s %s%s", style(kBold), c.name.c_str(), c.arguments.c_str(), style(kReset));
        reply["tool_calls"].push_back({{"id", c.id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
      }
    }
    std::printf("\n");
    history.push_back(reply);
  }
  std::printf("\n");
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "Chat with the model in the terminal");
  a->model.add_to(cmd);
  cmd->add_option("--system", a->system, "System message");
  cmd->add_option("-n,--max-tokens", a->max_tokens, "Token limit per reply")->capture_default_str();
  cmd->add_flag("--no-think", a->no_think, "Start with thinking off (/think turns it on)");
  cmd->add_flag("--hide-reasoning", a->hide_reasoning, "Start with reasoning hidden (/reasoning shows it)");
  cmd->add_option("--temp,--temperature", a->temperature, "Sampling temperature (default: the model's)");
  cmd->add_option("--seed", a->seed, "Sampling seed");
  cmd->add_option("--tools", a->tools, "JSON file with an array of OpenAI tools (default: MODEL/tools.json; 'none')");
  cmd->callback([a] { run_chat(*a); });
}

}  // namespace a3b
