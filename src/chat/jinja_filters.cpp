// Jinja2's builtin filters and tests, with jinja2/filters.py and tests.py semantics, and
// transformers' tojson. Filters jinja2 has that chat templates do not use (urlize, wordwrap,
// xmlattr, groupby, ...) are rejected when the template is parsed.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "chat/jinja_interp.h"
#include "chat/pystr.h"
#include "core/error.h"

namespace a3b::jinja {
namespace {

// jinja2's make_attrgetter: "a.b.0" looks up a, then b, then item 0.
Value lookup_path(Interpreter& in, const Value& item, const std::string& path, const Value* fallback = nullptr) {
  Value v = item;
  size_t start = 0;
  for (;;) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    v = in.getitem(v, digits ? Value(int64_t(std::stoll(part))) : Value(part));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (fallback && v.is_undefined()) return *fallback;
  return v;
}

// Sort/unique/min/max keys: an attribute of each item, lowercased when not case-sensitive.
Value sort_key(Interpreter& in, const Value& item, const Value* attribute, bool case_sensitive) {
  Value key = attribute && !attribute->is_none() ? lookup_path(in, item, attribute->to_str()) : item;
  if (!case_sensitive && key.is_string()) return Value(py::lower(key.str()));
  return key;
}

Value python_round(const Value& v, int64_t precision, const std::string& method) {
  if (method != "common" && method != "ceil" && method != "floor") runtime_error("method must be common, ceil or floor");
  if (!v.is_number()) runtime_error("type " + v.type_name() + " doesn't define __round__ method");
  if (method == "common") {
    if (!v.is_float()) return Value(v.as_int());  // round(int, n) stays an int
    const double x = v.as_float();
    if (!std::isfinite(x)) return v;
    if (precision < 0 || precision > 300) {
      const double scale = std::pow(10.0, double(-precision));
      return Value(std::nearbyint(x / scale) * scale);
    }
    // glibc's %.Nf rounds the exact binary value half-to-even, as CPython's round() does.
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", int(precision), x);
    return Value(std::strtod(buf, nullptr));
  }
  const double scale = std::pow(10.0, double(precision));
  const double x = v.as_float() * scale;
  return Value((method == "ceil" ? std::ceil(x) : std::floor(x)) / scale);
}

std::string html_escape(const std::string& s) {  // markupsafe's escape()
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// jinja2's title filter (not str.title): chunks split at runs of -, whitespace, (, {, [, <; each
// chunk's first character upper-cased and the rest lower-cased.
std::string title_words(const std::string& s) {
  auto is_break = [](char32_t c) { return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || py::is_space(c); };
  std::string out;
  bool chunk_start = true;
  for (size_t i = 0; i < s.size();) {
    const size_t start = i;
    const char32_t c = py::next_code_point(s, i);
    const std::string ch = s.substr(start, i - start);
    if (is_break(c)) {
      out += ch;
      chunk_start = true;
    } else {
      out += chunk_start ? py::upper(ch) : py::lower(ch);
      chunk_start = false;
    }
  }
  return out;
}

std::string do_indent(const std::string& text, const Value& width, bool first, bool blank) {
  const std::string indention = width.is_string() ? width.str() : std::string(size_t(std::clamp<int64_t>(width.as_int(), 0, 1 << 16)), ' ');
  // jinja2 appends a newline first so splitlines() keeps a trailing empty line.
  const std::vector<std::string> lines = py::splitlines(text + "\n");
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += '\n';
    if (i > 0 && (blank || !lines[i].empty())) out += indention;
    out += lines[i];
  }
  if (first) out = indention + out;
  return out;
}

// select/reject/selectattr/rejectattr share jinja2's prepare_select_or_reject.
Value select_items(Interpreter& in, const Value& value, CallArgs& args, bool lookup_attr, bool keep_matching) {
  std::string attr;
  size_t off = 0;
  if (lookup_attr) {
    if (args.positional.empty()) runtime_error("Missing parameter for attribute name");
    attr = args.positional[0].to_str();
    off = 1;
  }
  const bool has_test = args.positional.size() > off;
  const std::string test = has_test ? args.positional[off].to_str() : "";
  CallArgs test_args;
  if (has_test) test_args.positional.assign(args.positional.begin() + long(off) + 1, args.positional.end());
  test_args.keyword = args.keyword;
  ValueList out;
  if (!value.truthy()) return Value::iterator({});
  for (const Value& item : iterate(value)) {
    in.count_step();
    Value subject = lookup_attr ? lookup_path(in, item, attr) : item;
    CallArgs a = test_args;
    const bool matched = has_test ? in.apply_test(test, subject, a) : subject.truthy();
    if (matched == keep_matching) out.push_back(item);
  }
  return Value::iterator(std::move(out));
}

Value do_map(Interpreter& in, const Value& value, CallArgs& args) {
  ValueList out;
  if (!value.truthy()) return Value::iterator({});
  if (args.positional.empty()) {
    Value attribute, fallback = Value::none();
    for (auto& [k, v] : args.keyword) {
      if (k == "attribute") attribute = v;
      else if (k == "default") fallback = v;
      else runtime_error("Unexpected keyword argument '" + k + "'");
    }
    if (attribute.is_undefined()) runtime_error("map requires a filter argument");
    for (const Value& item : iterate(value)) {
      in.count_step();
      out.push_back(lookup_path(in, item, attribute.to_str(), &fallback));
    }
    return Value::iterator(std::move(out));
  }
  const std::string filter = args.positional[0].to_str();
  CallArgs filter_args;
  filter_args.positional.assign(args.positional.begin() + 1, args.positional.end());
  filter_args.keyword = args.keyword;
  for (const Value& item : iterate(value)) {
    CallArgs a = filter_args;
    out.push_back(in.apply_filter(filter, item, a));
  }
  return Value::iterator(std::move(out));
}

Value aggregate(Interpreter& in, const Value& value, CallArgs& args, bool want_max) {
  ArgReader a(want_max ? "max" : "min", args, {"case_sensitive", "attribute"});
  const bool cs = a.get_or(0, Value(false)).truthy();
  const Value attribute = a.get_or(1, Value::none());
  ValueList items = iterate(value);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  Value best_key = sort_key(in, items[0], &attribute, cs);
  for (size_t i = 1; i < items.size(); ++i) {
    Value k = sort_key(in, items[i], &attribute, cs);
    if (want_max ? less(best_key, k) : less(k, best_key)) {
      best = i;
      best_key = std::move(k);
    }
  }
  return items[best];
}

JsonDumpOptions tojson_options(ArgReader& a) {
  JsonDumpOptions opt;
  opt.ensure_ascii = a.get_or(0, Value(false)).truthy();
  if (const Value* indent = a.get(1); indent && !indent->is_none()) {
    if (indent->is_string()) opt.indent = indent->str();
    else if (indent->is_int()) opt.indent = std::string(size_t(std::clamp<int64_t>(indent->as_int(), 0, 1 << 10)), ' ');
    else runtime_error("tojson indent must be an int or a string");
  }
  if (const Value* sep = a.get(2); sep && !sep->is_none()) {
    if (!sep->is_sequence() || sep->items().size() != 2 || !sep->items()[0].is_string() || !sep->items()[1].is_string())
      runtime_error("tojson separators must be a pair of strings");
    opt.separators = std::make_pair(sep->items()[0].str(), sep->items()[1].str());
  }
  opt.sort_keys = a.get_or(3, Value(false)).truthy();
  return opt;
}

using FilterFn = Value (*)(Interpreter&, const Value&, CallArgs&);

struct FilterEntry {
  const char* name;
  FilterFn fn;
};

#define FILTER(...) [](Interpreter & in, const Value& v, CallArgs& args) -> Value { __VA_ARGS__ }

const FilterEntry kFilters[] = {
    {"abs", FILTER({
       ArgReader a("abs", args, {});
       if (!v.is_number()) runtime_error("bad operand type for abs(): '" + v.type_name() + "'");
       if (v.is_float()) return Value(std::fabs(v.as_float()));
       if (v.as_int() == INT64_MIN) runtime_error("integer overflow");
       return Value(std::abs(v.as_int()));
     })},
    {"attr", FILTER({
       ArgReader a("attr", args, {"name"});
       const std::string name = a.required(0).to_str();
       if (v.is_object())
         if (const Value* x = v.object().find(name)) return *x;
       if (auto m = method_of(v, name)) return *m;
       return Value::undefined(cat("'", v.type_name(), " object' has no attribute '", name, "'"));
     })},
    {"capitalize", FILTER({ ArgReader a("capitalize", args, {}); return like(v, py::capitalize(text_of(v))); })},
    {"center", FILTER({
       ArgReader a("center", args, {"width"});
       CallArgs c;
       c.positional.push_back(a.get_or(0, Value(int64_t(80))));
       return in.call(*method_of(v.is_string() ? v : Value(text_of(v)), "center"), c);
     })},
    {"count", FILTER({ ArgReader a("count", args, {}); return Value(int64_t(v.length())); })},
    {"d", FILTER({ return in.apply_filter("default", v, args); })},
    {"default", FILTER({
       ArgReader a("default", args, {"default_value", "boolean"});
       const bool boolean = a.get_or(1, Value(false)).truthy();
       if (v.is_undefined() || (boolean && !v.truthy())) return a.get_or(0, Value(""));
       return v;
     })},
    {"dictsort", FILTER({
       ArgReader a("dictsort", args, {"case_sensitive", "by", "reverse"});
       if (!v.is_dict()) runtime_error("dictsort requires a mapping");
       const bool cs = a.get_or(0, Value(false)).truthy();
       const std::string by = a.get_or(1, Value("key")).to_str();
       if (by != "key" && by != "value") runtime_error("You can only sort by either 'key' or 'value'");
       const bool reverse = a.get_or(2, Value(false)).truthy();
       std::vector<std::pair<Value, Value>> entries = v.dict().entries;
       auto key = [&](const std::pair<Value, Value>& e) { return sort_key(in, by == "key" ? e.first : e.second, nullptr, cs); };
       std::stable_sort(entries.begin(), entries.end(),
                        [&](const auto& x, const auto& y) { return reverse ? less(key(y), key(x)) : less(key(x), key(y)); });
       ValueList out;
       for (auto& [k, val] : entries) out.push_back(Value::tuple({k, val}));
       return Value::list(std::move(out));
     })},
    {"e", FILTER({ return in.apply_filter("escape", v, args); })},
    {"escape", FILTER({ ArgReader a("escape", args, {}); return Value::markup(escape_markup(v)); })},
    {"first", FILTER({
       ArgReader a("first", args, {});
       ValueList items = iterate(v);
       return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
     })},
    {"float", FILTER({
       ArgReader a("float", args, {"default"});
       if (v.is_number()) return Value(v.as_float());
       if (v.is_string())
         if (auto f = py::parse_float(v.str())) return Value(*f);
       return a.get_or(0, Value(0.0));
     })},
    {"format", FILTER({
       if (!args.positional.empty() && !args.keyword.empty())
         runtime_error("can't handle positional and keyword arguments at the same time");
       if (!args.keyword.empty()) {
         Dict d;
         for (auto& [k, x] : args.keyword) d.set(Value(k), x);
         return like(v, percent_format(in, text_of(v), Value::dict(std::move(d)), v.is_markup()));
       }
       return like(v, percent_format(in, text_of(v), Value::tuple(args.positional), v.is_markup()));
     })},
    {"indent", FILTER({
       ArgReader a("indent", args, {"width", "first", "blank"});
       const Value width = a.get_or(0, Value(int64_t(4)));
       if (!width.is_string() && !width.is_int() && !width.is_bool()) runtime_error("indent width must be an int or a string");
       std::string out = do_indent(text_of(v), width, a.get_or(1, Value(false)).truthy(), a.get_or(2, Value(false)).truthy());
       in.check_size(out.size());
       return like(v, std::move(out));
     })},
    {"int", FILTER({
       ArgReader a("int", args, {"default", "base"});
       const int64_t base = a.get(1) ? a.int_arg(1) : 10;
       if (base < 2 || base > 36) runtime_error("int() base must be >= 2 and <= 36");
       auto from_float = [](double f) -> Value {
         if (!std::isfinite(f)) runtime_error("cannot convert float infinity or NaN to integer");
         if (std::fabs(f) >= 9.2e18) runtime_error("integer overflow (values beyond 64 bits are not supported)");
         return Value(int64_t(f));
       };
       if (v.is_float()) return from_float(v.as_float());
       if (v.is_number()) return Value(v.as_int());
       if (v.is_string()) {
         if (auto i = py::parse_int(v.str(), int(base))) return Value(*i);
         if (auto f = py::parse_float(v.str())) return from_float(*f);
       }
       return a.get_or(0, Value(int64_t(0)));
     })},
    {"items", FILTER({
       ArgReader a("items", args, {});
       if (v.is_undefined()) return Value::iterator({});
       if (!v.is_dict()) runtime_error("Can only get item pairs from a mapping.");
       ValueList out;
       for (const auto& [k, x] : v.dict().entries) out.push_back(Value::tuple({k, x}));
       return Value::iterator(std::move(out));
     })},
    {"join", FILTER({
       ArgReader a("join", args, {"d", "attribute"});
       const std::string sep = a.get_or(0, Value("")).to_str();
       const Value attribute = a.get_or(1, Value::none());
       std::string out;
       bool first = true;
       for (const Value& item : iterate(v)) {
         if (!first) out += sep;
         out += (attribute.is_none() ? item : lookup_path(in, item, attribute.to_str())).to_str();
         first = false;
         in.check_size(out.size());
       }
       return Value(std::move(out));
     })},
    {"last", FILTER({
       ArgReader a("last", args, {});
       if (v.is_iterator()) runtime_error("'generator' object is not reversible");
       ValueList items = iterate(v);
       return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
     })},
    {"length", FILTER({ ArgReader a("length", args, {}); return Value(int64_t(v.length())); })},
    {"list", FILTER({ ArgReader a("list", args, {}); return Value::list(iterate(v)); })},
    {"lower", FILTER({ ArgReader a("lower", args, {}); return like(v, py::lower(text_of(v))); })},
    {"map", FILTER({ return do_map(in, v, args); })},
    {"max", FILTER({ return aggregate(in, v, args, true); })},
    {"min", FILTER({ return aggregate(in, v, args, false); })},
    {"reject", FILTER({ return select_items(in, v, args, false, false); })},
    {"rejectattr", FILTER({ return select_items(in, v, args, true, false); })},
    {"replace", FILTER({
       ArgReader a("replace", args, {"old", "new", "count"});
       const int64_t count = a.get(2) && !a.get(2)->is_none() ? a.int_arg(2) : -1;
       std::string out = py::replace(text_of(v), a.required(0).to_str(), a.required(1).to_str(), count);
       in.check_size(out.size());
       return Value(std::move(out));
     })},
    {"reverse", FILTER({
       ArgReader a("reverse", args, {});
       if (v.is_string()) {
         ValueList chars = iterate(v);
         std::string out;
         for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += it->str();
         return Value(std::move(out));
       }
       // reversed() gives an iterator; a generator is not reversible, so jinja2 makes a list of it.
       ValueList items = iterate(v);
       std::reverse(items.begin(), items.end());
       return v.is_iterator() ? Value::list(std::move(items)) : Value::iterator(std::move(items));
     })},
    {"round", FILTER({
       ArgReader a("round", args, {"precision", "method"});
       return python_round(v, a.get(0) ? a.int_arg(0) : 0, a.get_or(1, Value("common")).to_str());
     })},
    {"safe", FILTER({ ArgReader a("safe", args, {}); return v.is_markup() ? v : Value::markup(text_of(v)); })},
    {"select", FILTER({ return select_items(in, v, args, false, true); })},
    {"selectattr", FILTER({ return select_items(in, v, args, true, true); })},
    {"sort", FILTER({
       ArgReader a("sort", args, {"reverse", "case_sensitive", "attribute"});
       const bool reverse = a.get_or(0, Value(false)).truthy(), cs = a.get_or(1, Value(false)).truthy();
       const Value attribute = a.get_or(2, Value::none());
       ValueList items = iterate(v);
       std::vector<std::pair<Value, size_t>> keyed;
       for (size_t i = 0; i < items.size(); ++i) keyed.emplace_back(sort_key(in, items[i], &attribute, cs), i);
       std::stable_sort(keyed.begin(), keyed.end(),
                        [&](const auto& x, const auto& y) { return reverse ? less(y.first, x.first) : less(x.first, y.first); });
       ValueList out;
       for (auto& [k, i] : keyed) out.push_back(items[i]);
       return Value::list(std::move(out));
     })},
    {"string", FILTER({ ArgReader a("string", args, {}); return v.is_string() ? v : Value(text_of(v)); })},
    {"sum", FILTER({
       ArgReader a("sum", args, {"attribute", "start"});
       const Value attribute = a.get_or(0, Value::none());
       Value total = a.get_or(1, Value(int64_t(0)));
       for (const Value& item : iterate(v)) {
         Value x = attribute.is_none() ? item : lookup_path(in, item, attribute.to_str());
         if (!x.is_number() || !total.is_number())
           runtime_error("unsupported operand type(s) for +: '" + total.type_name() + "' and '" + x.type_name() + "'");
         if (total.is_float() || x.is_float()) {
           total = Value(total.as_float() + x.as_float());
         } else {
           int64_t r;
           if (__builtin_add_overflow(total.as_int(), x.as_int(), &r)) runtime_error("integer overflow");
           total = Value(r);
         }
       }
       return total;
     })},
    {"title", FILTER({ ArgReader a("title", args, {}); return like(v, title_words(text_of(v))); })},
    {"tojson", FILTER({
       ArgReader a("tojson", args, {"ensure_ascii", "indent", "separators", "sort_keys"});
       std::string out = dump_json(v, tojson_options(a));
       in.check_size(out.size());
       return Value(std::move(out));
     })},
    {"trim", FILTER({
       ArgReader a("trim", args, {"chars"});
       const Value* chars = a.get(0);
       return like(v, py::strip(text_of(v), chars && !chars->is_none() ? std::optional(chars->to_str()) : std::nullopt, true, true));
     })},
    {"unique", FILTER({
       ArgReader a("unique", args, {"case_sensitive", "attribute"});
       const bool cs = a.get_or(0, Value(false)).truthy();
       const Value attribute = a.get_or(1, Value::none());
       ValueList out, seen;
       for (const Value& item : iterate(v)) {
         in.count_step();
         Value key = sort_key(in, item, &attribute, cs);
         if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return equal(s, key); })) continue;
         seen.push_back(std::move(key));
         out.push_back(item);
       }
       return Value::iterator(std::move(out));
     })},
    {"upper", FILTER({ ArgReader a("upper", args, {}); return like(v, py::upper(text_of(v))); })},
    {"wordcount", FILTER({
       ArgReader a("wordcount", args, {});
       const std::string s = text_of(v);
       int64_t words = 0;
       bool in_word = false;
       for (size_t i = 0; i < s.size();) {
         const char32_t c = py::next_code_point(s, i);
         const bool word_char = c == '_' || (c < 0x80 ? std::isalnum(int(c)) != 0 : !py::is_space(c) && py::is_printable(c));
         if (word_char && !in_word) ++words;
         in_word = word_char;
       }
       return Value(words);
     })},
};

