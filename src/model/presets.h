// Model shapes known by name, for benchmarks and tests that need no checkpoint file.
#pragma once
#include <string>

#include "model/config.h"

namespace a3b {

// "qwen3.6-35b-a3b" (= "qwen3.5-35b-a3b"): the configuration of architecture.md §1.
// Throws Error for an unknown name, listing the known ones.
ModelConfig preset_config(const std::string& name);

// The first n layers of c (n ≤ c.n_layers): same widths, fewer layers.
ModelConfig with_layers(ModelConfig c, int n);

}  // namespace a3b
