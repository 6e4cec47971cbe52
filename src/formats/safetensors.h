// Reader for .safetensors files: an 8-byte header length, a JSON header, then raw tensor data.
// Every offset is checked against the file before anything points into it.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/mapped_file.h"

namespace a3b {

struct TensorInfo {
  std::string name;
  std::string file;                 // path, for error messages
  std::string dtype_name;           // as written in the file
  std::optional<DType> dtype;       // empty when a3b has no kernels for it
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;    // inside the file's mapping
  size_t nbytes = 0;

  int64_t numel() const;
  std::string shape_str() const;
};

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);  // throws Error naming the file
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const std::string& path() const { return file_->path(); }
  std::shared_ptr<const MappedFile> mapping() const { return file_; }

 private:
  std::shared_ptr<MappedFile> file_;
  std::map<std::string, TensorInfo> tensors_;
};

// A tensor to write: raw little-endian bytes of `dtype_name` with the given shape.
struct TensorToWrite {
  std::string name;
  std::string dtype_name;
  std::vector<int64_t> shape;
  std::string bytes;
};

// Writes a .safetensors file (header entries sorted by name, data in the given order).
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors);

}  // namespace a3b
