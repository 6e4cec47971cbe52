// a3b perplexity: held-out perplexity of a text file, by the procedure in engine/perplexity.h.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_loader.h"
#include "core/error.h"
#include "engine/perplexity.h"

namespace a3b {
namespace {

struct PerplexityArgs {
  ModelArgs model;
  std::string file;
  int64_t window = 512;
  bool json = false;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read '", path, "'");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void run_perplexity(const PerplexityArgs& a) {
  LoadedModel m = load_model(a.model, /*need_tokenizer=*/true);
  // As the goldens did: the text as one string, added tokens matched, nothing prepended.
  const std::vector<int32_t> ids = m.tokenizer->encode(read_text(a.file));
  const auto t0 = std::chrono::steady_clock::now();
  const bool progress = isatty(STDERR_FILENO);
  PerplexityResult r = perplexity(*m.model, ids, a.window, [&](int64_t done, int64_t total) {
    if (progress) std::fprintf(stderr, "\rwindow %lld/%lld%s", (long long)done, (long long)total, done == total ? "\n" : "");
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (a.json) {
    nlohmann::json j = {{"file", a.file},           {"tokens", ids.size()},     {"window", a.window},
                        {"windows", r.windows},     {"predicted_tokens", r.predicted},
                        {"mean_nll", r.mean_nll},   {"perplexity", r.perplexity},
                        {"top1_accuracy", double(r.top1_correct) / double(r.predicted)},
                        {"backend", m.model->backend()}, {"seconds", seconds}};
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  std::printf("tokens %zu, windows %lld of %lld, predicted %lld\n", ids.size(), (long long)r.windows,
              (long long)a.window, (long long)r.predicted);
  std::printf("mean NLL %.8f nats, top-1 accuracy %.4f\n", r.mean_nll, double(r.top1_correct) / double(r.predicted));
  std::printf("perplexity %.8f  (%s, %.1f tok/s)\n", r.perplexity, m.model->backend().c_str(),
              double(ids.size()) / seconds);
}

}  // namespace

void add_perplexity_command(CLI::App& app) {
  auto a = std::make_shared<PerplexityArgs>();
  CLI::App* cmd = app.add_subcommand("perplexity", "Perplexity of a text file (non-overlapping windows)");
  a->model.add_to(cmd);
  cmd->add_option("-f,--file", a->file, "Text file (tokenized as one string, special tokens matched)")->required();
  cmd->add_option("--window", a->window, "Tokens per window; each starts from an empty state")->capture_default_str();
  cmd->add_flag("--json", a->json, "Print the result as JSON");
  cmd->callback([a] { run_perplexity(*a); });
}

}  // namespace a3b
