// GGUF container (v2/v3, little-endian): metadata key/values, tensor infos, aligned tensor data.
// The reader maps the file and checks every count, length, shape and offset against the file
// before anything points into it; any inconsistency is an Error naming the file. The writer
// streams tensors produced on demand, so a model larger than memory can be re-encoded.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/mapped_file.h"

namespace a3b {

enum class GgufValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7, String = 8, Array = 9,
  U64 = 10, I64 = 11, F64 = 12,
};
const char* gguf_value_type_name(GgufValueType t);

struct GgufValue {
  GgufValueType type = GgufValueType::U32;
  int64_t i = 0;        // signed integer types and bool; unsigned types up to 2^63 - 1
  uint64_t u = 0;       // unsigned integer types
  double f = 0;         // F32 / F64
  std::string str;      // String
  GgufValueType elem_type = GgufValueType::U8;  // Array
  std::vector<GgufValue> items;                 // Array

  bool is_integer() const;
  bool is_float() const { return type == GgufValueType::F32 || type == GgufValueType::F64; }

  static GgufValue integer(GgufValueType t, int64_t v);  // any integer type (or Bool)
  static GgufValue u32(uint32_t v) { return integer(GgufValueType::U32, v); }
  static GgufValue i32(int32_t v) { return integer(GgufValueType::I32, v); }
  static GgufValue boolean(bool v) { return integer(GgufValueType::Bool, v); }
  static GgufValue f32(float v);
  static GgufValue string(std::string v);
  static GgufValue array(GgufValueType elem, std::vector<GgufValue> items);
  static GgufValue strings(const std::vector<std::string>& v);
  static GgufValue i32s(const std::vector<int32_t>& v);
};

// ggml tensor type ids (gguf.md section 2) and the DType a3b computes with, when it has one.
struct GgmlTypeInfo {
  uint32_t id;
  const char* name;
  int64_t block_elems;
  size_t block_bytes;
  std::optional<DType> dtype;
};
const GgmlTypeInfo* ggml_type_info(uint32_t id);  // nullptr for ids ggml does not define
uint32_t ggml_type_of(DType t);

struct GgufTensor {
  std::string name;
  uint32_t ggml_type = 0;
  std::vector<int64_t> ne;      // ne[0] innermost (contiguous), i.e. the PyTorch shape reversed
  uint64_t offset = 0;          // from the start of the data section
  const uint8_t* data = nullptr;
  size_t nbytes = 0;

  int64_t n_elements() const;
  std::string shape_str() const;  // "{4096, 2048}"
  const char* type_name() const;
};

class GgufFile {
 public:
  explicit GgufFile(const std::string& path);  // maps and parses; throws Error naming the path
  // Parses bytes owned by someone else (fuzzing, tests); `name` is used in messages.
  static GgufFile from_memory(const uint8_t* data, size_t size, const std::string& name);

  const std::string& path() const { return name_; }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  const std::vector<std::string>& keys() const { return keys_; }  // in file order
  const std::map<std::string, GgufValue>& metadata() const { return kv_; }
  const std::vector<GgufTensor>& tensors() const { return tensors_; }
  std::shared_ptr<const MappedFile> mapping() const { return file_; }

  const GgufValue* find(const std::string& key) const;
  const GgufTensor* find_tensor(const std::string& name) const;

  // Typed getters: Error naming the file and key when absent (the non-optional forms) or of the
  // wrong type. Integers accept any integer type whose value fits.
  std::optional<int64_t> get_int(const std::string& key) const;
  int64_t require_int(const std::string& key) const;
  std::optional<double> get_float(const std::string& key) const;  // F32, F64 or an integer
  double require_float(const std::string& key) const;
  std::optional<std::string> get_string(const std::string& key) const;
  std::string require_string(const std::string& key) const;
  std::optional<bool> get_bool(const std::string& key) const;
  std::optional<std::vector<std::string>> get_strings(const std::string& key) const;
  std::optional<std::vector<int64_t>> get_ints(const std::string& key) const;

 private:
  GgufFile() = default;
  void parse(const uint8_t* data, size_t size);

  std::string name_;
  std::shared_ptr<const MappedFile> file_;
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  std::vector<std::string> keys_;
  std::map<std::string, GgufValue> kv_;
  std::vector<GgufTensor> tensors_;
  std::map<std::string, size_t> tensor_index_;
};

// Writes a GGUF v3 file: metadata in insertion order, tensor infos, then each tensor's bytes as
// its producer returns them (checked against the declared type and shape), padded to `alignment`.
class GgufWriter {
 public:
  using Producer = std::function<std::string()>;

  void set(const std::string& key, GgufValue v);  // replaces an earlier value of the same key
  void add_tensor(const std::string& name, DType type, std::vector<int64_t> ne, Producer bytes);
  void add_tensor_raw(const std::string& name, uint32_t ggml_type, std::vector<int64_t> ne, Producer bytes);
  size_t tensor_count() const { return tensors_.size(); }
  // progress(i, n, name) is called before tensor i of n is produced.
  void write(const std::string& path,
             const std::function<void(size_t, size_t, const std::string&)>& progress = nullptr) const;

 private:
  struct Pending {
    std::string name;
    uint32_t ggml_type;
    std::vector<int64_t> ne;
    size_t nbytes;
    Producer bytes;
  };
  uint32_t alignment_ = 32;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<Pending> tensors_;
};

}  // namespace a3b
