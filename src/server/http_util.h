// Small pieces shared by the API handlers: JSON bodies, ids, server-sent events.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server/generation.h"

namespace a3b {

nlohmann::ordered_json parse_body(const httplib::Request& req);  // 400 on anything but a JSON object
void send_json(httplib::Response& res, int status, const nlohmann::ordered_json& body);
std::string dump(const nlohmann::ordered_json& j);               // invalid UTF-8 replaced, never throws
std::string random_id(const char* prefix);               // e.g. chatcmpl-<24 hex>
int64_t unix_now();

// Streams `gen` as SSE: `chunks` turns each poll's updates into `data:` payloads; `tail` (may be
// empty) gives the last payload before `data: [DONE]` (the usage chunk). A failed write (client
// gone) cancels the generation. Comment pings keep idle connections alive and detect hang-ups.
void stream_events(httplib::Response& res, std::shared_ptr<Generation> gen,
                   std::function<std::vector<nlohmann::ordered_json>(std::vector<ChoiceUpdate>&)> chunks,
                   std::function<std::vector<nlohmann::ordered_json>()> head, std::function<std::vector<nlohmann::ordered_json>()> tail);

// Runs `gen` to the end and sends `body(updates)` as one JSON response. The response is chunked
// and starts with whitespace while waiting, so that a client that hangs up cancels the work.
void respond_when_done(httplib::Response& res, std::shared_ptr<Generation> gen,
                       std::function<void(std::vector<ChoiceUpdate>&)> collect, std::function<nlohmann::ordered_json()> body);

}  // namespace a3b
