#include "formats/gguf.h"

#include <cstring>
#include <fstream>
#include <limits>

#include "core/error.h"

namespace a3b {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read little-endian
constexpr size_t kMaxNameBytes = 64;     // GGML_MAX_NAME
constexpr int kMaxDims = 4;
constexpr int kMaxArrayDepth = 2;

const GgmlTypeInfo kGgmlTypes[] = {
    {0, "F32", 1, 4, DType::F32},          {1, "F16", 1, 2, DType::F16},
    {2, "Q4_0", 32, 18, DType::Q4_0},      {3, "Q4_1", 32, 20, {}},
    {6, "Q5_0", 32, 22, {}},               {7, "Q5_1", 32, 24, {}},
    {8, "Q8_0", 32, 34, DType::Q8_0},      {9, "Q8_1", 32, 36, {}},
    {10, "Q2_K", 256, 84, {}},             {11, "Q3_K", 256, 110, {}},
    {12, "Q4_K", 256, 144, DType::Q4_K},   {13, "Q5_K", 256, 176, DType::Q5_K},
    {14, "Q6_K", 256, 210, DType::Q6_K},   {15, "Q8_K", 256, 292, {}},
    {16, "IQ2_XXS", 256, 66, DType::IQ2_XXS}, {17, "IQ2_XS", 256, 74, {}},
    {18, "IQ3_XXS", 256, 98, DType::IQ3_XXS}, {19, "IQ1_S", 256, 50, {}},
    {20, "IQ4_NL", 32, 18, DType::IQ4_NL}, {21, "IQ3_S", 256, 110, DType::IQ3_S},
    {22, "IQ2_S", 256, 82, {}},            {23, "IQ4_XS", 256, 136, DType::IQ4_XS},
    {24, "I8", 1, 1, {}},                  {25, "I16", 1, 2, {}},
    {26, "I32", 1, 4, {}},                 {27, "I64", 1, 8, {}},
    {28, "F64", 1, 8, {}},                 {29, "IQ1_M", 256, 56, {}},
    {30, "BF16", 1, 2, DType::BF16},       {34, "TQ1_0", 256, 54, {}},
    {35, "TQ2_0", 256, 66, {}},            {39, "MXFP4", 32, 17, DType::MXFP4},
    {40, "NVFP4", 64, 36, {}},             {41, "Q1_0", 128, 18, {}},
    {42, "Q2_0", 64, 18, {}},
};

// A bounds-checked little-endian cursor over the file bytes.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size, const std::string& name) : p_(data), size_(size), name_(name) {}

  size_t pos() const { return pos_; }
  size_t left() const { return size_ - pos_; }

  void need(size_t n, const char* what) const {
    if (n > left()) fail(name_, ": truncated: ", what, " needs ", n, " bytes at offset ", pos_, " but the file has ", left(), " left");
  }
  template <class T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string string(const char* what, size_t max_len = std::numeric_limits<size_t>::max()) {
    uint64_t len = read<uint64_t>(what);
    if (len > max_len) fail(name_, ": ", what, " at offset ", pos_ - 8, " is ", len, " bytes long (at most ", max_len, " allowed)");
    need(len, what);
    std::string s(reinterpret_cast<const char*>(p_ + pos_), size_t(len));
    pos_ += size_t(len);
    return s;
  }

 private:
  const uint8_t* p_;
  size_t size_;
  size_t pos_ = 0;
  const std::string& name_;
};

size_t scalar_size(GgufValueType t) {
  switch (t) {
    case GgufValueType::U8: case GgufValueType::I8: case GgufValueType::Bool: return 1;
    case GgufValueType::U16: case GgufValueType::I16: return 2;
    case GgufValueType::U32: case GgufValueType::I32: case GgufValueType::F32: return 4;
    case GgufValueType::U64: case GgufValueType::I64: case GgufValueType::F64: return 8;
    case GgufValueType::String: return 8;  // the length prefix, at least
    case GgufValueType::Array: return 12;  // element type + count, at least
  }
  return 0;
}

bool valid_type(uint32_t t) { return t <= 12; }

