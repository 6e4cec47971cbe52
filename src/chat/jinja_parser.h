// Jinja2 parser: tokens to a Program, with jinja2/parser.py's grammar and precedence
// (filters and tests bind tighter than arithmetic; `~` sits between + and *; comparisons chain).
// Tags: if/elif/else, for (with `if` filter, else, loop controls), set (also `ns.attr` and block
// form), macro, filter, with, generation (transformers' no-op tracking tag), raw (in the lexer).
// Unsupported tags (extends, include, import, call, block, ...) are errors naming the tag.
#pragma once
#include <string_view>
#include <vector>

#include "chat/jinja_ast.h"
#include "chat/jinja_lexer.h"

namespace a3b::jinja {

Program parse(const std::vector<Token>& tokens, std::string_view source);

}  // namespace a3b::jinja
