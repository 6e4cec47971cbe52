// The GGUF container: writer -> reader round trips, and every kind of malformed file giving an
// Error that names the file (never a crash or an allocation the file cannot back).
#include <cstring>

#include "core/error.h"
#include "formats/gguf.h"
#include "test_util.h"

namespace a3b {
namespace {

// Hand-built GGUF bytes, so that tests can put any value in any field.
struct RawGguf {
  std::string b;
  RawGguf& u32(uint32_t v) { return raw(&v, 4); }
  RawGguf& u64(uint64_t v) { return raw(&v, 8); }
  RawGguf& str(const std::string& s) {
    u64(s.size());
    b += s;
    return *this;
  }
  RawGguf& raw(const void* p, size_t n) {
    b.append(static_cast<const char*>(p), n);
    return *this;
  }
  RawGguf& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return u32(0x46554747).u32(version).u64(n_tensors).u64(n_kv);
  }
  RawGguf& kv_u32(const std::string& key, uint32_t v) { return str(key).u32(uint32_t(GgufValueType::U32)).u32(v); }
  RawGguf& tensor(const std::string& name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
    str(name).u32(uint32_t(ne.size()));
    for (uint64_t d : ne) u64(d);
    return u32(type).u64(offset);
  }
  RawGguf& pad(size_t alignment = 32) {
    while (b.size() % alignment) b += '\0';
    return *this;
  }
  RawGguf& data(size_t n, char fill = 1) {
    b.append(n, fill);
    return *this;
  }
};

GgufFile parse(const std::string& bytes) {
  return GgufFile::from_memory(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "test.gguf");
}

// The parse must fail with an Error naming the file and containing `what`.
void expect_error(const std::string& bytes, const std::string& what) {
  try {
    parse(bytes);
    ADD_FAILURE() << "no error; expected one containing '" << what << "'";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("test.gguf"), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
  }
}

// One F32 tensor {4, 2} = 32 bytes after one metadata value.
std::string valid_file() {
  return RawGguf().header(1, 1).kv_u32("general.alignment", 32).tensor("t", {4, 2}, 0, 0).pad().data(32).b;
}

TEST(Gguf, WriterReaderRoundTrip) {
  test::TempDir tmp;
  GgufWriter w;
  w.set("general.alignment", GgufValue::u32(64));
  w.set("u8", GgufValue::integer(GgufValueType::U8, 200));
  w.set("i8", GgufValue::integer(GgufValueType::I8, -100));
  w.set("u16", GgufValue::integer(GgufValueType::U16, 60000));
  w.set("i16", GgufValue::integer(GgufValueType::I16, -30000));
  w.set("i32", GgufValue::i32(-5));
  w.set("u64", GgufValue::integer(GgufValueType::U64, int64_t(1) << 40));
  w.set("i64", GgufValue::integer(GgufValueType::I64, -(int64_t(1) << 40)));
  w.set("f32", GgufValue::f32(0.25f));
  GgufValue f64;
  f64.type = GgufValueType::F64;
  f64.f = 1e-300;
  w.set("f64", f64);
  w.set("bool", GgufValue::boolean(true));
  w.set("str", GgufValue::string("h\xc3\xa9llo"));
  w.set("strs", GgufValue::strings({"a", "", "c c"}));
  w.set("ints", GgufValue::i32s({1, -2, 3}));
  w.set("nested", GgufValue::array(GgufValueType::Array, {GgufValue::i32s({7}), GgufValue::i32s({8, 9})}));
  std::vector<float> a = {1, 2, 3, 4, 5, 6};
  w.add_tensor("a", DType::F32, {3, 2}, [&] { return std::string(reinterpret_cast<char*>(a.data()), 24); });
  w.add_tensor("q", DType::Q8_0, {32}, [] { return std::string(34, '\x07'); });
  w.write(tmp / "x.gguf");

  GgufFile f(tmp / "x.gguf");
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.get_int("u8"), 200);
  EXPECT_EQ(f.get_int("i8"), -100);
  EXPECT_EQ(f.get_int("u16"), 60000);
  EXPECT_EQ(f.get_int("i16"), -30000);
  EXPECT_EQ(f.get_int("i32"), -5);
  EXPECT_EQ(f.get_int("u64"), int64_t(1) << 40);
  EXPECT_EQ(f.get_int("i64"), -(int64_t(1) << 40));
  EXPECT_EQ(f.get_float("f32"), 0.25);
  EXPECT_EQ(f.get_float("f64"), 1e-300);
  EXPECT_EQ(f.get_bool("bool"), true);
  EXPECT_EQ(f.get_string("str"), "h\xc3\xa9llo");
  EXPECT_EQ(f.get_strings("strs"), (std::vector<std::string>{"a", "", "c c"}));
  EXPECT_EQ(f.get_ints("ints"), (std::vector<int64_t>{1, -2, 3}));
  ASSERT_EQ(f.find("nested")->items.size(), 2u);
  EXPECT_EQ(f.find("nested")->items[1].items[1].i, 9);
  EXPECT_EQ(f.keys().front(), "general.alignment");
  EXPECT_THROW(f.get_string("u8"), Error);
  EXPECT_THROW(f.require_int("absent"), Error);

