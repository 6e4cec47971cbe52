#include "core/npy.h"

#include <cstring>
#include <fstream>
#include <regex>

#include "core/error.h"
#include "core/mapped_file.h"

namespace a3b {

void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape) {
  std::string dims;
  int64_t count = 1;
  for (int64_t d : shape) {
    dims += std::to_string(d) + ", ";
    count *= d;
  }
  if (shape.size() > 1) dims.resize(dims.size() - 2);
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  if (!f) fail(path, ": cannot write");
  const char magic[8] = {'\x93', 'N', 'U', 'M', 'P', 'Y', 1, 0};
  uint16_t len = uint16_t(header.size());
  f.write(magic, 8);
  f.write(reinterpret_cast<const char*>(&len), 2);
  f.write(header.data(), std::streamsize(header.size()));
  f.write(reinterpret_cast<const char*>(data), std::streamsize(count * 4));
  if (!f) fail(path, ": write failed");
}

NpyArray read_npy(const std::string& path) {
  MappedFile file(path);
  const uint8_t* p = file.data();
  if (file.size() < 10 || std::memcmp(p, "\x93NUMPY", 6) != 0) fail(path, ": not a .npy file");
  size_t header_len, offset;
  if (p[6] == 1) {
    header_len = size_t(p[8]) | size_t(p[9]) << 8;
    offset = 10;
  } else {
    if (file.size() < 12) fail(path, ": truncated .npy header");
    header_len = size_t(p[8]) | size_t(p[9]) << 8 | size_t(p[10]) << 16 | size_t(p[11]) << 24;
    offset = 12;
  }
  if (offset + header_len > file.size()) fail(path, ": truncated .npy header");
  std::string header(reinterpret_cast<const char*>(p + offset), header_len);
  if (header.find("'<f4'") == std::string::npos) fail(path, ": only little-endian float32 .npy is supported");
  if (header.find("'fortran_order': False") == std::string::npos) fail(path, ": Fortran order not supported");
  std::smatch m;
  if (!std::regex_search(header, m, std::regex(R"('shape':\s*\(([^)]*)\))"))) fail(path, ": no shape in .npy header");
  NpyArray a;
  std::string dims = m[1];
  std::regex num(R"(\d+)");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), num); it != std::sregex_iterator(); ++it)
    a.shape.push_back(std::stoll(it->str()));
  size_t count = 1;
  for (int64_t d : a.shape) count *= size_t(d);
  offset += header_len;
  if (offset + count * 4 > file.size()) fail(path, ": truncated .npy data");
  a.data.resize(count);
  std::memcpy(a.data.data(), p + offset, count * 4);
  return a;
}

}  // namespace a3b
