// POST /v1/chat/completions: render the conversation with the model's chat template, generate,
// split reasoning from content, turn Qwen XML tool calls into OpenAI tool_calls; stream as SSE or
// answer once.
#include <httplib.h>

#include "core/error.h"
#include "server/api_error.h"
#include "server/http_util.h"
#include "server/request_fields.h"
#include "server/server.h"

namespace a3b {

using json = nlohmann::ordered_json;

namespace {

// Roles the templates know; "developer" (newer OpenAI clients) means system.
json normalise_messages(const json& messages) {
  json out = json::array();
  for (size_t i = 0; i < messages.size(); ++i) {
    const json& m = messages[i];
    std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) bad_request(where + " must be an object", "messages");
    if (!m.contains("role") || !m["role"].is_string()) bad_request(where + ".role must be a string", "messages");
    json copy = m;
    std::string role = m["role"];
    if (role == "developer") copy["role"] = role = "system";
    if (role != "system" && role != "user" && role != "assistant" && role != "tool")
      bad_request(where + ".role '" + role + "' is not one of system, user, assistant, tool", "messages");
    if (m.contains("content") && !m["content"].is_null() && !m["content"].is_string() && !m["content"].is_array())
      bad_request(where + ".content must be a string, an array of parts or null", "messages");
    if (m.contains("tool_calls") && !m["tool_calls"].is_null() && !m["tool_calls"].is_array())
      bad_request(where + ".tool_calls must be an array", "messages");
    out.push_back(std::move(copy));
  }
  return out;
}

void validate_tools(const json& tools) {
  for (size_t i = 0; i < tools.size(); ++i) {
    const json& t = tools[i];
    std::string where = "tools[" + std::to_string(i) + "]";
    if (!t.is_object() || t.value("type", "function") != "function" || !t.contains("function") || !t["function"].is_object())
      bad_request(where + " must be {\"type\": \"function\", \"function\": {...}}", "tools");
    const json& f = t["function"];
    if (!f.contains("name") || !f["name"].is_string() || f["name"].get<std::string>().empty())
      bad_request(where + ".function.name must be a non-empty string", "tools");
    if (f.contains("parameters") && !f["parameters"].is_null() && !f["parameters"].is_object())
      bad_request(where + ".function.parameters must be a JSON schema object", "tools");
  }
}

}  // namespace

