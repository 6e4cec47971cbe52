// What the commands load from `-m`: the model on a backend, its tokenizer, chat template and
// generation defaults. One place, so that every command accepts the same paths and flags.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "chat/chat_template.h"
#include "engine/generation_config.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace a3b {

struct ModelArgs {
  std::string path;            // empty: the shipped default
  std::string chat_template;   // a .jinja file overriding the model's
  std::string backend;         // empty: the default (cuda when usable)
  int threads = 0;

  void add_to(CLI::App* cmd);  // -m, --chat-template, --backend, -t
};

struct LoadedModel {
  std::string path, name;
  std::shared_ptr<Model> model;
  std::optional<Tokenizer> tokenizer;
  std::optional<ChatTemplate> chat_template;
  GenerationDefaults defaults;
  std::vector<int32_t> eos_ids;  // config ∪ generation_config ∪ tokenizer's eos
};

LoadedModel load_model(const ModelArgs& args, bool need_tokenizer);

}  // namespace a3b
