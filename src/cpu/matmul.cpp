#include "cpu/matmul.h"

#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace a3b {
namespace {

struct Isa {
  const char* name;
  MatmulRowsFn rows;
  bool (*supported)();
};

const Isa kIsas[] = {
    {"avx512", matmul_rows_avx512,
     [] { return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"); }},
    {"avx2", matmul_rows_avx2,
     [] { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"); }},
    {"generic", matmul_rows_generic, [] { return true; }},
};

const Isa* select(const char* name) {
  for (const Isa& isa : kIsas)
    if ((!name || std::strcmp(name, isa.name) == 0) && isa.supported()) return &isa;
  return nullptr;
}

const Isa*& current() {
  static const Isa* isa = [] {
    const char* env = std::getenv("A3B_CPU_ISA");
    const Isa* chosen = env && *env ? select(env) : nullptr;
    return chosen ? chosen : select(nullptr);
  }();
  return isa;
}

}  // namespace

const char* cpu_isa() { return current()->name; }

void set_cpu_isa(const char* name) {
  const Isa* isa = select(name);
  if (!isa) fail("CPU instruction set '", name, "' is unknown or not supported by this CPU");
  current() = isa;
}

bool& int8_dot_flag() {
  static bool on = [] {
    const char* env = std::getenv("A3B_INT8_DOT");
    return !(env && std::strcmp(env, "0") == 0);
  }();
  return on;
}

void set_int8_dot(bool on) { int8_dot_flag() = on; }
bool int8_dot_enabled() { return int8_dot_flag(); }

void matmul(const Matrix& w, const float* x, int64_t n, float* y, ThreadPool& pool) {
  if (n <= 0 || w.rows == 0) return;
  if (n <= kInt8DotMaxTokens && int8_dot_flag() && int8_dot_supported(w.dtype) && current()->rows != matmul_rows_generic) {
    thread_local QuantizedActivations xq;
    quantize_activations(x, n, w.cols, xq);
    const QuantizedActivations& shared = xq;
    if (w.rows * w.cols * n < (1 << 16)) return matmul_rows_int8_avx2(w, 0, w.rows, shared, n, y);
    pool.for_range(w.rows, 16, [&](int64_t r0, int64_t r1) { matmul_rows_int8_avx2(w, r0, r1, shared, n, y); });
    return;
  }
  MatmulRowsFn rows = current()->rows;
  // Work in slices of whole rows; small products stay on one thread.
  int64_t work = w.rows * w.cols * n;
  if (work < (1 << 16)) {
    rows(w, 0, w.rows, x, n, y);
    return;
  }
  pool.for_range(w.rows, 16, [&](int64_t r0, int64_t r1) { rows(w, r0, r1, x, n, y); });
}

}  // namespace a3b
