// Subcommands of the a3b binary; each file adds one to the app.
#pragma once
#include <string>

#include <CLI/CLI.hpp>

namespace a3b {

void add_generate_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_chat_template_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_perplexity_command(CLI::App& app);
void add_quantize_command(CLI::App& app);

// The model a command uses when -m is not given: the small checkpoint the repository ships.
std::string default_model_path();

}  // namespace a3b