GgufValue read_value(Reader& r, GgufValueType type, const std::string& key, const std::string& name, int depth) {
  GgufValue v;
  v.type = type;
  switch (type) {
    case GgufValueType::U8: v.u = r.read<uint8_t>("u8 value"); v.i = int64_t(v.u); break;
    case GgufValueType::I8: v.i = r.read<int8_t>("i8 value"); break;
    case GgufValueType::U16: v.u = r.read<uint16_t>("u16 value"); v.i = int64_t(v.u); break;
    case GgufValueType::I16: v.i = r.read<int16_t>("i16 value"); break;
    case GgufValueType::U32: v.u = r.read<uint32_t>("u32 value"); v.i = int64_t(v.u); break;
    case GgufValueType::I32: v.i = r.read<int32_t>("i32 value"); break;
    case GgufValueType::U64: v.u = r.read<uint64_t>("u64 value"); v.i = int64_t(v.u & 0x7fffffffffffffffull); break;
    case GgufValueType::I64: v.i = r.read<int64_t>("i64 value"); break;
    case GgufValueType::F32: v.f = r.read<float>("f32 value"); break;
    case GgufValueType::F64: v.f = r.read<double>("f64 value"); break;
    case GgufValueType::Bool: {
      uint8_t b = r.read<uint8_t>("bool value");
      if (b > 1) fail(name, ": metadata '", key, "': bool value ", int(b), " is not 0 or 1");
      v.i = b;
      break;
    }
    case GgufValueType::String: v.str = r.string("string value"); break;
    case GgufValueType::Array: {
      if (depth >= kMaxArrayDepth) fail(name, ": metadata '", key, "': arrays nested more than ", kMaxArrayDepth, " deep");
      uint32_t et = r.read<uint32_t>("array element type");
      if (!valid_type(et)) fail(name, ": metadata '", key, "': unknown array element type ", et);
      v.elem_type = GgufValueType(et);
      uint64_t count = r.read<uint64_t>("array length");
      // Every element takes at least scalar_size bytes: a count the file cannot hold is refused
      // before anything is allocated.
      if (count > r.left() / scalar_size(v.elem_type))
        fail(name, ": metadata '", key, "': array of ", count, " ", gguf_value_type_name(v.elem_type),
             " elements does not fit in the ", r.left(), " bytes left");
      v.items.reserve(size_t(count));
      for (uint64_t k = 0; k < count; ++k) v.items.push_back(read_value(r, v.elem_type, key, name, depth + 1));
      break;
    }
  }
  return v;
}

bool checked_mul(uint64_t a, uint64_t b, uint64_t* out) { return !__builtin_mul_overflow(a, b, out); }
bool checked_add(uint64_t a, uint64_t b, uint64_t* out) { return !__builtin_add_overflow(a, b, out); }

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

const char* gguf_value_type_name(GgufValueType t) {
  static const char* names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};
  return uint32_t(t) <= 12 ? names[uint32_t(t)] : "?";
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufValueType::U8: case GgufValueType::I8: case GgufValueType::U16: case GgufValueType::I16:
    case GgufValueType::U32: case GgufValueType::I32: case GgufValueType::U64: case GgufValueType::I64: return true;
    default: return false;
  }
}

GgufValue GgufValue::integer(GgufValueType t, int64_t v) {
  GgufValue g;
  g.type = t;
  g.i = v;
  g.u = uint64_t(v);
  return g;
}
GgufValue GgufValue::f32(float v) {
  GgufValue g;
  g.type = GgufValueType::F32;
  g.f = v;
  return g;
}
GgufValue GgufValue::string(std::string v) {
  GgufValue g;
  g.type = GgufValueType::String;
  g.str = std::move(v);
  return g;
}
GgufValue GgufValue::array(GgufValueType elem, std::vector<GgufValue> items) {
  GgufValue g;
  g.type = GgufValueType::Array;
  g.elem_type = elem;
  g.items = std::move(items);
  return g;
}
GgufValue GgufValue::strings(const std::vector<std::string>& v) {
  std::vector<GgufValue> items;
  items.reserve(v.size());
  for (const auto& s : v) items.push_back(string(s));
  return array(GgufValueType::String, std::move(items));
}
GgufValue GgufValue::i32s(const std::vector<int32_t>& v) {
  std::vector<GgufValue> items;
  items.reserve(v.size());
  for (int32_t x : v) items.push_back(i32(x));
  return array(GgufValueType::I32, std::move(items));
}

const GgmlTypeInfo* ggml_type_info(uint32_t id) {
  for (const GgmlTypeInfo& t : kGgmlTypes)
    if (t.id == id) return &t;
  return nullptr;
}

uint32_t ggml_type_of(DType d) {
  for (const GgmlTypeInfo& t : kGgmlTypes)
    if (t.dtype && *t.dtype == d) return t.id;
  fail("no ggml type for ", dtype_name(d));
}

