#include "cli/model_loader.h"

#include <algorithm>
#include <filesystem>

#include "cli/commands.h"
#include "core/error.h"
#include "formats/model_file.h"
#include "model/backend.h"

namespace a3b {

void ModelArgs::add_to(CLI::App* cmd) {
  cmd->add_option("-m,--model", path, "Model folder (default: the model the repository ships)");
  cmd->add_option("--chat-template", chat_template, "Jinja chat template file (default: the model's own)");
  cmd->add_option("--backend", backend, "cpu or cuda (default: cuda when a GPU is usable)");
  cmd->add_option("-t,--threads", threads, "CPU threads (default: all)");
}

LoadedModel load_model(const ModelArgs& args, bool need_tokenizer) {
  namespace fs = std::filesystem;
  LoadedModel m;
  m.path = args.path.empty() ? default_model_path() : args.path;
  m.name = fs::path(m.path).filename().string();
  if (m.name.empty()) m.name = fs::path(m.path).parent_path().filename().string();
  const Backend backend = args.backend.empty() ? default_backend() : parse_backend(args.backend);
  m.model = make_model(load_model_weights(m.path), backend, args.threads);

  const std::string dir = fs::is_directory(m.path) ? m.path : fs::path(m.path).parent_path().string();
  bool has_tokenizer = fs::exists(fs::path(dir) / "tokenizer.json") || fs::exists(fs::path(dir) / "vocab.json");
  if (has_tokenizer) m.tokenizer = Tokenizer::load(dir);
  else if (need_tokenizer) fail(m.path, ": the model has no tokenizer (tokenizer.json or vocab.json + merges.txt)");

  if (!args.chat_template.empty()) m.chat_template = ChatTemplate::from_file(args.chat_template);
  else m.chat_template = ChatTemplate::from_model_dir(dir);

  m.defaults = load_generation_defaults(dir);
  m.eos_ids = m.model->config().eos_ids;
  auto add = [&](int32_t id) {
    if (id >= 0 && std::find(m.eos_ids.begin(), m.eos_ids.end(), id) == m.eos_ids.end()) m.eos_ids.push_back(id);
  };
  for (int32_t id : m.defaults.eos_ids) add(id);
  if (m.tokenizer)
    if (auto e = m.tokenizer->eos_id()) add(*e);
  return m;
}

}  // namespace a3b
