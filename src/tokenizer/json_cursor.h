// A fast pull parser for big JSON files (tokenizer.json is 11-13 MB, mostly one vocabulary object and one merge
// list): it walks the text once without building a tree, so a 248k-entry vocabulary loads in tens of
// milliseconds. Small sub-objects can be handed to nlohmann::json through raw_value().
//
//   JsonCursor c(text, "tokenizer.json");
//   c.begin_object();
//   while (auto key = c.next_key()) { if (*key == "model") ...; else c.skip(); }
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace a3b {

class JsonCursor {
 public:
  // text must stay alive while the cursor is used; source names it in error messages.
  JsonCursor(std::string_view text, std::string source);

  enum class Kind { Object, Array, String, Number, True, False, Null };
  Kind peek();  // kind of the next value

  void begin_object();
  // The next member's key (the cursor is then before its value), or nullopt at the closing brace. The view is
  // valid until the next call to next_key.
  std::optional<std::string_view> next_key();

  void begin_array();
  bool next_element();  // true if another element follows (the cursor is then before it)

  std::string_view string();  // valid until the next call to string()
  int64_t integer();
  bool boolean();
  bool null();           // consumes a null if one is next
  std::string_view raw_value();  // skips one value and returns its text
  void skip() { raw_value(); }
  void end();            // only whitespace may follow

  [[noreturn]] void error(std::string_view what) const;  // throws Error with file, line and column

 private:
  std::string_view parse_string(std::string& scratch);
  void skip_ws();
  char next_char();  // after skipping whitespace; '\0' at the end
  void expect(char c);

  std::string_view text_;
  std::string source_;
  size_t pos_ = 0;
  std::vector<bool> first_;  // per open container: no element read yet
  std::string key_scratch_, value_scratch_;
};

}  // namespace a3b