  ASSERT_EQ(f.tensors().size(), 2u);
  const GgufTensor* t = f.find_tensor("a");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->shape_str(), "{3, 2}");
  EXPECT_EQ(std::memcmp(t->data, a.data(), 24), 0);
  const GgufTensor* q = f.find_tensor("q");
  EXPECT_EQ(q->offset % 64, 0u);
  EXPECT_EQ(size_t(q->data - f.mapping()->data()) % 64, 0u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(q->data), 34), std::string(34, '\x07'));
}

TEST(Gguf, AcceptsVersion2AndDefaultAlignment) {
  std::string v2 = RawGguf().header(1, 0, 2).tensor("t", {8}, 0, 0).pad(32).data(32).b;
  GgufFile f = parse(v2);
  EXPECT_EQ(f.version(), 2u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.tensors()[0].nbytes, 32u);
  parse(valid_file());
}

TEST(GgufMalformed, BadMagic) {
  std::string b = valid_file();
  b[0] = 'X';
  expect_error(b, "bad magic");
  expect_error("GG", "too short");
}

TEST(GgufMalformed, UnsupportedVersions) {
  expect_error(RawGguf().header(0, 0, 1).b, "version 1");
  expect_error(RawGguf().header(0, 0, 7).b, "unsupported GGUF version 7");
  expect_error(RawGguf().header(0, 0, 0x03000000).b, "big-endian");
}

TEST(GgufMalformed, EveryTruncatedHeaderIsAnError) {
  const std::string b = valid_file();
  const size_t data_start = b.size() - 32;
  for (size_t n = 0; n < data_start; ++n) EXPECT_THROW(parse(b.substr(0, n)), Error) << "prefix of " << n << " bytes";
}

TEST(GgufMalformed, TruncatedTensorData) {
  const std::string b = valid_file();
  expect_error(b.substr(0, b.size() - 1), "lies outside the file");
}

TEST(GgufMalformed, TensorOutOfBounds) {
  expect_error(RawGguf().header(1, 0).tensor("t", {8}, 0, 64).pad().data(32).b, "lies outside the file");
  // An offset so large that offset + size wraps around.
  expect_error(RawGguf().header(1, 0).tensor("t", {8}, 0, ~uint64_t(0) - 31).pad().data(32).b, "lies outside the file");
}

TEST(GgufMalformed, MisalignedTensorOffset) {
  expect_error(RawGguf().header(1, 0).tensor("t", {8}, 0, 4).pad().data(64).b, "not a multiple of the alignment");
}

TEST(GgufMalformed, UnknownTensorType) {
  expect_error(RawGguf().header(1, 0).tensor("t", {8}, 99, 0).pad().data(32).b, "unknown ggml type 99");
  // A known ggml type a3b cannot compute with still parses (the model loader refuses it by name).
  GgufFile f = parse(RawGguf().header(1, 0).tensor("t", {32}, 3, 0).pad().data(32).b);
  EXPECT_STREQ(f.tensors()[0].type_name(), "Q4_1");
  EXPECT_FALSE(ggml_type_info(3)->dtype.has_value());
}

TEST(GgufMalformed, RowsNotWholeBlocks) {
  expect_error(RawGguf().header(1, 0).tensor("t", {40}, 8, 0).pad().data(64).b, "not a multiple of the Q8_0 block size");
}

