// a3b generate: a prompt (text, or token ids) in; generated text out when the model folder has a tokenizer,
// generated ids otherwise (or with --ids); optional float32 logit dump.
#include <chrono>
#include <cstdio>
#include <optional>
#include <random>
#include <sstream>

#include "cli/commands.h"
#include "core/error.h"
#include "core/npy.h"
#include "formats/model_file.h"
#include "tokenizer/tokenizer.h"
#include "model/backend.h"

namespace a3b {
namespace {

struct GenerateArgs {
  std::string model;
  std::optional<std::string> prompt;
  std::optional<std::string> prompt_ids;
  int max_tokens = 16;
  float temperature = 0.0f;
  uint64_t seed = 0;
  bool print_ids = false;
  bool ignore_eos = false;
  std::string dump_logits;
  int threads = 0;
  std::string backend;  // empty: cuda when a GPU is present, else cpu
};

std::vector<int32_t> parse_ids(const std::string& s) {
  std::vector<int32_t> ids;
  std::string tok;
  std::istringstream in(s);
  while (std::getline(in, tok, ',')) {
    std::istringstream parts(tok);
    std::string part;
    while (parts >> part) {
      size_t used = 0;
      long long v = 0;
      try {
        v = std::stoll(part, &used);
      } catch (...) {
        used = 0;
      }
      if (used != part.size() || v < 0 || v > INT32_MAX) fail("--prompt-ids: '", part, "' is not a token id");
      ids.push_back(int32_t(v));
    }
  }
  return ids;
}

int32_t pick(const float* logits, int64_t n, float temperature, std::mt19937_64& rng) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (logits[i] > logits[best]) best = i;
  if (temperature <= 0) return int32_t(best);
  std::vector<double> p(static_cast<size_t>(n));
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += (p[size_t(i)] = std::exp((logits[i] - logits[best]) / temperature));
  std::uniform_real_distribution<double> u(0, sum);
  double r = u(rng);
  for (int64_t i = 0; i < n; ++i)
    if ((r -= p[size_t(i)]) <= 0) return int32_t(i);
  return int32_t(best);
}

void run_generate(const GenerateArgs& a) {
  if (a.max_tokens < 1) fail("--max-tokens must be at least 1");
  const std::string path = a.model.empty() ? default_model_path() : a.model;
  std::optional<Tokenizer> tokenizer;
  if (Tokenizer::exists_at(path)) tokenizer = Tokenizer::load(path);
  std::vector<int32_t> prompt;
  if (a.prompt) {
    if (!tokenizer) fail(path, ": no tokenizer in the model folder (tokenizer.json, or vocab.json + merges.txt); use --prompt-ids");
    prompt = tokenizer->encode(*a.prompt);
    if (prompt.empty()) fail("--prompt: the text has no tokens");
  } else if (a.prompt_ids) {
    prompt = parse_ids(*a.prompt_ids);
    if (prompt.empty()) fail("--prompt-ids: give at least one token id");
  } else {
    fail("give a prompt: -p TEXT or --prompt-ids IDS");
  }
  // Text goes out as it is generated; ids at the end (the format scripts rely on).
  const bool print_text = tokenizer && !a.print_ids;
  std::optional<StreamDecoder> text_out;
  if (print_text) text_out.emplace(*tokenizer, /*skip_special=*/true);
  auto emit = [&](int32_t tok) {
    if (!text_out) return;
    const std::string piece = text_out->push(tok);
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
  };

  auto t0 = std::chrono::steady_clock::now();
  ModelWeights weights = load_model_weights(path);
  const Backend backend = a.backend.empty() ? default_backend() : parse_backend(a.backend);
  std::unique_ptr<Model> owned = make_model(std::move(weights), backend, a.threads);
  Model& model = *owned;
  const int64_t V = model.config().vocab_size;
  auto t1 = std::chrono::steady_clock::now();

  const bool dump = !a.dump_logits.empty();
  std::vector<float> dumped;
  std::vector<float> logits(size_t((dump ? prompt.size() : 1) * V));
  auto seq = model.new_sequence();
  BatchItem item{seq.get(), prompt, dump};
  model.forward({&item, 1}, logits.data());
  if (dump) dumped = logits;
  auto t2 = std::chrono::steady_clock::now();

  std::mt19937_64 rng(a.seed);
  std::vector<int32_t> out;
  const float* last = &logits[logits.size() - size_t(V)];
  for (;;) {
    int32_t tok = pick(last, V, a.temperature, rng);
    out.push_back(tok);
    emit(tok);
    bool eos = std::find(model.config().eos_ids.begin(), model.config().eos_ids.end(), tok) != model.config().eos_ids.end();
    if (int(out.size()) >= a.max_tokens || (eos && !a.ignore_eos)) break;
    BatchItem step{seq.get(), {&out.back(), 1}, false};
    model.forward({&step, 1}, logits.data());
    last = logits.data();
    if (dump) dumped.insert(dumped.end(), logits.begin(), logits.begin() + V);
  }
  auto t3 = std::chrono::steady_clock::now();

  if (dump) write_npy(a.dump_logits, dumped.data(), {int64_t(dumped.size()) / V, V});
  if (print_text) {
    std::printf("%s\n", text_out->flush().c_str());
  } else {
    std::string ids;
    for (size_t i = 0; i < out.size(); ++i) ids += (i ? " " : "") + std::to_string(out[i]);
    std::printf("%s\n", ids.c_str());
  }
  if (!a.print_ids) {
    auto secs = [](auto d) { return std::chrono::duration<double>(d).count(); };
    std::fprintf(stderr, "model %s (%s): load %.2f s, prefill %zu tokens %.1f tok/s, decode %zu tokens %.1f tok/s\n",
                 path.c_str(), model.backend().c_str(), secs(t1 - t0), prompt.size(), prompt.size() / secs(t2 - t1),
                 out.size() - 1, out.size() > 1 ? (out.size() - 1) / secs(t3 - t2) : 0.0);
  }
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  CLI::App* cmd = app.add_subcommand("generate", "Generate text (or token ids) from a prompt");
  cmd->add_option("-m,--model", args->model, "Model folder (default: the model the repository ships)");
  CLI::Option* text = cmd->add_option("-p,--prompt", args->prompt, "Prompt text, tokenized with the model's tokenizer");
  CLI::Option* ids = cmd->add_option("--prompt-ids", args->prompt_ids, "Prompt token ids, e.g. 1,2,3");
  text->excludes(ids);
  cmd->add_option("-n,--max-tokens", args->max_tokens, "Tokens to generate")->capture_default_str();
  cmd->add_option("--temp,--temperature", args->temperature, "Sampling temperature; 0 = greedy")->capture_default_str();
  cmd->add_option("--seed", args->seed, "Random seed for sampling")->capture_default_str();
  cmd->add_flag("--ids", args->print_ids,
                "Print only the generated ids, space-separated on one line (without a tokenizer, ids are printed anyway)");
  cmd->add_flag("--ignore-eos", args->ignore_eos, "Keep generating after an end-of-sequence token");
  cmd->add_option("--dump-logits", args->dump_logits,
                  "Write float32 logits [prompt + generated - 1, vocab] to FILE.npy: every prompt position, "
                  "then every decode step");
  cmd->add_option("-t,--threads", args->threads, "CPU threads (default: all)");
  cmd->add_option("--backend", args->backend, "Engine: cpu or cuda (default: cuda when a GPU is present)")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->callback([args] { run_generate(*args); });
}

}  // namespace a3b
