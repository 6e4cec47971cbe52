// ChatOutputParser: hand-checked final results for realistic model outputs, the same result for the
// text split at every byte (and into random 3-piece splits), deltas that add up to the result.
#include <gtest/gtest.h>

#include <random>

#include "chat/chat_parser.h"
#include "chat/tool_calls.h"

namespace a3b {
namespace {

using json = nlohmann::ordered_json;

const json kTools = json::parse(R"([
  {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {
    "city": {"type": "string"}, "days": {"type": "integer"}, "units": {"type": "string", "enum": ["c", "f"]}}}}},
  {"type": "function", "function": {"name": "write_file", "parameters": {"type": "object", "properties": {
    "path": {"type": "string"}, "content": {"type": "string"}, "overwrite": {"type": "boolean"},
    "mode": {"type": ["integer", "null"]}, "meta": {"type": "object"}, "tags": {"type": "array"},
    "ratio": {"type": "number"}, "note": {"anyOf": [{"type": "string"}, {"type": "null"}]}}}}}
])");

struct Call {
  std::string name, arguments;
};

struct Case {
  const char* name;
  bool starts_in_reasoning;
  std::string output;
  std::string reasoning, content;
  std::vector<Call> calls;
  bool enable_reasoning = true;
  bool parse_tool_calls = true;
};

const std::string kWeatherParis =
    "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n2\n</parameter>\n"
    "</function>\n</tool_call>";