void ApiServer::chat_completions(const httplib::Request& req, httplib::Response& res) {
  json body = parse_body(req);
  Fields f(body);
  if (!template_)
    throw ApiError(400, "this model has no chat template: start the server with --chat-template FILE, or use /v1/completions");
  const json* raw_messages = f.array("messages");
  if (!raw_messages || raw_messages->empty()) bad_request("'messages' must be a non-empty array", "messages");
  json messages = normalise_messages(*raw_messages);

  const bool stream = f.boolean("stream").value_or(false);
  const int n = int(f.integer("n", 1, opts_.max_choices).value_or(1));
  std::optional<int64_t> max_tokens = f.integer("max_completion_tokens", 1, INT32_MAX);
  if (!max_tokens) max_tokens = f.integer("max_tokens", 1, INT32_MAX);
  const bool logprobs = f.boolean("logprobs").value_or(false);
  const int top_logprobs = int(f.integer("top_logprobs", 0, 20).value_or(0));
  if (top_logprobs > 0 && !logprobs) bad_request("'top_logprobs' needs 'logprobs': true", "top_logprobs");
  bool include_usage = false;
  if (const json* so = f.object("stream_options")) include_usage = so->value("include_usage", false);
  if (const json* rf = f.object("response_format"); rf && rf->value("type", "text") != "text")
    bad_request("response_format '" + rf->value("type", "") + "' is not supported yet", "response_format");

  // Tools and tool_choice: "none" hides the tools; "required" or a named function opens the call
  // in the prompt so that the model must write one.
  json tools = json(nullptr);
  if (const json* t = f.array("tools"); t && !t->empty()) {
    validate_tools(*t);
    tools = *t;
  }
  std::string forced_call;
  if (body.contains("tool_choice") && !body["tool_choice"].is_null()) {
    const json& tc = body["tool_choice"];
    if (tc.is_string()) {
      std::string c = tc;
      if (c == "none") tools = json(nullptr);
      else if (c == "required") forced_call = "<tool_call>\n<function=";
      else if (c != "auto") bad_request("'tool_choice' must be none, auto, required or a named function", "tool_choice");
    } else if (tc.is_object() && tc.contains("function") && tc["function"].is_object() && tc["function"].contains("name") &&
               tc["function"]["name"].is_string()) {
      std::string name = tc["function"]["name"];
      bool known = false;
      for (auto& t : tools.is_array() ? tools : json::array()) known |= t["function"]["name"] == name;
      if (!known) bad_request("tool_choice names function '" + name + "', which is not in 'tools'", "tool_choice");
      forced_call = "<tool_call>\n<function=" + name + ">\n";
    } else {
      bad_request("'tool_choice' must be none, auto, required or {\"type\": \"function\", \"function\": {\"name\": ...}}", "tool_choice");
    }
    if (!forced_call.empty() && tools.is_null()) bad_request("'tool_choice' requires 'tools'", "tool_choice");
  }

  // Template variables: server defaults, then chat_template_kwargs, then the top-level aliases.
  json kwargs = opts_.default_chat_kwargs;
  if (const json* k = f.object("chat_template_kwargs")) kwargs.update(*k);
  if (auto v = f.boolean("enable_thinking")) kwargs["enable_thinking"] = *v;
  if (auto v = f.boolean("preserve_thinking")) kwargs["preserve_thinking"] = *v;
  if (auto effort = f.string("reasoning_effort"); effort && *effort == "none") kwargs["enable_thinking"] = false;

  std::string prompt;
  try {
    prompt = template_->render(messages, tools, true, kwargs);
  } catch (const Error& e) {
    bad_request(std::string("the chat template rejected the conversation: ") + e.what(), "messages");
  }
  // With a forced call, the model skips thinking: close the block the template opened.
  if (!forced_call.empty()) {
    if (prompt.ends_with("<think>\n")) prompt += "\n</think>\n\n";
    prompt += forced_call;
  }
  std::vector<int32_t> ids = tok_.encode(prompt, true);
  if (int64_t(ids.size()) + max_tokens.value_or(1) > engine_.max_context())
    bad_request("this conversation has " + std::to_string(ids.size()) + " tokens and asks for " +
                    std::to_string(max_tokens.value_or(1)) + " more; the context is " + std::to_string(engine_.max_context()) +
                    " tokens",
                "messages", "context_length_exceeded");

  ParserOptions popts;
  popts.starts_in_reasoning = prompt_opens_reasoning(prompt);
  popts.tools = tools.is_null() ? json::array() : tools;
  popts.parse_tool_calls = !tools.is_null();

  SamplingParams sampling = parse_sampling(f, defaults_.sampling);
  std::vector<GenerationRequest> reqs;
  for (int i = 0; i < n; ++i) {
    GenerationRequest r;
    r.prompt = ids;
    r.sampling = sampling;
    if (sampling.seed && i > 0) r.sampling.seed = *sampling.seed + uint64_t(i);
    r.max_tokens = max_tokens.value_or(engine_.max_context());
    r.logprobs = logprobs;
    r.top_logprobs = top_logprobs;
    reqs.push_back(std::move(r));
  }
  // The parser sees the forced call opening as if the model had written it.
  auto gen = std::make_shared<Generation>(engine_, tok_, std::move(reqs), parse_stop(f), popts, forced_call);

  const std::string id = random_id("chatcmpl-");
  const int64_t created = unix_now();
  const std::string model = f.string("model").value_or(opts_.model_id);
  auto usage = [gen] {
    json u = {{"prompt_tokens", gen->prompt_tokens()},
              {"completion_tokens", gen->completion_tokens()},
              {"total_tokens", gen->prompt_tokens() + gen->completion_tokens()},
              {"prompt_tokens_details", {{"cached_tokens", gen->cached_tokens()}}},
              {"completion_tokens_details", {{"reasoning_tokens", gen->reasoning_tokens()}}}};
    return u;
  };
  auto tool_call_json = [](const ToolCallDelta& d) {
    json fn = json::object();
    if (!d.name.empty()) fn["name"] = d.name;
    fn["arguments"] = d.arguments;
    json j = {{"index", d.index}};
    if (!d.id.empty()) {
      j["id"] = d.id;
      j["type"] = "function";
    }
    j["function"] = fn;
    return j;
  };

  if (stream) {
    auto chunk = [=](json choices) {
      return json{{"id", id}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", model}, {"choices", choices}};
    };
    auto head = [=] {
      std::vector<json> out;
      for (int i = 0; i < n; ++i)
        out.push_back(chunk(json::array({{{"index", i}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"logprobs", nullptr}, {"finish_reason", nullptr}}})));
      return out;
    };
    auto chunks = [=, this](std::vector<ChoiceUpdate>& updates) {
      std::vector<json> out;
      for (auto& u : updates) {
        json delta = json::object();
        if (!u.delta.reasoning.empty()) delta["reasoning_content"] = u.delta.reasoning;
        if (!u.delta.content.empty()) delta["content"] = u.delta.content;
        if (!u.delta.tool_calls.empty()) {
          delta["tool_calls"] = json::array();
          for (auto& d : u.delta.tool_calls) delta["tool_calls"].push_back(tool_call_json(d));
        }
        json lp = logprobs && !u.logprobs.empty() ? chat_logprobs_json(tok_, u.logprobs) : json(nullptr);
        if (!delta.empty() || !lp.is_null())
          out.push_back(chunk(json::array({{{"index", u.index}, {"delta", delta}, {"logprobs", lp}, {"finish_reason", nullptr}}})));
        if (!u.finish_reason.empty())
          out.push_back(chunk(json::array({{{"index", u.index}, {"delta", json::object()}, {"logprobs", nullptr}, {"finish_reason", u.finish_reason}}})));
      }
      return out;
    };
    auto tail = [=]() -> std::vector<json> {
      if (!include_usage) return {};
      json c = chunk(json::array());
      c["usage"] = usage();
      return {c};
    };
    stream_events(res, gen, chunks, head, tail);
    return;
  }

  // Non-streaming: accumulate every choice, then one body.
  struct Acc {
    std::string reasoning, content, finish;
    std::vector<json> calls;
    std::vector<LogprobEntry> logprobs;
  };
  auto acc = std::make_shared<std::vector<Acc>>(size_t(n));
  auto collect = [acc](std::vector<ChoiceUpdate>& updates) {
    for (auto& u : updates) {
      Acc& a = (*acc)[size_t(u.index)];
      a.reasoning += u.delta.reasoning;
      a.content += u.delta.content;
      for (auto& d : u.delta.tool_calls) {
        if (size_t(d.index) >= a.calls.size()) a.calls.resize(size_t(d.index) + 1, json::object());
        json& call = a.calls[size_t(d.index)];
        if (!d.id.empty()) call = {{"id", d.id}, {"type", "function"}, {"function", {{"name", d.name}, {"arguments", ""}}}};
        call["function"]["arguments"] = call["function"].value("arguments", "") + d.arguments;
      }
      a.logprobs.insert(a.logprobs.end(), u.logprobs.begin(), u.logprobs.end());
      if (!u.finish_reason.empty()) a.finish = u.finish_reason;
    }
  };
  auto build = [=, this] {
    json choices = json::array();
    for (int i = 0; i < n; ++i) {
      Acc& a = (*acc)[size_t(i)];
      json msg = {{"role", "assistant"}, {"content", a.content.empty() && !a.calls.empty() ? json(nullptr) : json(a.content)}};
      if (!a.reasoning.empty()) msg["reasoning_content"] = a.reasoning;
      if (!a.calls.empty()) msg["tool_calls"] = a.calls;
      choices.push_back({{"index", i}, {"message", msg}, {"logprobs", logprobs ? chat_logprobs_json(tok_, a.logprobs) : json(nullptr)},
                         {"finish_reason", a.finish}});
    }
    return json{{"id", id}, {"object", "chat.completion"}, {"created", created}, {"model", model}, {"choices", choices}, {"usage", usage()}};
  };
  respond_when_done(res, gen, collect, build);
}

}  // namespace a3b