#undef FILTER

// Filters jinja2 ships that this engine leaves out; naming one is a clear error, not "unknown".
const char* const kUnsupportedFilters[] = {"batch",   "filesizeformat", "forceescape", "groupby", "pprint",
                                           "random",  "slice",          "striptags",   "truncate", "urlencode",
                                           "urlize",  "wordwrap",       "xmlattr"};

bool is_sequence_like(const Value& v) {  // jinja2's test_sequence: len() and __getitem__
  return v.is_string() || v.is_sequence() || v.is_dict() || v.is_undefined();
}

bool same_object(const Value& a, const Value& b) {  // Python `is`
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Value::Type::None:
    case Value::Type::Undefined: return true;
    case Value::Type::Bool: return a.as_bool() == b.as_bool();
    case Value::Type::Int: return a.as_int() == b.as_int() && a.as_int() >= -5 && a.as_int() <= 256;  // CPython's small ints
    case Value::Type::Float: return false;
    default: return a.identity() == b.identity();
  }
}

}  // namespace

std::string escape_markup(const Value& v) { return v.is_markup() ? v.str() : html_escape(v.to_str()); }

Value like(const Value& self, std::string s) { return self.is_markup() ? Value::markup(std::move(s)) : Value(std::move(s)); }

Value call_filter(Interpreter& in, const std::string& name, const Value& value, CallArgs& args) {
  for (const auto& f : kFilters)
    if (name == f.name) return f.fn(in, value, args);
  runtime_error("no filter named '" + name + "'");
}