int64_t GgufTensor::n_elements() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  return n;
}

std::string GgufTensor::shape_str() const {
  std::string s = "{";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "}";
}

const char* GgufTensor::type_name() const {
  const GgmlTypeInfo* t = ggml_type_info(ggml_type);
  return t ? t->name : "?";
}

GgufFile::GgufFile(const std::string& path) {
  auto f = std::make_shared<MappedFile>(path);
  file_ = f;
  name_ = path;
  parse(f->data(), f->size());
}

GgufFile GgufFile::from_memory(const uint8_t* data, size_t size, const std::string& name) {
  GgufFile g;
  g.name_ = name;
  g.parse(data, size);
  return g;
}

void GgufFile::parse(const uint8_t* data, size_t size) {
  Reader r(data, size, name_);
  if (size < 4) fail(name_, ": not a GGUF file (", size, " bytes, too short for the magic)");
  uint32_t magic = r.read<uint32_t>("magic");
  if (magic != kMagic) fail(name_, ": not a GGUF file (bad magic; expected the bytes 'GGUF')");
  version_ = r.read<uint32_t>("version");
  if (version_ == 1) fail(name_, ": GGUF version 1 is not supported (only 2 and 3)");
  if (version_ != 2 && version_ != 3) {
    if ((version_ & 0xffff) == 0 && version_ != 0) fail(name_, ": big-endian GGUF files are not supported");
    fail(name_, ": unsupported GGUF version ", version_, " (only 2 and 3)");
  }
  uint64_t n_tensors = r.read<uint64_t>("tensor count");
  uint64_t n_kv = r.read<uint64_t>("metadata count");
  // Smallest possible entries: key (8 + 1 bytes) + type + 1 byte value; tensor info 8 + 4 + 8 + 4 + 8.
  if (n_kv > r.left() / 14) fail(name_, ": metadata count ", n_kv, " cannot fit in a file of ", size, " bytes");
  if (n_tensors > r.left() / 32) fail(name_, ": tensor count ", n_tensors, " cannot fit in a file of ", size, " bytes");

  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key = r.string("metadata key", 65535);
    uint32_t type = r.read<uint32_t>("metadata value type");
    if (!valid_type(type)) fail(name_, ": metadata '", key, "' has unknown value type ", type);
    GgufValue v = read_value(r, GgufValueType(type), key, name_, 0);
    if (kv_.count(key)) fail(name_, ": metadata key '", key, "' appears twice");
    keys_.push_back(key);
    kv_.emplace(std::move(key), std::move(v));
  }
  if (const GgufValue* a = find("general.alignment")) {
    if (!a->is_integer() || a->u == 0 || a->u > (1u << 30) || (a->u & (a->u - 1)) != 0)
      fail(name_, ": general.alignment must be a power of two (got ", a->is_integer() ? std::to_string(a->i) : "a non-integer", ")");
    alignment_ = uint32_t(a->u);
  }

  tensors_.reserve(size_t(n_tensors));
  for (uint64_t k = 0; k < n_tensors; ++k) {
    GgufTensor t;
    t.name = r.string("tensor name", kMaxNameBytes);
    uint32_t n_dims = r.read<uint32_t>("tensor dimension count");
    if (n_dims < 1 || n_dims > kMaxDims) fail(name_, ": tensor '", t.name, "' has ", n_dims, " dimensions (1 to 4 allowed)");
    uint64_t n_elem = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t ne = r.read<uint64_t>("tensor dimension");
      if (ne > uint64_t(std::numeric_limits<int64_t>::max()) || !checked_mul(n_elem, ne, &n_elem) ||
          n_elem > uint64_t(std::numeric_limits<int64_t>::max()))
        fail(name_, ": tensor '", t.name, "': dimensions overflow (dimension ", d, " is ", ne, ")");
      t.ne.push_back(int64_t(ne));
    }
    t.ggml_type = r.read<uint32_t>("tensor type");
    const GgmlTypeInfo* info = ggml_type_info(t.ggml_type);
    if (!info) fail(name_, ": tensor '", t.name, "' has unknown ggml type ", t.ggml_type);
    if (t.ne[0] % info->block_elems != 0)
      fail(name_, ": tensor '", t.name, "' has ", t.ne[0], " columns, not a multiple of the ", info->name, " block size ", info->block_elems);
    uint64_t nbytes;
    if (!checked_mul(n_elem / uint64_t(info->block_elems), info->block_bytes, &nbytes))
      fail(name_, ": tensor '", t.name, "': byte size overflows");
    t.nbytes = size_t(nbytes);
    t.offset = r.read<uint64_t>("tensor data offset");
    if (tensor_index_.count(t.name)) fail(name_, ": tensor '", t.name, "' appears twice");
    tensor_index_[t.name] = tensors_.size();
    tensors_.push_back(std::move(t));
  }

  const uint64_t data_start = align_up(r.pos(), alignment_);
  for (GgufTensor& t : tensors_) {
    if (t.offset % alignment_ != 0)
      fail(name_, ": tensor '", t.name, "' data offset ", t.offset, " is not a multiple of the alignment ", alignment_);
    uint64_t begin, end;
    if (!checked_add(data_start, t.offset, &begin) || !checked_add(begin, t.nbytes, &end) || end > size)
      fail(name_, ": tensor '", t.name, "' (", t.type_name(), " ", t.shape_str(), ", ", t.nbytes, " bytes at data offset ",
           t.offset, ") lies outside the file (", size, " bytes; data section starts at ", data_start, ")");
    t.data = data + begin;
  }
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? nullptr : &it->second;
}

