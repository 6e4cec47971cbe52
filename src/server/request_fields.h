// Typed, validated access to the fields of an API request body. Wrong types and out-of-range
// values become 400 errors that name the field, as OpenAI's API does.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/sampler.h"

namespace a3b {

class Fields {
 public:
  explicit Fields(const nlohmann::ordered_json& body);  // 400 unless body is an object

  bool has(const char* key) const;
  std::optional<double> number(const char* key, double min, double max) const;
  std::optional<int64_t> integer(const char* key, int64_t min, int64_t max) const;
  std::optional<bool> boolean(const char* key) const;
  std::optional<std::string> string(const char* key) const;
  const nlohmann::ordered_json* object(const char* key) const;  // null when absent or JSON null
  const nlohmann::ordered_json* array(const char* key) const;
  const nlohmann::ordered_json& raw() const { return j_; }

 private:
  const nlohmann::ordered_json* get(const char* key) const;
  const nlohmann::ordered_json& j_;
};

// temperature, top_p, top_k, min_p, penalties, seed, logit_bias over the model's defaults.
SamplingParams parse_sampling(const Fields& f, const SamplingParams& defaults);

// "stop": a string or a list of up to 4 (we allow 16) non-empty strings.
std::vector<std::string> parse_stop(const Fields& f);

}  // namespace a3b
