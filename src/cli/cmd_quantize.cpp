// a3b quantize: an HF checkpoint folder or a GGUF file -> a self-contained GGUF file.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include <unistd.h>

#include "cli/commands.h"
#include "core/error.h"
#include "formats/gguf_quantize.h"

namespace a3b {
namespace {

struct QuantizeArgs {
  std::string input, output, type = "Q4_K_M";
  int threads = 0;
  bool quiet = false;
};

void run_quantize(const QuantizeArgs& a) {
  QuantizeOptions o;
  o.type = a.type;
  o.threads = a.threads;
  const auto t0 = std::chrono::steady_clock::now();
  if (!a.quiet)
    o.progress = [tty = isatty(2) != 0](size_t i, size_t n, const std::string& name) {
      // A terminal gets one line rewritten in place; a log gets one line per tensor.
      std::fprintf(stderr, tty ? "\r[%5zu/%5zu] %-56s" : "[%5zu/%5zu] %s\n", i + 1, n, name.c_str());
      std::fflush(stderr);
    };
  quantize_model(a.input, a.output, o);
  if (!a.quiet) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "%swrote %s (%s, %.1f MiB) in %.1f s\n", isatty(2) ? "\n" : "", a.output.c_str(), a.type.c_str(),
                 double(std::filesystem::file_size(a.output)) / (1 << 20), s);
  }
}

}  // namespace

void add_quantize_command(CLI::App& app) {
  auto args = std::make_shared<QuantizeArgs>();
  CLI::App* cmd = app.add_subcommand("quantize", "Write a model as GGUF (from an HF folder or a GGUF file)");
  cmd->add_option("input", args->input, "HF checkpoint folder or .gguf file")->required();
  cmd->add_option("output", args->output, "Output .gguf file")->required();
  cmd->add_option("--type", args->type, "F32, F16, BF16, Q8_0 or Q4_K_M (default Q4_K_M)");
  cmd->add_option("-t,--threads", args->threads, "CPU threads (default: all)");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress output");
  cmd->callback([args] { run_quantize(*args); });
}

}  // namespace a3b
