// generation_config.json: the model's own sampling defaults and end-of-sequence ids.
#pragma once
#include <string>
#include <vector>

#include "engine/sampler.h"

namespace a3b {

struct GenerationDefaults {
  SamplingParams sampling;           // what a request gets for every knob it does not set
  std::vector<int32_t> eos_ids;      // from generation_config.json (may be empty)
};

// Reads DIR/generation_config.json if it exists; a missing file gives the plain defaults,
// a malformed one an Error naming it.
GenerationDefaults load_generation_defaults(const std::string& model_dir);

}  // namespace a3b
