// NumPy .npy files of float32 (little-endian, C order): logit dumps and golden fixtures.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace a3b {

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape);
NpyArray read_npy(const std::string& path);  // float32 only; throws Error on anything else

}  // namespace a3b
