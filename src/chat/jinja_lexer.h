// Jinja2 lexer, configured as transformers renders chat templates:
// ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True), default delimiters,
// keep_trailing_newline=False. Whitespace control follows jinja2/lexer.py: `{%-`/`-%}` strip all
// whitespace on that side, `{%+`/`+%}` turn lstrip/trim off for that tag, a block or comment tag
// alone on its line loses its indentation (lstrip_blocks) and the newline after it (trim_blocks).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace a3b::jinja {

enum class TokenType { Data, VariableBegin, VariableEnd, BlockBegin, BlockEnd, Name, String, Integer, Float, Operator, Eof };

struct Token {
  TokenType type;
  std::string text;  // Data text, name, decoded string literal, or operator spelling
  int64_t int_value = 0;
  double float_value = 0;
  size_t offset = 0;  // byte offset in the normalized source, for error positions
};

// Newlines normalized to "\n" and one trailing newline dropped, as Jinja does before lexing.
std::string normalize_source(std::string_view source);

// Tokens of a normalized source; a syntax error is an a3b::Error naming line and column.
std::vector<Token> tokenize(std::string_view source);

// "line L, column C" of a byte offset (1-based), for messages.
std::string describe_position(std::string_view source, size_t offset);

}  // namespace a3b::jinja
