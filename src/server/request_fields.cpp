#include "server/request_fields.h"

#include <cmath>

#include "server/api_error.h"

namespace a3b {

using json = nlohmann::ordered_json;

Fields::Fields(const json& body) : j_(body) {
  if (!body.is_object()) bad_request("the request body must be a JSON object");
}

const json* Fields::get(const char* key) const {
  auto it = j_.find(key);
  return it == j_.end() || it->is_null() ? nullptr : &*it;
}

bool Fields::has(const char* key) const { return get(key) != nullptr; }

std::optional<double> Fields::number(const char* key, double min, double max) const {
  const json* v = get(key);
  if (!v) return std::nullopt;
  if (!v->is_number()) bad_request(std::string("'") + key + "' must be a number", key);
  double d = v->get<double>();
  if (!std::isfinite(d) || d < min || d > max)
    bad_request(std::string("'") + key + "' must be between " + json(min).dump() + " and " + json(max).dump(), key);
  return d;
}

std::optional<int64_t> Fields::integer(const char* key, int64_t min, int64_t max) const {
  const json* v = get(key);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) bad_request(std::string("'") + key + "' must be an integer", key);
  if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX))
    bad_request(std::string("'") + key + "' is too large", key);
  int64_t i = v->get<int64_t>();
  if (i < min || i > max)
    bad_request(std::string("'") + key + "' must be between " + std::to_string(min) + " and " + std::to_string(max), key);
  return i;
}

std::optional<bool> Fields::boolean(const char* key) const {
  const json* v = get(key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) bad_request(std::string("'") + key + "' must be a boolean", key);
  return v->get<bool>();
}

std::optional<std::string> Fields::string(const char* key) const {
  const json* v = get(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) bad_request(std::string("'") + key + "' must be a string", key);
  return v->get<std::string>();
}

const json* Fields::object(const char* key) const {
  const json* v = get(key);
  if (v && !v->is_object()) bad_request(std::string("'") + key + "' must be an object", key);
  return v;
}

const json* Fields::array(const char* key) const {
  const json* v = get(key);
  if (v && !v->is_array()) bad_request(std::string("'") + key + "' must be an array", key);
  return v;
}

SamplingParams parse_sampling(const Fields& f, const SamplingParams& defaults) {
  SamplingParams p = defaults;
  if (auto v = f.number("temperature", 0, 2)) p.temperature = float(*v);
  if (auto v = f.number("top_p", 0, 1)) p.top_p = float(*v);
  if (auto v = f.integer("top_k", -1, INT32_MAX)) p.top_k = int(*v);
  if (auto v = f.number("min_p", 0, 1)) p.min_p = float(*v);
  if (auto v = f.number("presence_penalty", -2, 2)) p.presence_penalty = float(*v);
  if (auto v = f.number("frequency_penalty", -2, 2)) p.frequency_penalty = float(*v);
  if (auto v = f.number("repetition_penalty", 0.01, 10)) p.repetition_penalty = float(*v);
  if (auto v = f.integer("seed", INT64_MIN, INT64_MAX)) p.seed = uint64_t(*v);
  if (const json* bias = f.object("logit_bias")) {
    for (auto& [key, value] : bias->items()) {
      size_t used = 0;
      long long id = -1;
      try {
        id = std::stoll(key, &used);
      } catch (...) {
        used = 0;
      }
      if (used != key.size() || id < 0 || id > INT32_MAX) bad_request("logit_bias keys must be token ids", "logit_bias");
      if (!value.is_number() || value.get<double>() < -100 || value.get<double>() > 100)
        bad_request("logit_bias values must be numbers between -100 and 100", "logit_bias");
      p.logit_bias[int32_t(id)] = value.get<float>();
    }
  }
  return p;
}

std::vector<std::string> parse_stop(const Fields& f) {
  std::vector<std::string> stops;
  if (!f.has("stop")) return stops;
  const json& v = f.raw()["stop"];
  if (v.is_string()) {
    stops.push_back(v.get<std::string>());
  } else if (v.is_array()) {
    for (auto& s : v) {
      if (!s.is_string()) bad_request("'stop' must be a string or a list of strings", "stop");
      stops.push_back(s.get<std::string>());
    }
  } else {
    bad_request("'stop' must be a string or a list of strings", "stop");
  }
  if (stops.size() > 16) bad_request("'stop' may hold at most 16 strings", "stop");
  std::erase_if(stops, [](const std::string& s) { return s.empty(); });
  return stops;
}

}  // namespace a3b
