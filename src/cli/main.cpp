// a3b: one binary, one subcommand per job.
#include <cstdio>

#include "cli/commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"a3b: inference engine and server for Qwen3.5/3.6 MoE models"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Help for every subcommand");
  a3b::add_generate_command(app);
  a3b::add_tokenize_command(app);
  a3b::add_chat_template_command(app);
  a3b::add_serve_command(app);
  a3b::add_run_command(app);
  a3b::add_bench_command(app);
  a3b::add_perplexity_command(app);
  a3b::add_quantize_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const a3b::Error& e) {
    std::fprintf(stderr, "a3b: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "a3b: internal error: %s\n", e.what());
    return 2;
  }
  return 0;
}