const std::string kWeatherLyon = "<tool_call>\n<function=get_weather>\n<parameter=city>\nLyon\n</parameter>\n</function>\n</tool_call>";

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"reasoning_then_answer", true, "The user greets me.\nI should answer.\n</think>\n\nHello! How can I help?",
       "The user greets me.\nI should answer.", "Hello! How can I help?", {}},
      {"reasoning_then_call", true, "Need the weather.\n</think>\n\n" + kWeatherParis, "Need the weather.", "",
       {{"get_weather", R"({"city": "Paris", "days": 2})"}}},
      {"parallel_calls", true, "Two cities.\n</think>\n\n" + kWeatherParis + "\n" + kWeatherLyon, "Two cities.", "",
       {{"get_weather", R"({"city": "Paris", "days": 2})"}, {"get_weather", R"({"city": "Lyon"})"}}},
      {"content_before_call", true, "r\n</think>\n\nLet me check.\n\n" + kWeatherLyon, "r", "Let me check.",
       {{"get_weather", R"({"city": "Lyon"})"}}},
      {"content_around_calls", false, "Checking both.\n" + kWeatherLyon + "\nAnd then\n" + kWeatherLyon + "\n", "",
       "Checking both.\nAnd then", {{"get_weather", R"({"city": "Lyon"})"}, {"get_weather", R"({"city": "Lyon"})"}}},
      {"typed_arguments", false,
       "<tool_call>\n<function=write_file>\n<parameter=path>\n/tmp/a \"b\"\\c.txt\n</parameter>\n"
       "<parameter=content>\nline 1\n  line 2\n\n</parameter>\n<parameter=overwrite>\nTrue\n</parameter>\n"
       "<parameter=mode>\nNone\n</parameter>\n<parameter=meta>\n{\"k\": [1, 2.5], \"u\": \"\\u00fc\"}\n</parameter>\n"
       "<parameter=tags>\n['a', \"b\"]\n</parameter>\n<parameter=ratio>\n72.000\n</parameter>\n"
       "<parameter=note>\nnull\n</parameter>\n</function>\n</tool_call>",
       "", "",
       {{"write_file",
         R"({"path": "/tmp/a \"b\"\\c.txt", "content": "line 1\n  line 2\n", "overwrite": true, "mode": null, )"
         R"("meta": {"k": [1, 2.5], "u": "ü"}, "tags": ["a", "b"], "ratio": 72, "note": null})"}}},
      {"python_literal_object", false,
       "<tool_call>\n<function=write_file>\n<parameter=meta>\n{'k': True, 'n': None, 'l': (1, -2.5e1)}\n</parameter>\n"
       "<parameter=ratio>\n2.50\n</parameter>\n</function>\n</tool_call>",
       "", "", {{"write_file", R"({"meta": {"k": true, "n": null, "l": [1, -25.0]}, "ratio": 2.5})"}}},
      {"unparsable_typed_values_stay_text", false,
       "<tool_call>\n<function=get_weather>\n<parameter=city>\n123\n</parameter>\n<parameter=days>\ntwo\n</parameter>\n"
       "</function>\n</tool_call>",
       "", "", {{"get_weather", R"({"city": "123", "days": "two"})"}}},
      {"untyped_parameters", false,
       "<tool_call>\n<function=lookup>\n<parameter=q>\n42\n</parameter>\n<parameter=s>\nhello world\n</parameter>\n"
       "<parameter=o>\n{\"a\": true}\n</parameter>\n</function>\n</tool_call>",
       "", "", {{"lookup", R"({"q": 42, "s": "hello world", "o": {"a": true}})"}}},
      {"call_inside_reasoning", true, "I will call the tool.\n\n" + kWeatherLyon, "I will call the tool.", "",
       {{"get_weather", R"({"city": "Lyon"})"}}},
      {"unterminated_call", true, "r</think>\n\nSure.\n<tool_call>\n<function=get_weather>\n<parameter=city>\nPar", "r",
       "Sure.\n<tool_call>\n<function=get_weather>\n<parameter=city>\nPar", {}},
      {"unterminated_call_from_reasoning", true, "plan\n<tool_call>\n<function=get_weather>\n<parameter=city>\nPa", "plan",
       "<tool_call>\n<function=get_weather>\n<parameter=city>\nPa", {}},
      {"malformed_name", false, "<tool_call>\n<function=get weather>\n</function>\n</tool_call> after",
       "", "<tool_call>\n<function=get weather>\n</function>\n</tool_call> after", {}},
      {"garbage_between_parameters", false,
       "<tool_call>\n<function=get_weather>\nchatter\n<parameter=city>\nX\n</parameter>\n</function>\n</tool_call>", "",
       "<tool_call>\n<function=get_weather>\nchatter\n<parameter=city>\nX\n</parameter>\n</function>\n</tool_call>", {}},
      {"malformed_then_valid", false, "<tool_call>\n{bad json}\n</tool_call>\n" + kWeatherLyon, "",
       "<tool_call>\n{bad json}\n</tool_call>", {{"get_weather", R"({"city": "Lyon"})"}}},
      {"missing_parameter_close", false,
       "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n<parameter=days>\n3\n</function>\n</tool_call>", "",
       "", {{"get_weather", R"({"city": "Paris", "days": 3})"}}},
      {"missing_parameter_close_then_closed", false,
       "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n<parameter=days>\n3\n</parameter>\n</function>\n"
       "</tool_call>",
       "", "", {{"get_weather", R"({"city": "Paris", "days": 3})"}}},
      {"value_with_foreign_parameter_line", false,
       "<tool_call>\n<function=write_file>\n<parameter=content>\na\n<parameter=city>\nb\n</parameter>\n</function>\n"
       "</tool_call>",
       "", "", {{"write_file", R"({"content": "a\n<parameter=city>\nb"})"}}},
      {"missing_tool_call_close_at_end", false,
       "<tool_call>\n<function=get_weather>\n<parameter=city>\nRome\n</parameter>\n</function>\n", "", "",
       {{"get_weather", R"({"city": "Rome"})"}}},
      {"bare_function", true, "r\n</think>\n\n<function=get_weather>\n<parameter=city>\nOslo\n</parameter>\n</function>\n</tool_call>",
       "r", "", {{"get_weather", R"({"city": "Oslo"})"}}},
      {"bare_function_mid_line_is_text", false, "Write <function=f> tags.", "", "Write <function=f> tags.", {}},
      {"literal_tags_in_value", false,
       "<tool_call>\n<function=write_file>\n<parameter=content>\nuse </tool_call> and </parameter> text\n</parameter>\n"
       "</function>\n</tool_call>",
       "", "", {{"write_file", R"({"content": "use </tool_call> and </parameter> text"})"}}},
      {"hermes_json_call", true, "r</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
       "r", "", {{"get_weather", R"({"city": "Paris"})"}}},
      {"hermes_json_string_arguments", false,
       "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\":\\\"Nice\\\"}\"}\n</tool_call>", "", "",
       {{"get_weather", R"({"city": "Nice"})"}}},
      {"text_after_call", false, kWeatherLyon + "\nDone.", "", "Done.", {{"get_weather", R"({"city": "Lyon"})"}}},
      {"no_think_tags", false, "Just an answer.\n", "", "Just an answer.", {}},
      {"thinking_off_output", false, "\n\nAnswer text", "", "Answer text", {}},
      {"truncated_reasoning", true, "Thinking about it...\n", "Thinking about it...", "", {}},
      {"repeated_think_open", true, "<think>\nreasoning\n</think>\n\nanswer", "reasoning", "answer", {}},
      {"model_opens_think", false, "<think>\nr\n</think>\n\nanswer", "r", "answer", {}},
      {"literal_tool_call_in_reasoning", true, "Use <tool_call> tags.\n</think>\n\nok", "Use <tool_call> tags.", "ok", {}},
      {"literal_tool_call_in_content", false, "Wrap calls in <tool_call> tags.", "", "Wrap calls in <tool_call> tags.", {}},
      {"later_think_is_text", true, "r</think>\n\nText with <think> inside.", "r", "Text with <think> inside.", {}},
      {"reasoning_disabled", true, "<think>x</think>y " + kWeatherLyon, "", "<think>x</think>y", {{"get_weather", R"({"city": "Lyon"})"}},
       false},
      {"tool_calls_disabled", false, "a\n" + kWeatherLyon, "", "a\n" + kWeatherLyon, {}, true, false},
      {"unicode", true, "日本語で考える 😀\n</think>\n\n答え: ✓", "日本語で考える 😀", "答え: ✓", {}},
      {"inner_blank_lines_kept", true, "step 1\n\nstep 2  \n\n</think>\n\npara 1\n\npara 2", "step 1\n\nstep 2", "para 1\n\npara 2", {}},
      {"empty_output", true, "", "", "", {}},
      {"only_close_think", true, "</think>", "", "", {}},
      {"near_tags", true, "a </thinking> b <tool_cal x\n</think>\n\nc <tool_callx> d", "a </thinking> b <tool_cal x",
       "c <tool_callx> d", {}},
  };
  return all;
}

