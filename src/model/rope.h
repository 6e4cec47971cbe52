// Rotary position embedding frequencies (plain and YaRN), shared by every backend.
// Partial NeoX rotation: dims [0, rot/2) pair with [rot/2, rot); the rest pass through.
#pragma once
#include <vector>

#include "model/config.h"

namespace a3b {

struct RopeTable {
  std::vector<float> inv_freq;  // [rotary_dim / 2]
  float scale = 1.0f;           // YaRN mscale on cos and sin; 1 otherwise
};

RopeTable make_rope_table(const RopeConfig& rope);

// Rotates the first rotary_dim values of one head vector in place for position pos.
void apply_rope(float* x, int rotary_dim, const RopeTable& t, int64_t pos);

}  // namespace a3b
