#include "server/server.h"

#include <httplib.h>

#include "core/error.h"
#include "server/api_error.h"
#include "server/http_util.h"
#include "server/request_fields.h"

namespace a3b {

using json = nlohmann::ordered_json;

ApiServer::ApiServer(ServerOptions opts, Engine& engine, const Tokenizer& tok, std::optional<ChatTemplate> tmpl,
                     GenerationDefaults defaults)
    : opts_(std::move(opts)),
      engine_(engine),
      tok_(tok),
      template_(std::move(tmpl)),
      defaults_(std::move(defaults)),
      http_(std::make_unique<httplib::Server>()),
      started_(std::chrono::system_clock::now()) {
  // Each streaming client holds a thread while it waits for tokens.
  int threads = opts_.http_threads > 0 ? opts_.http_threads : 256;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
  http_->set_payload_max_length(opts_.max_body_bytes);
  routes();
}

ApiServer::~ApiServer() { stop(); }

bool ApiServer::bind() {
  bound_port_ = opts_.port == 0 ? http_->bind_to_any_port(opts_.host) : (http_->bind_to_port(opts_.host, opts_.port) ? opts_.port : -1);
  return bound_port_ > 0;
}

void ApiServer::run() { http_->listen_after_bind(); }

bool ApiServer::listen() {
  if (!bind()) return false;
  run();
  return true;
}

void ApiServer::stop() {
  if (http_) http_->stop();
}

json ApiServer::models_json() const {
  return {{"object", "list"},
          {"data",
           {{{"id", opts_.model_id},
             {"object", "model"},
             {"created", std::chrono::duration_cast<std::chrono::seconds>(started_.time_since_epoch()).count()},
             {"owned_by", "a3b"},
             {"max_model_len", engine_.max_context()}}}}};
}

void ApiServer::routes() {
  httplib::Server& s = *http_;

  // Authentication for the API routes; /health and /metrics stay open for probes.
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (opts_.api_key.empty() || req.path == "/health" || req.path == "/metrics") return httplib::Server::HandlerResponse::Unhandled;
    if (req.get_header_value("Authorization") == "Bearer " + opts_.api_key) return httplib::Server::HandlerResponse::Unhandled;
    send_json(res, 401, ApiError(401, "Incorrect API key provided.", "invalid_request_error", {}, "invalid_api_key").body());
    return httplib::Server::HandlerResponse::Handled;
  });

  // Every error the library itself produces (404, 413, ...) gets an OpenAI-style body too.
  s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string msg = res.status == 404   ? "no route " + req.method + " " + req.path
                      : res.status == 413 ? "the request body is too large"
                                          : "request failed with status " + std::to_string(res.status);
    send_json(res, res.status, ApiError(res.status, msg, res.status == 404 ? "not_found_error" : "invalid_request_error").body());
  });

  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const ApiError& e) {
      send_json(res, e.status, e.body());
    } catch (const EngineBusy& e) {
      send_json(res, 429, ApiError(429, e.what(), "rate_limit_error").body());
    } catch (const Error& e) {
      send_json(res, 400, ApiError(400, e.what()).body());
    } catch (const std::exception& e) {
      send_json(res, 500, ApiError(500, std::string("internal error: ") + e.what(), "server_error").body());
    }
  });

  s.Get("/health", [](const httplib::Request&, httplib::Response& res) { send_json(res, 200, {{"status", "ok"}}); });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(engine_.metrics().prometheus(), "text/plain; version=0.0.4");
  });
  s.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) { send_json(res, 200, models_json()); });
  s.Post("/v1/chat/completions", [this](const httplib::Request& q, httplib::Response& r) { chat_completions(q, r); });
  s.Post("/v1/completions", [this](const httplib::Request& q, httplib::Response& r) { completions(q, r); });

  // The prompt a chat request would be given (llama.cpp's debugging endpoint).
  s.Post("/apply-template", [this](const httplib::Request& req, httplib::Response& res) {
    json body = parse_body(req);
    Fields f(body);
    if (!template_) throw ApiError(400, "this model has no chat template");
    const json* messages = f.array("messages");
    if (!messages) bad_request("'messages' must be an array", "messages");
    json kwargs = opts_.default_chat_kwargs;
    if (const json* k = f.object("chat_template_kwargs")) kwargs.update(*k);
    const json* tools = f.array("tools");
    std::string prompt = template_->render(*messages, tools ? *tools : json(nullptr),
                                           f.boolean("add_generation_prompt").value_or(true), kwargs);
    send_json(res, 200, {{"prompt", prompt}});
  });

  s.Post("/tokenize", [this](const httplib::Request& req, httplib::Response& res) {
    json body = parse_body(req);
    Fields f(body);
    bool special = f.boolean("add_special").value_or(true) && f.boolean("parse_special").value_or(true);
    std::string text;
    if (auto c = f.string("content")) text = *c;
    else if (auto p = f.string("prompt")) text = *p;
    else if (const json* m = f.array("messages")) {
      if (!template_) throw ApiError(400, "this model has no chat template");
      text = template_->render(*m, json(nullptr), f.boolean("add_generation_prompt").value_or(true), opts_.default_chat_kwargs);
    } else {
      bad_request("give 'content' (text) or 'messages'", "content");
    }
    auto ids = tok_.encode(text, special);
    json out = {{"tokens", ids}, {"count", ids.size()}, {"max_model_len", engine_.max_context()}};
    if (f.boolean("with_pieces").value_or(false)) {
      json pieces = json::array();
      for (int32_t id : ids) pieces.push_back({{"id", id}, {"piece", tok_.token_text(id)}});
      out["tokens"] = pieces;
    }
    send_json(res, 200, out);
  });

  s.Post("/detokenize", [this](const httplib::Request& req, httplib::Response& res) {
    json body = parse_body(req);
    Fields f(body);
    const json* tokens = f.array("tokens");
    if (!tokens) bad_request("'tokens' must be an array of token ids", "tokens");
    std::vector<int32_t> ids;
    for (auto& t : *tokens) {
      if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= tok_.vocab_size())
        bad_request("'tokens' must hold token ids between 0 and " + std::to_string(tok_.vocab_size() - 1), "tokens");
      ids.push_back(t.get<int32_t>());
    }
    send_json(res, 200, {{"content", tok_.decode(ids, false)}, {"prompt", tok_.decode(ids, false)}});
  });
}

}  // namespace a3b
