// a3b serve: the OpenAI-compatible server.
#include <csignal>
#include <cstdio>

#include "cli/commands.h"
#include "cli/model_loader.h"
#include "core/error.h"
#include "server/server.h"

namespace a3b {
namespace {

struct ServeArgs {
  ModelArgs model;
  ServerOptions server;
  EngineOptions engine;
  bool no_think = false;
  int64_t ctx = 0;
  int64_t cache_mb = -1;
};

ApiServer* g_server = nullptr;

void run_serve(ServeArgs& a) {
  LoadedModel m = load_model(a.model, /*need_tokenizer=*/true);
  a.engine.eos_ids = m.eos_ids;
  a.engine.max_context = a.ctx;
  if (a.cache_mb >= 0) a.engine.prefix_cache_bytes = a.cache_mb << 20;
  if (a.server.model_id.empty()) a.server.model_id = m.name;
  if (a.no_think) a.server.default_chat_kwargs["enable_thinking"] = false;
  Engine engine(m.model, a.engine);
  ApiServer server(a.server, engine, *m.tokenizer, m.chat_template, m.defaults);
  if (!server.bind()) fail("cannot listen on ", a.server.host, ":", a.server.port, " (address in use?)");
  std::fprintf(stderr, "a3b: serving %s (%s, context %lld) on http://%s:%d\n", a.server.model_id.c_str(),
               engine.backend().c_str(), (long long)engine.max_context(), a.server.host.c_str(), server.port());
  g_server = &server;
  std::signal(SIGINT, [](int) { if (g_server) g_server->stop(); });
  std::signal(SIGTERM, [](int) { if (g_server) g_server->stop(); });
  std::signal(SIGPIPE, SIG_IGN);
  server.run();
  g_server = nullptr;
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto a = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve the model over an OpenAI-compatible HTTP API");
  a->model.add_to(cmd);
  cmd->add_option("--host", a->server.host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", a->server.port, "Port (0: any free port)")->capture_default_str();
  cmd->add_option("--api-key", a->server.api_key, "Require 'Authorization: Bearer KEY'");
  cmd->add_option("--model-id", a->server.model_id, "Model name reported by /v1/models (default: the folder name)");
  cmd->add_option("--ctx-size", a->ctx, "Context length per sequence (default: the model's)");
  cmd->add_option("--max-seqs", a->engine.max_sequences, "Sequences decoded together")->capture_default_str();
  cmd->add_option("--max-queue", a->engine.max_queue, "Waiting requests before 429")->capture_default_str();
  cmd->add_option("--batch-tokens", a->engine.max_batch_tokens, "Tokens per forward pass (prefill chunk budget)")->capture_default_str();
  cmd->add_option("--max-body", a->server.max_body_bytes, "Largest request body in bytes")->capture_default_str();
  cmd->add_option("--cache-mb", a->cache_mb,
                  "Memory for cached conversation prefixes, MiB (0: off; default 1024)");
  cmd->add_flag("--no-think", a->no_think, "Default enable_thinking to false");
  cmd->callback([a] { run_serve(*a); });
}

}  // namespace a3b
