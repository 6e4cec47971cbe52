#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "cli/commands.h"

namespace a3b {

std::string default_model_path() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("A3B_MODEL"); env && *env) return env;
  // The binary lives in <repo>/build; the shipped model in <repo>/models/default.
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  std::vector<fs::path> roots;
  if (n > 0) roots.push_back(fs::path(std::string(buf, size_t(n))).parent_path().parent_path());
  roots.push_back(A3B_SOURCE_DIR);
  for (auto& root : roots)
    for (const char* rel : {"models/default", "tests/fixtures/tiny-fused"})
      if (fs::exists(root / rel / "config.json")) return (root / rel).string();
  return (fs::path(A3B_SOURCE_DIR) / "models/default").string();
}

}  // namespace a3b