ParserOptions options_for(const Case& c) {
  ParserOptions o;
  o.starts_in_reasoning = c.starts_in_reasoning;
  o.enable_reasoning = c.enable_reasoning;
  o.parse_tool_calls = c.parse_tool_calls;
  o.tools = kTools;
  auto counter = std::make_shared<int>(0);
  o.new_call_id = [counter] { return "call_" + std::to_string((*counter)++); };
  return o;
}

// Feeds the pieces, checks that deltas add up to the result, returns the result.
ChatResult run(const Case& c, const std::vector<std::string>& pieces) {
  ChatOutputParser parser(options_for(c));
  ChatResult sum;
  auto add = [&](const ChatDelta& d) {
    sum.reasoning += d.reasoning;
    sum.content += d.content;
    for (const auto& t : d.tool_calls) {
      EXPECT_EQ(t.index, int(sum.tool_calls.size()));
      sum.tool_calls.push_back(ToolCall{t.id, t.name, t.arguments});
    }
  };
  for (const auto& p : pieces) add(parser.push(p));
  add(parser.finish());
  const ChatResult& r = parser.result();
  EXPECT_EQ(sum.reasoning, r.reasoning);
  EXPECT_EQ(sum.content, r.content);
  EXPECT_EQ(sum.tool_calls.size(), r.tool_calls.size());
  return r;
}

void expect_result(const Case& c, const ChatResult& r, const std::string& how) {
  EXPECT_EQ(r.reasoning, c.reasoning) << c.name << " " << how;
  EXPECT_EQ(r.content, c.content) << c.name << " " << how;
  ASSERT_EQ(r.tool_calls.size(), c.calls.size()) << c.name << " " << how;
  for (size_t i = 0; i < c.calls.size(); ++i) {
    EXPECT_EQ(r.tool_calls[i].id, "call_" + std::to_string(i)) << c.name;
    EXPECT_EQ(r.tool_calls[i].name, c.calls[i].name) << c.name << " " << how;
    EXPECT_EQ(r.tool_calls[i].arguments, c.calls[i].arguments) << c.name << " " << how;
  }
}

TEST(ChatParser, WholeOutputs) {
  for (const auto& c : cases()) expect_result(c, run(c, {c.output}), "whole");
}

TEST(ChatParser, EveryTwoPieceSplit) {
  for (const auto& c : cases())
    for (size_t i = 0; i <= c.output.size(); ++i)
      expect_result(c, run(c, {c.output.substr(0, i), c.output.substr(i)}), "split at " + std::to_string(i));
}

