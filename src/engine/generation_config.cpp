#include "engine/generation_config.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace a3b {

GenerationDefaults load_generation_defaults(const std::string& model_dir) {
  GenerationDefaults d;
  const std::string path = (std::filesystem::path(model_dir) / "generation_config.json").string();
  if (!std::filesystem::is_regular_file(path)) return d;
  nlohmann::json j;
  try {
    std::ifstream f(path);
    j = nlohmann::json::parse(f);
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": invalid JSON: ", e.what());
  }
  if (!j.is_object()) fail(path, ": must be a JSON object");
  auto number = [&](const char* key, auto& out) {
    if (!j.contains(key) || j[key].is_null()) return;
    if (!j[key].is_number()) fail(path, ": field '", key, "' must be a number");
    out = j[key].get<std::decay_t<decltype(out)>>();
  };
  bool do_sample = j.value("do_sample", true);
  number("temperature", d.sampling.temperature);
  number("top_k", d.sampling.top_k);
  number("top_p", d.sampling.top_p);
  number("min_p", d.sampling.min_p);
  number("repetition_penalty", d.sampling.repetition_penalty);
  number("presence_penalty", d.sampling.presence_penalty);
  if (!do_sample) d.sampling.temperature = 0;
  if (j.contains("eos_token_id")) {
    const auto& e = j["eos_token_id"];
    if (e.is_number_integer()) d.eos_ids.push_back(e.get<int32_t>());
    else if (e.is_array())
      for (auto& x : e)
        if (x.is_number_integer()) d.eos_ids.push_back(x.get<int32_t>());
  }
  return d;
}

}  // namespace a3b