const GgufTensor* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::optional<int64_t> GgufFile::get_int(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_integer()) fail(name_, ": metadata '", key, "' must be an integer (it is ", gguf_value_type_name(v->type), ")");
  if (v->type == GgufValueType::U64 && v->u > uint64_t(std::numeric_limits<int64_t>::max()))
    fail(name_, ": metadata '", key, "' = ", v->u, " is too large");
  return v->i;
}

int64_t GgufFile::require_int(const std::string& key) const {
  auto v = get_int(key);
  if (!v) fail(name_, ": missing required metadata '", key, "'");
  return *v;
}

std::optional<double> GgufFile::get_float(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->is_float()) return v->f;
  if (v->is_integer()) return double(v->i);
  fail(name_, ": metadata '", key, "' must be a number (it is ", gguf_value_type_name(v->type), ")");
}

double GgufFile::require_float(const std::string& key) const {
  auto v = get_float(key);
  if (!v) fail(name_, ": missing required metadata '", key, "'");
  return *v;
}

std::optional<std::string> GgufFile::get_string(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufValueType::String) fail(name_, ": metadata '", key, "' must be a string (it is ", gguf_value_type_name(v->type), ")");
  return v->str;
}

std::string GgufFile::require_string(const std::string& key) const {
  auto v = get_string(key);
  if (!v) fail(name_, ": missing required metadata '", key, "'");
  return *v;
}

std::optional<bool> GgufFile::get_bool(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufValueType::Bool && !v->is_integer()) fail(name_, ": metadata '", key, "' must be a bool");
  return v->i != 0;
}

std::optional<std::vector<std::string>> GgufFile::get_strings(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufValueType::Array || v->elem_type != GgufValueType::String)
    fail(name_, ": metadata '", key, "' must be an array of strings");
  std::vector<std::string> out;
  out.reserve(v->items.size());
  for (const GgufValue& s : v->items) out.push_back(s.str);
  return out;
}

std::optional<std::vector<int64_t>> GgufFile::get_ints(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  GgufValue probe;
  probe.type = v->elem_type;
  if (v->type != GgufValueType::Array || !probe.is_integer()) fail(name_, ": metadata '", key, "' must be an array of integers");
  std::vector<int64_t> out;
  out.reserve(v->items.size());
  for (const GgufValue& x : v->items) out.push_back(x.i);
  return out;
}

// ---- writer ----

namespace {

class Out {
 public:
  explicit Out(const std::string& path) : f_(path, std::ios::binary | std::ios::trunc), path_(path) {
    if (!f_) fail(path, ": cannot create file");
  }
  template <class T>
  void put(T v) { bytes(&v, sizeof v); }
  void bytes(const void* p, size_t n) {
    f_.write(static_cast<const char*>(p), std::streamsize(n));
    pos_ += n;
    if (!f_) fail(path_, ": write failed (disk full?)");
  }
  void str(const std::string& s) {
    put<uint64_t>(s.size());
    bytes(s.data(), s.size());
  }
  void pad_to(uint64_t alignment) {
    static const char zeros[256] = {};
    while (pos_ % alignment) bytes(zeros, std::min<uint64_t>(sizeof zeros, alignment - pos_ % alignment));
  }
  uint64_t pos() const { return pos_; }
  void close() {
    f_.close();
    if (!f_) fail(path_, ": write failed");
  }

