#include "model/rope.h"

#include <algorithm>
#include <cmath>

namespace a3b {

RopeTable make_rope_table(const RopeConfig& rope) {
  const int dim = rope.rotary_dim, half = dim / 2;
  RopeTable t;
  t.inv_freq.resize(size_t(half));
  for (int i = 0; i < half; ++i) t.inv_freq[size_t(i)] = float(1.0 / std::pow(rope.theta, 2.0 * i / dim));
  if (rope.type == "yarn" && rope.yarn_factor > 1.0) {
    // Frequencies that turn more than beta_fast times over the original window stay, those that
    // turn fewer than beta_slow times are divided by the factor, with a linear ramp between.
    const double base = rope.theta, L0 = double(rope.yarn_original_max_positions), f = rope.yarn_factor;
    auto corr = [&](double n) { return dim * std::log(L0 / (n * 2 * M_PI)) / (2 * std::log(base)); };
    double low = std::max(0.0, std::floor(corr(rope.yarn_beta_fast)));
    double high = std::min(double(dim - 1), std::ceil(corr(rope.yarn_beta_slow)));
    if (low == high) high += 0.001;
    for (int i = 0; i < half; ++i) {
      double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
      double ext = 1.0 / std::pow(base, 2.0 * i / dim);
      t.inv_freq[size_t(i)] = float(ext / f * ramp + ext * (1 - ramp));
    }
    t.scale = float(0.1 * std::log(f) + 1.0);
  }
  return t;
}

void apply_rope(float* x, int rotary_dim, const RopeTable& t, int64_t pos) {
  const int half = rotary_dim / 2;
  for (int i = 0; i < half; ++i) {
    float angle = float(pos) * t.inv_freq[size_t(i)];  // float32 product, as the reference does
    float c = std::cos(angle) * t.scale, s = std::sin(angle) * t.scale;
    float a = x[i], b = x[i + half];
    x[i] = a * c - b * s;
    x[i + half] = b * c + a * s;
  }
}

}  // namespace a3b
