// `a3b serve`: the OpenAI-compatible HTTP API in front of the engine.
#pragma once
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "engine/engine.h"
#include "engine/generation_config.h"
#include "tokenizer/tokenizer.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace a3b {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string api_key;                 // empty: no authentication
  std::string model_id;                // the name /v1/models reports
  size_t max_body_bytes = 32 << 20;
  int http_threads = 0;                // 0: enough for every running sequence plus some
  nlohmann::ordered_json default_chat_kwargs = nlohmann::ordered_json::object();  // e.g. {"enable_thinking": false}
  int max_choices = 16;                // n
};

class ApiServer {
 public:
  ApiServer(ServerOptions opts, Engine& engine, const Tokenizer& tok, std::optional<ChatTemplate> tmpl,
            GenerationDefaults defaults);
  ~ApiServer();

  // Binds and serves until stop(); returns false if the address could not be bound.
  bool listen();
  void stop();
  int port() const { return bound_port_; }  // the bound port (useful with port 0)
  bool bind();                              // bind only; then run()
  void run();

 private:
  void routes();
  void chat_completions(const httplib::Request& req, httplib::Response& res);
  void completions(const httplib::Request& req, httplib::Response& res);
  nlohmann::ordered_json models_json() const;

  ServerOptions opts_;
  Engine& engine_;
  const Tokenizer& tok_;
  std::optional<ChatTemplate> template_;
  GenerationDefaults defaults_;
  std::unique_ptr<httplib::Server> http_;
  int bound_port_ = 0;
  std::chrono::system_clock::time_point started_;
};

}  // namespace a3b
