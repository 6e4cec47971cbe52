#include "server/http_util.h"

#include <random>

#include "server/api_error.h"

namespace a3b {

using json = nlohmann::ordered_json;
using namespace std::chrono_literals;

json parse_body(const httplib::Request& req) {
  json j;
  try {
    j = json::parse(req.body);
  } catch (const json::parse_error& e) {
    bad_request(std::string("the request body is not valid JSON: ") + e.what());
  }
  if (!j.is_object()) bad_request("the request body must be a JSON object");
  return j;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(dump(body), "application/json");
}

std::string random_id(const char* prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string id = prefix;
  for (int i = 0; i < 24; ++i) id += hex[rng() & 15];
  return id;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void stream_events(httplib::Response& res, std::shared_ptr<Generation> gen,
                   std::function<std::vector<json>(std::vector<ChoiceUpdate>&)> chunks,
                   std::function<std::vector<json>()> head, std::function<std::vector<json>()> tail) {
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider("text/event-stream", [=](size_t, httplib::DataSink& sink) {
    auto last_write = std::chrono::steady_clock::now();
    auto send = [&](const std::string& s) {
      last_write = std::chrono::steady_clock::now();
      if (sink.write(s.data(), s.size())) return true;
      gen->cancel();
      return false;
    };
    auto send_all = [&](const std::vector<json>& payloads) {
      for (auto& p : payloads)
        if (!send("data: " + dump(p) + "\n\n")) return false;
      return true;
    };
    if (head && !send_all(head())) return false;
    while (!gen->done()) {
      auto updates = gen->poll(200ms);
      if (updates.empty()) {
        if (std::chrono::steady_clock::now() - last_write > 5s && !send(": ping\n\n")) return false;
        continue;
      }
      if (!send_all(chunks(updates))) return false;
    }
    if (tail && !send_all(tail())) return false;
    if (!send("data: [DONE]\n\n")) return false;
    sink.done();
    return true;
  });
}

void respond_when_done(httplib::Response& res, std::shared_ptr<Generation> gen,
                       std::function<void(std::vector<ChoiceUpdate>&)> collect, std::function<json()> body) {
  res.set_chunked_content_provider("application/json", [=](size_t, httplib::DataSink& sink) {
    auto waiting_since = std::chrono::steady_clock::now();
    while (!gen->done()) {
      auto updates = gen->poll(200ms);
      collect(updates);
      if (std::chrono::steady_clock::now() - waiting_since > 2s) {
        waiting_since = std::chrono::steady_clock::now();
        if (!sink.write(" ", 1)) {  // leading whitespace is valid JSON; a failed write means the client left
          gen->cancel();
          return false;
        }
      }
    }
    std::string text = dump(body());
    if (!sink.write(text.data(), text.size())) return false;
    sink.done();
    return true;
  });
}

}  // namespace a3b