bool is_filter_name(std::string_view name) {
  for (const auto& f : kFilters)
    if (name == f.name) return true;
  return false;
}

bool is_unsupported_filter(std::string_view name) {
  for (const char* f : kUnsupportedFilters)
    if (name == f) return true;
  return false;
}

namespace {
const char* const kTests[] = {"boolean", "callable", "defined", "divisibleby", "eq", "equalto", "==", "escaped",
                              "even", "false", "filter", "float", "ge", ">=", "gt", "greaterthan", ">", "in",
                              "integer", "iterable", "le", "<=", "lower", "lt", "lessthan", "<", "mapping",
                              "ne", "!=", "none", "number", "odd", "sameas", "sequence", "string", "test",
                              "true", "undefined", "upper"};
}

bool is_test_name(std::string_view name) {
  for (const char* t : kTests)
    if (name == t) return true;
  return false;
}

bool call_test(Interpreter& in, const std::string& name, const Value& v, CallArgs& args) {
  auto one_arg = [&](const char* test) -> Value {
    ArgReader a(test, args, {"other"});
    return a.required(0);
  };
  auto no_args = [&]() { ArgReader a(name, args, {}); };
  auto number_mod = [&](const Value& x, const Value& m) {
    if (x.is_undefined()) runtime_error(x.undefined_hint());
    if (!x.is_number() || !m.is_number()) runtime_error("unsupported operand type(s) for %");
    if (x.is_float() || m.is_float()) {
      if (m.as_float() == 0) runtime_error("float modulo");
      double r = std::fmod(x.as_float(), m.as_float());
      if (r != 0 && ((r < 0) != (m.as_float() < 0))) r += m.as_float();
      return r;
    }
    if (m.as_int() == 0) runtime_error("integer division or modulo by zero");
    if (m.as_int() == -1) return 0.0;
    int64_t r = x.as_int() % m.as_int();
    if (r != 0 && ((r < 0) != (m.as_int() < 0))) r += m.as_int();
    return double(r);
  };
  if (name == "defined") return no_args(), !v.is_undefined();
  if (name == "undefined") return no_args(), v.is_undefined();
  if (name == "none") return no_args(), v.is_none();
  if (name == "boolean") return no_args(), v.is_bool();
  if (name == "true") return no_args(), v.is_bool() && v.as_bool();
  if (name == "false") return no_args(), v.is_bool() && !v.as_bool();
  if (name == "string") return no_args(), v.is_string();
  if (name == "mapping") return no_args(), v.is_dict();
  if (name == "number") return no_args(), v.is_number();
  if (name == "integer") return no_args(), v.is_int();
  if (name == "float") return no_args(), v.is_float();
  if (name == "sequence") return no_args(), is_sequence_like(v);
  if (name == "iterable")
    return no_args(), v.is_string() || v.is_sequence() || v.is_iterator() || v.is_dict() || v.is_undefined() ||
                          (v.is_object() && v.object().kind == Object::Kind::Loop);
  if (name == "callable")
    return no_args(), v.is_function() || v.is_undefined() || (v.is_object() && v.object().kind == Object::Kind::Loop);
  if (name == "escaped") return no_args(), false;
  if (name == "lower") return no_args(), py::is_lower(text_of(v));
  if (name == "upper") return no_args(), py::is_upper(text_of(v));
  if (name == "even") return no_args(), number_mod(v, Value(int64_t(2))) == 0;
  if (name == "odd") return no_args(), number_mod(v, Value(int64_t(2))) == 1;
  if (name == "divisibleby") {
    ArgReader a("divisibleby", args, {"num"});
    const Value num = a.required(0);
    return number_mod(v, num) == 0;
  }
  if (name == "filter" || name == "test") {
    no_args();
    if (!v.is_string()) return false;
    return name == "filter" ? is_filter_name(v.str()) || is_unsupported_filter(v.str()) : is_test_name(v.str());
  }
  if (name == "sameas") return same_object(v, one_arg("sameas"));
  if (name == "in") {
    ArgReader a("in", args, {"seq"});
    const Value seq = a.required(0);
    if (seq.is_string() && !v.is_string())
      runtime_error("'in <string>' requires string as left operand, not " + v.type_name());
    if (seq.is_string()) return seq.str().find(v.str()) != std::string::npos;
    if (seq.is_dict()) return seq.dict().find(v) != nullptr;
    for (const Value& x : iterate(seq))
      if (equal(x, v)) return true;
    return false;
  }
  Value other;
  auto cmp_arg = [&]() -> const Value& {
    other = one_arg(name.c_str());
    if (v.is_undefined()) runtime_error(v.undefined_hint());
    if (other.is_undefined()) runtime_error(other.undefined_hint());
    return other;
  };
  if (name == "eq" || name == "equalto" || name == "==") return equal(v, one_arg(name.c_str()));
  if (name == "ne" || name == "!=") return !equal(v, one_arg(name.c_str()));
  if (name == "lt" || name == "lessthan" || name == "<") return less(v, cmp_arg());
  if (name == "le" || name == "<=") return less(v, cmp_arg()) || equal(v, other);
  if (name == "gt" || name == "greaterthan" || name == ">") return less(cmp_arg(), v);
  if (name == "ge" || name == ">=") return less(cmp_arg(), v) || equal(v, other);
  (void)in;
  runtime_error("no test named '" + name + "'");
}

}  // namespace a3b::jinja
