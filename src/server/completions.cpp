// POST /v1/completions: a raw prompt (text or token ids), no chat template.
#include <httplib.h>

#include "server/api_error.h"
#include "server/http_util.h"
#include "server/request_fields.h"
#include "server/server.h"

namespace a3b {

using json = nlohmann::ordered_json;

void ApiServer::completions(const httplib::Request& req, httplib::Response& res) {
  json body = parse_body(req);
  Fields f(body);
  if (!body.contains("prompt")) bad_request("'prompt' is required", "prompt");
  json p = body["prompt"];
  if (p.is_array() && p.size() == 1 && p[0].is_string()) p = p[0];  // one prompt given as a list
  std::vector<int32_t> ids;
  std::string prompt_text;
  if (p.is_string()) {
    prompt_text = p.get<std::string>();
    ids = tok_.encode(prompt_text, true);
  } else if (p.is_array() && !p.empty() && std::all_of(p.begin(), p.end(), [](auto& x) { return x.is_number_integer(); })) {
    for (auto& x : p) {
      int64_t v = x.get<int64_t>();
      if (v < 0 || v >= tok_.vocab_size()) bad_request("prompt token id " + std::to_string(v) + " is outside the vocabulary", "prompt");
      ids.push_back(int32_t(v));
    }
    prompt_text = tok_.decode(ids, false);
  } else {
    bad_request("'prompt' must be a string or an array of token ids (one prompt per request)", "prompt");
  }
  if (ids.empty()) bad_request("'prompt' is empty", "prompt");

  const bool stream = f.boolean("stream").value_or(false);
  const int n = int(f.integer("n", 1, opts_.max_choices).value_or(1));
  const int64_t max_tokens = f.integer("max_tokens", 1, INT32_MAX).value_or(16);
  const int logprobs = int(f.integer("logprobs", 0, 20).value_or(-1));
  const bool echo = f.boolean("echo").value_or(false);
  bool include_usage = false;
  if (const json* so = f.object("stream_options")) include_usage = so->value("include_usage", false);
  if (int64_t(ids.size()) + max_tokens > engine_.max_context())
    bad_request("the prompt has " + std::to_string(ids.size()) + " tokens and asks for " + std::to_string(max_tokens) +
                    " more; the context is " + std::to_string(engine_.max_context()) + " tokens",
                "prompt", "context_length_exceeded");

  SamplingParams sampling = parse_sampling(f, defaults_.sampling);
  std::vector<GenerationRequest> reqs;
  for (int i = 0; i < n; ++i) {
    GenerationRequest r;
    r.prompt = ids;
    r.sampling = sampling;
    if (sampling.seed && i > 0) r.sampling.seed = *sampling.seed + uint64_t(i);
    r.max_tokens = max_tokens;
    r.logprobs = logprobs >= 0;
    r.top_logprobs = std::max(0, logprobs);
    reqs.push_back(std::move(r));
  }
  auto gen = std::make_shared<Generation>(engine_, tok_, std::move(reqs), parse_stop(f), std::nullopt);
  const std::string id = random_id("cmpl-");
  const int64_t created = unix_now();
  const std::string model = f.string("model").value_or(opts_.model_id);
  auto usage = [gen] {
    return json{{"prompt_tokens", gen->prompt_tokens()},
                {"completion_tokens", gen->completion_tokens()},
                {"total_tokens", gen->prompt_tokens() + gen->completion_tokens()}};
  };
  auto offsets = std::make_shared<std::vector<size_t>>(size_t(n), echo ? prompt_text.size() : 0);
  auto choice = [=, this](const ChoiceUpdate& u, const std::string& text) {
    json lp = nullptr;
    if (logprobs >= 0) {
      lp = completion_logprobs_json(tok_, u.logprobs, (*offsets)[size_t(u.index)]);
      (*offsets)[size_t(u.index)] += text.size();
    }
    return json{{"index", u.index}, {"text", text}, {"logprobs", lp},
                {"finish_reason", u.finish_reason.empty() ? json(nullptr) : json(u.finish_reason)}};
  };

  if (stream) {
    auto chunk = [=](json choices) {
      return json{{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", model}, {"choices", choices}};
    };
    auto head = [=]() -> std::vector<json> {
      if (!echo) return {};
      std::vector<json> out;
      for (int i = 0; i < n; ++i)
        out.push_back(chunk(json::array({{{"index", i}, {"text", prompt_text}, {"logprobs", nullptr}, {"finish_reason", nullptr}}})));
      return out;
    };
    auto chunks = [=](std::vector<ChoiceUpdate>& updates) {
      std::vector<json> out;
      for (auto& u : updates) out.push_back(chunk(json::array({choice(u, u.text)})));
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

  struct Acc {
    std::string text, finish;
    std::vector<LogprobEntry> logprobs;
  };
  auto acc = std::make_shared<std::vector<Acc>>(size_t(n));
  auto collect = [acc](std::vector<ChoiceUpdate>& updates) {
    for (auto& u : updates) {
      Acc& a = (*acc)[size_t(u.index)];
      a.text += u.text;
      a.logprobs.insert(a.logprobs.end(), u.logprobs.begin(), u.logprobs.end());
      if (!u.finish_reason.empty()) a.finish = u.finish_reason;
    }
  };
  auto build = [=, this] {
    json choices = json::array();
    for (int i = 0; i < n; ++i) {
      Acc& a = (*acc)[size_t(i)];
      json lp = logprobs >= 0 ? completion_logprobs_json(tok_, a.logprobs, echo ? prompt_text.size() : 0) : json(nullptr);
      choices.push_back({{"index", i}, {"text", (echo ? prompt_text : "") + a.text}, {"logprobs", lp}, {"finish_reason", a.finish}});
    }
    return json{{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", model}, {"choices", choices}, {"usage", usage()}};
  };
  respond_when_done(res, gen, collect, build);
}

}  // namespace a3b
