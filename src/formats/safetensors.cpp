#include "formats/safetensors.h"

#include <cstring>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace a3b {
namespace {

// Element sizes of every dtype the format defines; only F32/F16/BF16 have kernels.
int element_size(const std::string& d) {
  if (d == "F64" || d == "I64" || d == "U64") return 8;
  if (d == "F32" || d == "I32" || d == "U32") return 4;
  if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
  if (d == "I8" || d == "U8" || d == "BOOL" || d == "F8_E4M3" || d == "F8_E5M2") return 1;
  return 0;
}

std::optional<DType> supported(const std::string& d) {
  if (d == "F32") return DType::F32;
  if (d == "F16") return DType::F16;
  if (d == "BF16") return DType::BF16;
  return std::nullopt;
}

}  // namespace

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string TensorInfo::shape_str() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

SafetensorsFile::SafetensorsFile(const std::string& path) : file_(std::make_shared<MappedFile>(path)) {
  const size_t size = file_->size();
  if (size < 8) fail(path, ": truncated safetensors file (", size, " bytes, no header length)");
  uint64_t header_len;
  std::memcpy(&header_len, file_->data(), 8);
  if (header_len > size - 8)
    fail(path, ": safetensors header length ", header_len, " goes beyond the end of the file (", size, " bytes)");
  const char* header = reinterpret_cast<const char*>(file_->data() + 8);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(header, header + header_len);
  } catch (const nlohmann::json::parse_error& e) {
    fail(path, ": safetensors header is not valid JSON: ", e.what());
  }
  if (!j.is_object()) fail(path, ": safetensors header must be a JSON object");
  const uint8_t* data = file_->data() + 8 + header_len;
  const uint64_t data_size = size - 8 - header_len;

  for (auto& [name, entry] : j.items()) {
    if (name == "__metadata__") continue;
    auto bad = [&](const auto&... why) { fail(path, ": tensor '", name, "': ", why...); };
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
      bad("entry needs dtype, shape and data_offsets");
    TensorInfo t;
    t.name = name;
    t.file = path;
    if (!entry["dtype"].is_string()) bad("dtype must be a string");
    t.dtype_name = entry["dtype"].get<std::string>();
    int es = element_size(t.dtype_name);
    if (es == 0) bad("unknown dtype '", t.dtype_name, "'");
    t.dtype = supported(t.dtype_name);
    const auto& shape = entry["shape"];
    if (!shape.is_array()) bad("shape must be a list");
    uint64_t numel = 1;
    for (auto& d : shape) {
      if (!d.is_number_unsigned()) bad("shape entries must be non-negative integers");
      uint64_t v = d.get<uint64_t>();
      if (v != 0 && numel > std::numeric_limits<uint64_t>::max() / 8 / v) bad("shape overflows");
      numel *= v;
      t.shape.push_back(int64_t(v));
    }
    const auto& off = entry["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      bad("data_offsets must be two non-negative integers");
    uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end || end > data_size)
      bad("data [", begin, ", ", end, ") lies outside the file's ", data_size, " data bytes (truncated file?)");
    if (end - begin != numel * uint64_t(es))
      bad("data size ", end - begin, " does not match shape ", t.shape_str(), " of ", t.dtype_name);
    t.data = data + begin;
    t.nbytes = size_t(end - begin);
    tensors_.emplace(name, std::move(t));
  }
}

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    header[t.name] = {{"dtype", t.dtype_name}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keep the data 8-byte aligned
  std::ofstream f(path, std::ios::binary);
  if (!f) fail(path, ": cannot write");
  uint64_t len = text.size();
  f.write(reinterpret_cast<const char*>(&len), 8);
  f.write(text.data(), std::streamsize(text.size()));
  for (const auto& t : tensors) f.write(t.bytes.data(), std::streamsize(t.bytes.size()));
  if (!f) fail(path, ": write failed");
}

}  // namespace a3b
