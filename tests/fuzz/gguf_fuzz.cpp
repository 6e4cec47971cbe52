// libFuzzer target over the GGUF reader and the qwen35moe metadata interpretation: any input must
// either parse or raise a3b::Error; anything else (crash, sanitizer report, other exception,
// allocation the input cannot back) is a bug. Built and run by tests/fuzz/run_fuzzer.sh (ctest gguf_fuzz).
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "formats/gguf.h"
#include "formats/gguf_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace a3b;
  try {
    GgufFile f = GgufFile::from_memory(data, size, "fuzz.gguf");
    for (const GgufTensor& t : f.tensors()) {
      volatile uint8_t sink = 0;
      if (t.nbytes) sink = t.data[0] ^ t.data[t.nbytes - 1];  // every tensor lies inside the input
      (void)sink;
    }
    for (const std::string& k : f.keys()) {
      const GgufValue* v = f.find(k);
      if (v->is_integer()) (void)f.get_int(k);
      if (v->type == GgufValueType::Array && v->elem_type == GgufValueType::String) (void)f.get_strings(k);
    }
    try {
      (void)gguf_model_config(f, f.find_tensor("token_embd.weight"), f.find_tensor("output.weight") != nullptr);
    } catch (const Error&) {
    }
    (void)spec_from_gguf(gguf_tokenizer_data(f));
  } catch (const Error&) {
  }
  return 0;
}
