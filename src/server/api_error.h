// Client-visible failures of the HTTP API: a status and an OpenAI-style error body
// {"error": {"message", "type", "param", "code"}}.
#pragma once
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace a3b {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string type = "invalid_request_error", std::string param = {},
           std::string code = {})
      : std::runtime_error(message), status(status), type(std::move(type)), param(std::move(param)), code(std::move(code)) {}

  nlohmann::ordered_json body() const {
    nlohmann::ordered_json e = {{"message", what()}, {"type", type}, {"param", nullptr}, {"code", nullptr}};
    if (!param.empty()) e["param"] = param;
    if (!code.empty()) e["code"] = code;
    return {{"error", e}};
  }

  int status;
  std::string type, param, code;
};

[[noreturn]] inline void bad_request(const std::string& message, const std::string& param = {}, const std::string& code = {}) {
  throw ApiError(400, message, "invalid_request_error", param, code);
}

}  // namespace a3b
