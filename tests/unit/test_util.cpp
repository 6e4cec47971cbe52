#include "test_util.h"

#include <cmath>
#include <cstdio>

#include "core/npy.h"

namespace a3b::test {

Golden load_golden(const std::string& dir) {
  Golden g;
  auto ref = read_json(dir + "/ref.json");
  g.prompt = ref["prompt_ids"].get<std::vector<int32_t>>();
  g.greedy = ref["greedy_ids"].get<std::vector<int32_t>>();
  g.vocab = ref["vocab_size"].get<int64_t>();
  g.prefill = read_npy(dir + "/ref_prefill_logits.npy").data;
  g.decode = read_npy(dir + "/ref_decode_logits.npy").data;
  return g;
}

double max_rel_diff(const float* a, const float* b, size_t n) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < n; ++i) {
    diff = std::max(diff, double(std::fabs(a[i] - b[i])));
    scale = std::max(scale, double(std::fabs(b[i])));
  }
  return diff / scale;
}

int run_command(const std::string& cmd, std::string* output) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  output->clear();
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) output->append(buf, n);
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace a3b::test