TEST(ChatParser, RandomThreePieceSplitsAndBytes) {
  std::mt19937 rng(1234);
  for (const auto& c : cases()) {
    const size_t n = c.output.size();
    for (int k = 0; k < 200; ++k) {
      size_t a = n ? rng() % (n + 1) : 0, b = n ? rng() % (n + 1) : 0;
      if (a > b) std::swap(a, b);
      expect_result(c, run(c, {c.output.substr(0, a), c.output.substr(a, b - a), c.output.substr(b)}),
                    "split at " + std::to_string(a) + "," + std::to_string(b));
    }
    std::vector<std::string> bytes;
    for (char ch : c.output) bytes.emplace_back(1, ch);
    expect_result(c, run(c, bytes), "byte by byte");
  }
}

TEST(ChatParser, StreamsPromptlyAndKeepsUtf8Whole) {
  ChatOutputParser p(ParserOptions{true, true, true, kTools, nullptr});
  EXPECT_EQ(p.push("Thinking about").reasoning, "Thinking about");
  ChatDelta d = p.push(" it.\n</thi");  // the newline and the tag prefix wait
  EXPECT_EQ(d.reasoning, " it.");
  d = p.push("nk>\n\nHel");
  EXPECT_EQ(d.reasoning, "");
  EXPECT_EQ(d.content, "Hel");
  d = p.push("lo \xE4\xBD");  // first two bytes of 你
  EXPECT_EQ(d.content, "lo");
  d = p.push("\xA0 <tool");
  EXPECT_EQ(d.content, " \xE4\xBD\xA0");
  d = p.push("_call>\n<function=get_weather>\n<parameter=city>\nX\n</parameter>\n</function>\n</tool_");
  EXPECT_TRUE(d.tool_calls.empty());
  d = p.push("call>");
  ASSERT_EQ(d.tool_calls.size(), 1u);
  EXPECT_EQ(d.tool_calls[0].index, 0);
  EXPECT_EQ(d.tool_calls[0].name, "get_weather");
  EXPECT_EQ(d.tool_calls[0].arguments, R"({"city": "X"})");
  EXPECT_EQ(d.tool_calls[0].id.rfind("call_", 0), 0u);
  EXPECT_EQ(d.tool_calls[0].id.size(), 29u);
  EXPECT_TRUE(p.finish().empty());
  EXPECT_EQ(p.result().content, "Hello \xE4\xBD\xA0");
}

TEST(ChatParser, PromptOpensReasoning) {
  EXPECT_TRUE(prompt_opens_reasoning("<|im_start|>assistant\n<think>\n"));
  EXPECT_FALSE(prompt_opens_reasoning("<|im_start|>assistant\n<think>\n\n</think>\n\n"));
  EXPECT_FALSE(prompt_opens_reasoning("<|im_start|>assistant\n"));
  EXPECT_FALSE(prompt_opens_reasoning("<think>\nx"));
}

TEST(ChatParser, ArgumentTyping) {
  auto typed = [](const char* fn, const char* key, const char* raw) { return typed_argument(kTools, fn, key, raw).dump(); };
  EXPECT_EQ(typed("get_weather", "days", "7"), "7");
  EXPECT_EQ(typed("get_weather", "days", " 1_000 "), "1000");
  EXPECT_EQ(typed("get_weather", "days", "3.0"), "\"3.0\"");
  EXPECT_EQ(typed("get_weather", "days", "null"), "null");
  EXPECT_EQ(typed("get_weather", "city", "null"), "\"null\"");
  EXPECT_EQ(typed("get_weather", "units", "42"), "\"42\"");
  EXPECT_EQ(typed("write_file", "note", "None"), "null");
  EXPECT_EQ(typed("write_file", "ratio", "1e3"), "1000");
  EXPECT_EQ(typed("write_file", "ratio", "inf"), "\"inf\"");
  EXPECT_EQ(typed("write_file", "overwrite", "FALSE"), "false");
  EXPECT_EQ(typed("write_file", "overwrite", "yes"), "\"yes\"");
  EXPECT_EQ(typed("write_file", "tags", "[1, 2"), "\"[1, 2\"");
  EXPECT_EQ(typed("write_file", "meta", "\"{'a': 1}\""), "{\"a\":1}");
  EXPECT_EQ(typed("nope", "x", "[true, null]"), "[true,null]");
  EXPECT_EQ(typed("nope", "x", "007"), "\"007\"");
}

}  // namespace
}  // namespace a3b
