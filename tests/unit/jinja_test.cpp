#include <gtest/gtest.h>

#include "chat/jinja.h"

namespace a3b::jinja {
namespace {

std::string render(const std::string& src, const nlohmann::ordered_json& vars = nlohmann::ordered_json::object()) {
  return Template::parse(src).render(vars);
}

TEST(Jinja, Basics) { EXPECT_EQ(render("{{ 1 + 2 }}"), "3"); }

}  // namespace
}  // namespace a3b::jinja
