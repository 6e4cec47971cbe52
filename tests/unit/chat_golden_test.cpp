// Byte-exact agreement with Python jinja2 (goldens from tools/reference/make_chat_goldens.py):
// real chat templates x conversations, and engine cases (hand-written + random templates).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "chat/chat_template.h"
#include "chat/jinja.h"
#include "core/error.h"

namespace a3b {
namespace {

const std::string kChatDir = std::string(A3B_SOURCE_DIR) + "/tests/chat/";

nlohmann::ordered_json load_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::ostringstream s;
  s << in.rdbuf();
  return nlohmann::ordered_json::parse(s.str());
}

// The goldens' strftime_now clock: 2026-03-14 09:26:53.
std::tm fixed_now() {
  std::tm tm{};
  tm.tm_year = 2026 - 1900;
  tm.tm_mon = 2;
  tm.tm_mday = 14;
  tm.tm_hour = 9;
  tm.tm_min = 26;
  tm.tm_sec = 53;
  timegm(&tm);  // fills in weekday and day of year
  return tm;
}

// Runs `render` and checks it against the case's "expected" text or "error" (raise_exception
// messages must match exactly; any other Python error only needs an error here too).
template <class Render>
void check_case(const nlohmann::ordered_json& c, const std::string& label, Render render) {
  std::string got;
  try {
    got = render();
  } catch (const Error& e) {
    if (c.contains("expected")) {
      ADD_FAILURE() << label << ": unexpected error: " << e.what();
    } else if (!c["error"]["raised"].is_null()) {
      EXPECT_EQ(std::string(e.what()), c["error"]["raised"].get<std::string>()) << label;
    }
    return;
  }
  if (!c.contains("expected")) {
    ADD_FAILURE() << label << ": rendered but Python raised " << c["error"]["python"] << "\ngot: " << got;
    return;
  }
  const std::string want = c["expected"];
  if (got == want) return;
  size_t at = 0;
  while (at < got.size() && at < want.size() && got[at] == want[at]) ++at;
  auto excerpt = [at](const std::string& s) {
    return nlohmann::json(s.substr(at > 40 ? at - 40 : 0, 120)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  ADD_FAILURE() << label << ": differs at byte " << at << "\n  want: " << excerpt(want) << "\n  got:  " << excerpt(got);
}

TEST(ChatGolden, RealTemplatesMatchPythonJinja) {
  const auto goldens = load_json(kChatDir + "chat_goldens.json");
  std::map<std::string, ChatTemplate> templates;
  size_t checked = 0, raising = 0;
  for (const auto& c : goldens["cases"]) {
    const std::string name = c["template"];
    if (!templates.count(name)) {
      auto t = ChatTemplate::from_file(kChatDir + "templates/" + name + ".jinja");
      t.options().clock = fixed_now;
      templates.emplace(name, std::move(t));
    }
    const ChatTemplate& t = templates.at(name);
    check_case(c, c["name"].get<std::string>(), [&] {
      return t.render(c["messages"], c["tools"], c["add_generation_prompt"].get<bool>(), c["kwargs"]);
    });
    ++checked;
    raising += c.contains("error");
  }
  EXPECT_GE(checked, 150u);
  EXPECT_GE(raising, 20u);
  EXPECT_GE(templates.size(), 7u);
}

TEST(ChatGolden, EngineCasesMatchPythonJinja) {
  const auto goldens = load_json(kChatDir + "jinja_goldens.json");
  jinja::RenderOptions options;
  options.clock = fixed_now;
  size_t index = 0;
  for (const auto& c : goldens["cases"]) {
    const std::string source = c["template"];
    const std::string quoted = nlohmann::json(source).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    check_case(c, "case " + std::to_string(index++) + " " + quoted,
               [&] { return jinja::Template::parse(source).render(c["variables"], options); });
  }
  EXPECT_GE(index, 500u);
}

}  // namespace
}  // namespace a3b