TEST(GgufMalformed, OverflowingDimensions) {
  expect_error(RawGguf().header(1, 0).tensor("t", {uint64_t(1) << 62, uint64_t(1) << 62}, 0, 0).pad().b, "dimensions overflow");
  expect_error(RawGguf().header(1, 0).tensor("t", {uint64_t(1) << 63}, 0, 0).pad().b, "dimensions overflow");
  // Elements fit in int64 but the byte size does not.
  expect_error(RawGguf().header(1, 0).tensor("t", {uint64_t(1) << 62}, 0, 0).pad().b, "byte size overflows");
  expect_error(RawGguf().header(1, 0).tensor("t", {}, 0, 0).pad().b, "0 dimensions");
  expect_error(RawGguf().header(1, 0).tensor("t", {1, 1, 1, 1, 1}, 0, 0).pad().b, "5 dimensions");
}

TEST(GgufMalformed, OverflowingCounts) {
  expect_error(RawGguf().header(0, uint64_t(1) << 60).b, "metadata count");
  expect_error(RawGguf().header(uint64_t(1) << 60, 0).b, "tensor count");
  // An array claiming 2^60 elements, and a string claiming 2^60 bytes.
  expect_error(RawGguf().header(0, 1).str("k").u32(uint32_t(GgufValueType::Array)).u32(uint32_t(GgufValueType::U8))
                   .u64(uint64_t(1) << 60).data(64).b,
               "does not fit");
  expect_error(RawGguf().header(0, 1).str("k").u32(uint32_t(GgufValueType::String)).u64(uint64_t(1) << 60).data(64).b,
               "truncated");
  expect_error(RawGguf().header(0, 1).u64(~uint64_t(0)).data(64).b, "metadata key");
}

TEST(GgufMalformed, BadValues) {
  expect_error(RawGguf().header(0, 1).str("k").u32(13).data(8).b, "unknown value type 13");
  expect_error(RawGguf().header(0, 1).str("k").u32(uint32_t(GgufValueType::Array)).u32(42).u64(1).data(8).b,
               "unknown array element type");
  expect_error(RawGguf().header(0, 1).str("k").u32(uint32_t(GgufValueType::Bool)).data(1, 2).b, "bool value 2");
  expect_error(RawGguf().header(0, 1).kv_u32("general.alignment", 24).b, "power of two");
  expect_error(RawGguf().header(0, 1).kv_u32("general.alignment", 0).b, "power of two");
  expect_error(RawGguf().header(0, 2).kv_u32("k", 1).kv_u32("k", 2).b, "appears twice");
  expect_error(RawGguf().header(2, 0).tensor("t", {8}, 0, 0).tensor("t", {8}, 0, 32).pad().data(64).b, "appears twice");
  expect_error(RawGguf().header(1, 0).tensor(std::string(65, 'n'), {8}, 0, 0).pad().data(32).b, "tensor name");
  // Arrays nested deeper than the reader allows.
  RawGguf deep;
  deep.header(0, 1).str("k").u32(uint32_t(GgufValueType::Array));
  for (int i = 0; i < 4; ++i) deep.u32(uint32_t(GgufValueType::Array)).u64(1);
  expect_error(deep.data(64).b, "nested");
}

TEST(Gguf, WriterRefusesWhatTheReaderWouldReject) {
  GgufWriter w;
  EXPECT_THROW(w.set("general.alignment", GgufValue::u32(24)), Error);
  auto none = [] { return std::string(); };
  w.add_tensor("t", DType::F32, {4}, none);
  EXPECT_THROW(w.add_tensor("t", DType::F32, {4}, none), Error);
  EXPECT_THROW(w.add_tensor("q", DType::Q4_K, {128}, none), Error);
  EXPECT_THROW(w.add_tensor(std::string(65, 'n'), DType::F32, {4}, none), Error);
  EXPECT_THROW(w.add_tensor("d", DType::F32, {1, 1, 1, 1, 1}, none), Error);
  test::TempDir tmp;
  EXPECT_THROW(w.write(tmp / "x.gguf"), Error);  // "t" produces 0 bytes instead of 16
}

TEST(GgufMalformed, MissingFileIsAnError) {
  EXPECT_THROW(GgufFile("/nonexistent/model.gguf"), Error);
}

}  // namespace
}  // namespace a3b
