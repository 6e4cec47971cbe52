#include "formats/model_file.h"

#include <filesystem>

#include "core/error.h"
#include "formats/gguf_model.h"
#include "formats/hf_checkpoint.h"

namespace a3b {

ModelWeights load_model_weights(const std::string& path) {
  namespace fs = std::filesystem;
  if (!fs::exists(path)) fail(path, ": no such file or folder");
  if (fs::is_directory(path)) return load_hf_checkpoint(path);
  if (is_gguf_path(path)) return load_gguf_model(path);
  if (fs::path(path).filename() == "config.json") return load_hf_checkpoint(fs::path(path).parent_path().string());
  fail(path, ": not a model folder or .gguf file (expected a Hugging Face checkpoint folder with config.json, or a GGUF file)");
}

}  // namespace a3b
