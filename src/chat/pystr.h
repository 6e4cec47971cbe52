// Python string semantics on UTF-8 bytes: what the Jinja engine needs to print and transform text
// byte-for-byte like CPython (str.strip/split/title, repr of str and float, json.dumps string escaping).
// Invalid UTF-8 never throws: a stray byte decodes as one code point of its own value.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace a3b::py {

// Decodes the code point at s[i] and advances i past it.
char32_t next_code_point(std::string_view s, size_t& i);
void append_utf8(std::string& out, char32_t c);
// Code points in s (Python len()).
size_t code_point_count(std::string_view s);
// Byte offsets of every code point, plus s.size() at the end (for indexing and slicing by code point).
std::vector<size_t> code_point_offsets(std::string_view s);
bool is_ascii(std::string_view s);

bool is_space(char32_t c);  // str.isspace()
bool is_printable(char32_t c);  // str.isprintable(), decides repr escaping

// str.strip / lstrip / rstrip; chars = nullopt strips whitespace.
std::string strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right);
// str.split / str.rsplit; sep = nullopt splits on whitespace runs.
std::vector<std::string> split(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit);
std::vector<std::string> rsplit(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit);
std::vector<std::string> splitlines(std::string_view s, bool keepends = false);
std::string replace(std::string_view s, std::string_view old, std::string_view with, int64_t count = -1);

std::string lower(std::string_view s);
std::string upper(std::string_view s);
std::string title(std::string_view s);       // str.title()
std::string capitalize(std::string_view s);  // str.capitalize()
bool is_lower(std::string_view s);           // str.islower()
bool is_upper(std::string_view s);           // str.isupper()

// int(s, base) / float(s) on text: surrounding whitespace, a sign, '_' between digits ('1_000'),
// 'inf'/'nan' for float. nullopt when Python would raise (or the integer needs more than 64 bits).
std::optional<int64_t> parse_int(std::string_view s, int base = 10);
std::optional<double> parse_float(std::string_view s);

std::string repr(std::string_view s);  // repr(str): quotes and escapes as CPython does
std::string float_repr(double v);      // repr(float): shortest round-trip, 'inf', 'nan', '1e+16'
// json.dumps of a string; ensure_ascii escapes everything above U+007F as \uXXXX.
void append_json_string(std::string& out, std::string_view s, bool ensure_ascii);

}  // namespace a3b::py
