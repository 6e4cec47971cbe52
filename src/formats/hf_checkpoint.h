// A Hugging Face checkpoint folder (config.json + model.safetensors or a sharded index) → ModelWeights.
#pragma once
#include <string>

#include "model/weights.h"

namespace a3b {

// Throws Error naming the file and tensor for anything missing, misshapen or of an unsupported type.
ModelWeights load_hf_checkpoint(const std::string& dir);

}  // namespace a3b
