#include "cli/model_loader.h"

#include <algorithm>
#include <filesystem>

#include "cli/commands.h"
#include "core/error.h"
#include "formats/gguf_model.h"
#include "formats/model_file.h"
#include "model/backend.h"

namespace a3b {

void ModelArgs::add_to(CLI::App* cmd) {
  cmd->add_option("-m,--model", path, "Model folder or .gguf file (default: the model the repository ships)");
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
  ModelWeights weights = load_model_weights(m.path);
  const Backend backend = args.backend.empty() ? default_backend() : parse_backend(args.backend);
  m.model = make_model(std::move(weights), backend, args.threads);

  if (is_gguf_path(m.path)) {
    // Self-contained: tokenizer, chat template and sampling defaults come from the metadata.
    GgufFile meta(gguf_shard_paths(m.path).front());
    if (meta.find("tokenizer.ggml.tokens")) m.tokenizer = Tokenizer::from_spec(spec_from_gguf(gguf_tokenizer_data(meta)));
    else if (need_tokenizer) fail(m.path, ": the GGUF file has no tokenizer (tokenizer.ggml.tokens)");
    if (!args.chat_template.empty()) m.chat_template = ChatTemplate::from_file(args.chat_template);
    else if (auto src = meta.get_string("tokenizer.chat_template")) {
      m.chat_template = ChatTemplate::from_string(*src);
      if (m.tokenizer)
        for (auto [name, id] : {std::pair{"bos_token", m.tokenizer->bos_id()}, {"eos_token", m.tokenizer->eos_id()},
                                {"pad_token", m.tokenizer->pad_id()}})
          if (id) m.chat_template->default_kwargs()[name] = m.tokenizer->token_text(*id);
    }
    const GgufSamplingDefaults s = gguf_sampling_defaults(meta);
    if (s.temperature) m.defaults.sampling.temperature = *s.temperature;
    if (s.top_p) m.defaults.sampling.top_p = *s.top_p;
    if (s.top_k) m.defaults.sampling.top_k = *s.top_k;
  } else {
    const std::string dir = fs::is_directory(m.path) ? m.path : fs::path(m.path).parent_path().string();
    bool has_tokenizer = fs::exists(fs::path(dir) / "tokenizer.json") || fs::exists(fs::path(dir) / "vocab.json");
    if (has_tokenizer) m.tokenizer = Tokenizer::load(dir);
    else if (need_tokenizer) fail(m.path, ": the model has no tokenizer (tokenizer.json or vocab.json + merges.txt)");

    if (!args.chat_template.empty()) m.chat_template = ChatTemplate::from_file(args.chat_template);
    else m.chat_template = ChatTemplate::from_model_dir(dir);

    m.defaults = load_generation_defaults(dir);
  }
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
