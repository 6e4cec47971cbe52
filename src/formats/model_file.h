// One entry point for every model path a user can give: an HF checkpoint folder, or a GGUF file
// (split GGUF models: any one shard).
#pragma once
#include <string>

#include "model/weights.h"

namespace a3b {

ModelWeights load_model_weights(const std::string& path);

}  // namespace a3b