 private:
  std::ofstream f_;
  std::string path_;
  uint64_t pos_ = 0;
};

void write_value(Out& o, const GgufValue& v) {
  switch (v.type) {
    case GgufValueType::U8: o.put<uint8_t>(uint8_t(v.u)); break;
    case GgufValueType::I8: o.put<int8_t>(int8_t(v.i)); break;
    case GgufValueType::U16: o.put<uint16_t>(uint16_t(v.u)); break;
    case GgufValueType::I16: o.put<int16_t>(int16_t(v.i)); break;
    case GgufValueType::U32: o.put<uint32_t>(uint32_t(v.u)); break;
    case GgufValueType::I32: o.put<int32_t>(int32_t(v.i)); break;
    case GgufValueType::U64: o.put<uint64_t>(v.u); break;
    case GgufValueType::I64: o.put<int64_t>(v.i); break;
    case GgufValueType::F32: o.put<float>(float(v.f)); break;
    case GgufValueType::F64: o.put<double>(v.f); break;
    case GgufValueType::Bool: o.put<uint8_t>(v.i ? 1 : 0); break;
    case GgufValueType::String: o.str(v.str); break;
    case GgufValueType::Array:
      o.put<uint32_t>(uint32_t(v.elem_type));
      o.put<uint64_t>(v.items.size());
      for (const GgufValue& x : v.items) write_value(o, x);
      break;
  }
}

}  // namespace

void GgufWriter::set(const std::string& key, GgufValue v) {
  if (key == "general.alignment") {
    if (!v.is_integer() || v.u == 0 || v.u > (1u << 30) || (v.u & (v.u - 1)) != 0)
      fail("GGUF writer: general.alignment must be a power of two");
    alignment_ = uint32_t(v.u);
  }
  for (auto& [k, old] : kv_)
    if (k == key) {
      old = std::move(v);
      return;
    }
  kv_.emplace_back(key, std::move(v));
}

void GgufWriter::add_tensor(const std::string& name, DType type, std::vector<int64_t> ne, Producer bytes) {
  add_tensor_raw(name, ggml_type_of(type), std::move(ne), std::move(bytes));
}

void GgufWriter::add_tensor_raw(const std::string& name, uint32_t ggml_type, std::vector<int64_t> ne, Producer bytes) {
  const GgmlTypeInfo* info = ggml_type_info(ggml_type);
  if (!info) fail("GGUF writer: unknown ggml type ", ggml_type, " for tensor '", name, "'");
  if (name.size() > kMaxNameBytes) fail("GGUF writer: tensor name '", name, "' is longer than ", kMaxNameBytes, " bytes");
  if (ne.empty() || ne.size() > size_t(kMaxDims)) fail("GGUF writer: tensor '", name, "' must have 1 to 4 dimensions");
  for (const Pending& t : tensors_)
    if (t.name == name) fail("GGUF writer: tensor '", name, "' added twice");
  if (ne[0] % info->block_elems) fail("GGUF writer: tensor '", name, "' row of ", ne[0], " is not whole ", info->name, " blocks");
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  tensors_.push_back({name, ggml_type, std::move(ne), size_t(n / info->block_elems) * info->block_bytes, std::move(bytes)});
}

void GgufWriter::write(const std::string& path, const std::function<void(size_t, size_t, const std::string&)>& progress) const {
  Out o(path);
  o.put<uint32_t>(kMagic);
  o.put<uint32_t>(3);
  o.put<uint64_t>(tensors_.size());
  o.put<uint64_t>(kv_.size());
  for (const auto& [k, v] : kv_) {
    o.str(k);
    o.put<uint32_t>(uint32_t(v.type));
    write_value(o, v);
  }
  uint64_t offset = 0;
  for (const Pending& t : tensors_) {
    o.str(t.name);
    o.put<uint32_t>(uint32_t(t.ne.size()));
    for (int64_t d : t.ne) o.put<uint64_t>(uint64_t(d));
    o.put<uint32_t>(t.ggml_type);
    o.put<uint64_t>(offset);
    offset = align_up(offset + t.nbytes, alignment_);
  }
  o.pad_to(alignment_);
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const Pending& t = tensors_[i];
    if (progress) progress(i, tensors_.size(), t.name);
    std::string bytes = t.bytes();
    if (bytes.size() != t.nbytes)
      fail("GGUF writer: tensor '", t.name, "' produced ", bytes.size(), " bytes, expected ", t.nbytes);
    o.bytes(bytes.data(), bytes.size());
    o.pad_to(alignment_);
  }
  o.close();
}

}  // namespace a3b
