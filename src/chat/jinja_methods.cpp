// Methods of values (str.split, dict.get, ...), string formatting and the global functions.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>

#include "chat/jinja_interp.h"
#include "chat/pystr.h"
#include "core/error.h"

namespace a3b::jinja {

ArgReader::ArgReader(std::string_view function, CallArgs& args, std::initializer_list<const char*> params)
    : function_(function), params_(params), bound_(params.size()) {
  if (args.positional.size() > params_.size())
    runtime_error(cat(function_, "() takes at most ", params_.size(), " argument(s) (", args.positional.size(), " given)"));
  for (size_t i = 0; i < args.positional.size(); ++i) bound_[i] = args.positional[i];
  for (auto& [name, value] : args.keyword) {
    auto it = std::find_if(params_.begin(), params_.end(), [&key = name](const char* p) { return key == p; });
    if (it == params_.end()) runtime_error(cat(function_, "() got an unexpected keyword argument '", name, "'"));
    auto& slot = bound_[size_t(it - params_.begin())];
    if (slot) runtime_error(cat(function_, "() got multiple values for argument '", name, "'"));
    slot = value;
  }
}

const Value& ArgReader::required(size_t i) const {
  if (!get(i)) runtime_error(cat(function_, "() missing required argument '", params_[i], "'"));
  return *get(i);
}

std::string ArgReader::string_arg(size_t i) const {
  const Value& v = required(i);
  if (!v.is_string()) runtime_error(cat(function_, "() argument '", params_[i], "' must be str, not ", v.type_name()));
  return v.str();
}

int64_t ArgReader::int_arg(size_t i) const {
  const Value& v = required(i);
  if (!v.is_int() && !v.is_bool())
    runtime_error(cat(function_, "() argument '", params_[i], "' must be int, not ", v.type_name()));
  return v.as_int();
}

ValueList iterate(const Value& v) {
  switch (v.type()) {
    case Value::Type::List:
    case Value::Type::Tuple:
    case Value::Type::Iterator: return v.items();
    case Value::Type::Dict: {
      ValueList keys;
      for (const auto& [k, val] : v.dict().entries) keys.push_back(k);
      return keys;
    }
    case Value::Type::String: {
      ValueList chars;
      const std::string& s = v.str();
      for (size_t i = 0; i < s.size();) {
        size_t start = i;
        py::next_code_point(s, i);
        chars.push_back(Value(s.substr(start, i - start)));
      }
      return chars;
    }
    case Value::Type::Undefined: return {};
    default: runtime_error("'" + v.type_name() + "' object is not iterable");
  }
}

std::string text_of(const Value& v) { return v.to_str(); }

// ---- formatting ----

std::string percent_format(Interpreter& in, const std::string& fmt, const Value& args, bool escape_args) {
  const ValueList positional = args.is_tuple() ? args.items() : ValueList{args};
  size_t next = 0;
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (++i >= fmt.size()) runtime_error("incomplete format");
    const Value* arg = nullptr;
    if (fmt[i] == '(') {
      const size_t close = fmt.find(')', i);
      if (close == std::string::npos) runtime_error("incomplete format key");
      if (!args.is_dict()) runtime_error("format requires a mapping");
      arg = args.dict().find(std::string_view(fmt).substr(i + 1, close - i - 1));
      if (!arg) runtime_error("format key " + fmt.substr(i + 1, close - i - 1) + " not found");
      i = close + 1;
    }
    std::string flags;
    while (i < fmt.size() && std::string_view("-+ #0").find(fmt[i]) != std::string_view::npos) flags += fmt[i++];
    auto read_number = [&]() {
      size_t n = 0;
      while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') n = std::min<size_t>(n * 10 + size_t(fmt[i++] - '0'), 1 << 20);
      return n;
    };
    const size_t width = read_number();
    std::optional<size_t> precision;
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      precision = read_number();
    }
    if (i >= fmt.size()) runtime_error("incomplete format");
    const char type = fmt[i];
    if (type == '%') {
      out += '%';
      continue;
    }
    if (!arg) {
      if (next >= positional.size()) runtime_error("not enough arguments for format string");
      arg = &positional[next++];
    }
    in.check_size(out.size() + width);
    const std::string spec = "%" + flags + (width ? std::to_string(width) : "") +
                             (precision ? cat(".", std::min<size_t>(*precision, 100)) : "");
    auto printf_into = [&out](const std::string& f, auto value) {
      const int n = std::snprintf(nullptr, 0, f.c_str(), value);
      std::string buf(size_t(std::max(n, 0)) + 1, '\0');
      std::snprintf(buf.data(), buf.size(), f.c_str(), value);
      buf.resize(size_t(std::max(n, 0)));
      out += buf;
    };
    switch (type) {
      case 's':
      case 'r': {
        std::string body = type == 's' ? arg->to_str() : arg->repr();
        if (escape_args && !(type == 's' && arg->is_markup())) body = escape_markup(Value(body));
        if (precision) {
          const std::vector<size_t> at = py::code_point_offsets(body);
          if (*precision + 1 < at.size()) body.resize(at[*precision]);
        }
        const size_t len = py::code_point_count(body);
        const std::string pad = width > len ? std::string(width - len, ' ') : "";
        out += flags.find('-') != std::string::npos ? body + pad : pad + body;
        in.check_size(out.size());
        continue;
      }
      case 'd':
      case 'i':
      case 'x':
      case 'X':
      case 'o':
      case 'c':
        if (!arg->is_number()) runtime_error(cat("%", type, " format: a number is required, not ", arg->type_name()));
        if (arg->is_float() && !(std::fabs(arg->as_float()) < 9.2e18)) runtime_error("float too large to format as an integer");
        if (type == 'c') {
          if (arg->as_int() < 0 || arg->as_int() > 0x10FFFF) runtime_error("%c arg not in range(0x110000)");
          py::append_utf8(out, char32_t(arg->as_int()));
          continue;
        }
        printf_into(spec + "ll" + (type == 'i' ? 'd' : type),
                    static_cast<long long>(arg->is_float() ? int64_t(arg->as_float()) : arg->as_int()));
        continue;
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G':
        if (!arg->is_number()) runtime_error(cat("must be real number, not ", arg->type_name()));
        printf_into(spec + type, arg->as_float());
        continue;
      default: runtime_error(cat("unsupported format character '", type, "'"));
    }
  }
  if (next < positional.size() && !args.is_dict()) runtime_error("not all arguments converted during string formatting");
  return out;
}

std::string brace_format(Interpreter& in, const std::string& fmt, const CallArgs& args, bool escape_args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    const char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') ++i;
      else runtime_error("Single '}' encountered in format string");
      out += '}';
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    const size_t close = fmt.find('}', i);
    if (close == std::string::npos) runtime_error("Single '{' encountered in format string");
    std::string field = fmt.substr(i + 1, close - i - 1);
    i = close;
    char conversion = 's';
    if (size_t bang = field.find('!'); bang != std::string::npos) {
      if (bang + 2 != field.size() || (field[bang + 1] != 'r' && field[bang + 1] != 's'))
        runtime_error("unsupported conversion in format string");
      conversion = field[bang + 1];
      field.resize(bang);
    }
    if (field.find(':') != std::string::npos || field.find('.') != std::string::npos || field.find('[') != std::string::npos)
      runtime_error("format specs and field access in str.format are not supported");
    const Value* arg = nullptr;
    if (field.empty() || std::all_of(field.begin(), field.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
      const size_t index = field.empty() ? auto_index++ : size_t(std::stoul(field));
      if (index >= args.positional.size()) runtime_error(cat("Replacement index ", index, " out of range"));
      arg = &args.positional[index];
    } else {
      for (const auto& [k, v] : args.keyword)
        if (k == field) arg = &v;
      if (!arg) runtime_error("KeyError: '" + field + "'");
    }
    if (escape_args) out += conversion == 'r' ? escape_markup(Value(arg->repr())) : escape_markup(*arg);
    else out += conversion == 'r' ? arg->repr() : arg->to_str();
    in.check_size(out.size());
  }
  return out;
}

// ---- methods ----

namespace {

using Method = std::function<Value(const Value& self, CallArgs&, Interpreter&)>;

Value bind(const Value& self, const std::string& name, Method m) {
  return Value::function(name, [self, m = std::move(m)](CallArgs& args, Interpreter& in) { return m(self, args, in); });
}

// Split results: Markup pieces when splitting Markup.
Value string_list(const Value& self, std::vector<std::string> parts) {
  ValueList out;
  out.reserve(parts.size());
  for (auto& p : parts) out.push_back(like(self, std::move(p)));
  return Value::list(std::move(out));
}

std::optional<std::string> optional_string(const ArgReader& a, size_t i) {
  const Value* v = a.get(i);
  if (!v || v->is_none()) return std::nullopt;
  return a.string_arg(i);
}

// Byte offset -> code point index, for find/index results.
int64_t code_point_index(const std::string& s, size_t byte) { return int64_t(py::code_point_count(std::string_view(s).substr(0, byte))); }

std::optional<Value> string_method(const Value& self, const std::string& name) {
  auto strip = [name](bool left, bool right) -> Method {
    return [name, left, right](const Value& s, CallArgs& args, Interpreter&) {
      ArgReader a(name, args, {"chars"});
      return like(s, py::strip(s.str(), optional_string(a, 0), left, right));
    };
  };
  auto transform = [name](std::string (*f)(std::string_view)) -> Method {
    return [name, f](const Value& s, CallArgs& args, Interpreter&) {
      ArgReader a(name, args, {});
      return like(s, f(s.str()));
    };
  };
  auto predicate = [name](bool (*f)(char32_t)) -> Method {
    return [name, f](const Value& s, CallArgs& args, Interpreter&) {
      ArgReader a(name, args, {});
      const std::string& t = s.str();
      if (t.empty()) return Value(false);
      for (size_t i = 0; i < t.size();)
        if (!f(py::next_code_point(t, i))) return Value(false);
      return Value(true);
    };
  };
  auto affix = [name](bool at_start) -> Method {
    return [name, at_start](const Value& s, CallArgs& args, Interpreter&) {
      ArgReader a(name, args, {"prefix"});
      const Value& p = a.required(0);
      ValueList options = p.is_tuple() ? p.items() : ValueList{p};
      for (const Value& o : options) {
        if (!o.is_string()) runtime_error(name + " first arg must be str or a tuple of str, not " + o.type_name());
        const std::string& t = s.str();
        const std::string& x = o.str();
        if (x.size() <= t.size() && (at_start ? t.compare(0, x.size(), x) == 0 : t.compare(t.size() - x.size(), x.size(), x) == 0))
          return Value(true);
      }
      return Value(false);
    };
  };
  auto find = [name](bool reverse, bool must) -> Method {
    return [name, reverse, must](const Value& s, CallArgs& args, Interpreter&) {
      ArgReader a(name, args, {"sub"});
      const std::string sub = a.string_arg(0);
      const size_t at = reverse ? s.str().rfind(sub) : s.str().find(sub);
      if (at == std::string::npos) {
        if (must) runtime_error("substring not found");
        return Value(int64_t(-1));
      }
      return Value(code_point_index(s.str(), at));
    };
  };
  auto splitter = [name](bool reverse) -> Method {
    return [name, reverse](const Value& s, CallArgs& args, Interpreter&) {
      ArgReader a(name, args, {"sep", "maxsplit"});
      const auto sep = optional_string(a, 0);
      if (sep && sep->empty()) runtime_error("empty separator");
      const int64_t maxsplit = a.get(1) ? a.int_arg(1) : -1;
      return string_list(s, reverse ? py::rsplit(s.str(), sep, maxsplit) : py::split(s.str(), sep, maxsplit));
    };
  };
  auto pad = [name](int align) -> Method {  // -1 ljust, 0 center, 1 rjust
    return [name, align](const Value& s, CallArgs& args, Interpreter& in) {
      ArgReader a(name, args, {"width", "fillchar"});
      const int64_t width = a.int_arg(0);
      const std::string fill = a.get(1) ? a.string_arg(1) : " ";
      if (py::code_point_count(fill) != 1) runtime_error("The fill character must be exactly one character long");
      const int64_t len = int64_t(py::code_point_count(s.str()));
      if (width <= len) return s;
      in.check_size(size_t(width) * fill.size());
      const int64_t total = width - len;
      int64_t left = align < 0 ? 0 : align > 0 ? total : total / 2 + (total & width & 1);
      std::string out;
      for (int64_t i = 0; i < left; ++i) out += fill;
      out += s.str();
      for (int64_t i = left; i < total; ++i) out += fill;
      return like(s, std::move(out));
    };
  };

  Method m;
  if (name == "strip") m = strip(true, true);
  else if (name == "lstrip") m = strip(true, false);
  else if (name == "rstrip") m = strip(false, true);
  else if (name == "lower") m = transform(py::lower);
  else if (name == "upper") m = transform(py::upper);
  else if (name == "title") m = transform(py::title);
  else if (name == "capitalize") m = transform(py::capitalize);
  else if (name == "isspace") m = predicate(py::is_space);
  else if (name == "isdigit" || name == "isdecimal" || name == "isnumeric")
    m = predicate([](char32_t c) { return c >= '0' && c <= '9'; });
  else if (name == "isalpha")
    m = predicate([](char32_t c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; });
  else if (name == "isalnum")
    m = predicate([](char32_t c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'); });
  else if (name == "islower" || name == "isupper")
    m = [name](const Value& s, CallArgs& args, Interpreter&) {
      ArgReader a(name, args, {});
      return Value(name == "islower" ? py::is_lower(s.str()) : py::is_upper(s.str()));
    };
  else if (name == "startswith") m = affix(true);
  else if (name == "endswith") m = affix(false);
  else if (name == "find") m = find(false, false);
  else if (name == "rfind") m = find(true, false);
  else if (name == "index") m = find(false, true);
  else if (name == "rindex") m = find(true, true);
  else if (name == "split") m = splitter(false);
  else if (name == "rsplit") m = splitter(true);
  else if (name == "ljust") m = pad(-1);
  else if (name == "center") m = pad(0);
  else if (name == "rjust") m = pad(1);
  else if (name == "splitlines")
    m = [name](const Value& s, CallArgs& args, Interpreter&) {
      ArgReader a(name, args, {"keepends"});
      return string_list(s, py::splitlines(s.str(), a.get_or(0, Value(false)).truthy()));
    };
  else if (name == "replace")
    m = [name](const Value& s, CallArgs& args, Interpreter& in) {
      ArgReader a(name, args, {"old", "new", "count"});
      auto arg = [&](size_t i) { return s.is_markup() ? escape_markup(Value(a.string_arg(i))) : a.string_arg(i); };
      std::string out = py::replace(s.str(), arg(0), arg(1), a.get(2) ? a.int_arg(2) : -1);
      in.check_size(out.size());
      return like(s, std::move(out));
    };
  else if (name == "count")
    m = [name](const Value& s, CallArgs& args, Interpreter&) {
      ArgReader a(name, args, {"sub"});
      const std::string sub = a.string_arg(0);
      if (sub.empty()) return Value(int64_t(py::code_point_count(s.str()) + 1));
      int64_t n = 0;
      for (size_t at = s.str().find(sub); at != std::string::npos; at = s.str().find(sub, at + sub.size())) ++n;
      return Value(n);
    };
  else if (name == "join")
    m = [name](const Value& s, CallArgs& args, Interpreter& in) {
      ArgReader a(name, args, {"iterable"});
      std::string out;
      bool first = true;
      for (const Value& v : iterate(a.required(0))) {
        if (!v.is_string() && !s.is_markup())
          runtime_error("sequence item: expected str instance, " + v.type_name() + " found");
        if (!first) out += s.str();
        out += s.is_markup() ? escape_markup(v) : v.str();
        first = false;
        in.check_size(out.size());
      }
      return like(s, std::move(out));
    };
  else if (name == "format")
    m = [](const Value& s, CallArgs& args, Interpreter& in) { return like(s, brace_format(in, s.str(), args, s.is_markup())); };
  else if (name == "removeprefix" || name == "removesuffix")
    m = [name](const Value& s, CallArgs& args, Interpreter&) {
      ArgReader a(name, args, {"affix"});
      const std::string x = a.string_arg(0), t = s.str();
      if (name == "removeprefix") return like(s, t.rfind(x, 0) == 0 ? t.substr(x.size()) : t);
      return like(s, t.size() >= x.size() && t.compare(t.size() - x.size(), x.size(), x) == 0 ? t.substr(0, t.size() - x.size()) : t);
    };
  else if (name == "partition" || name == "rpartition")
    m = [name](const Value& s, CallArgs& args, Interpreter&) {
      ArgReader a(name, args, {"sep"});
      const std::string sep = a.string_arg(0), t = s.str();
      if (sep.empty()) runtime_error("empty separator");
      const size_t at = name == "partition" ? t.find(sep) : t.rfind(sep);
      if (at == std::string::npos)
        return name == "partition" ? Value::tuple({Value(t), Value(""), Value("")}) : Value::tuple({Value(""), Value(""), Value(t)});
      return Value::tuple({Value(t.substr(0, at)), Value(sep), Value(t.substr(at + sep.size()))});
    };
  if (!m) return std::nullopt;
  return bind(self, name, std::move(m));
}

std::optional<Value> dict_method(const Value& self, const std::string& name) {
  Method m;
  if (name == "get")
    m = [](const Value& d, CallArgs& args, Interpreter&) {
      ArgReader a("get", args, {"key", "default"});
      const Value* v = d.dict().find(a.required(0));
      return v ? *v : a.get_or(1, Value::none());
    };
  else if (name == "keys" || name == "values" || name == "items")
    m = [name](const Value& d, CallArgs& args, Interpreter&) {
      ArgReader a(name, args, {});
      ValueList out;
      for (const auto& [k, v] : d.dict().entries)
        out.push_back(name == "keys" ? k : name == "values" ? v : Value::tuple({k, v}));
      return Value::list(std::move(out));
    };
  else if (name == "copy")
    m = [](const Value& d, CallArgs& args, Interpreter&) {
      ArgReader a("copy", args, {});
      return Value::dict(d.dict());
    };
  else if (name == "pop" || name == "popitem" || name == "setdefault" || name == "update" || name == "clear")
    return Value::undefined("access to attribute '" + name + "' of 'dict' object is unsafe.");
  if (!m) return std::nullopt;
  return bind(self, name, std::move(m));
}

std::optional<Value> list_method(const Value& self, const std::string& name) {
  Method m;
  if (name == "count")
    m = [](const Value& l, CallArgs& args, Interpreter&) {
      ArgReader a("count", args, {"value"});
      int64_t n = 0;
      for (const Value& v : l.items()) n += equal(v, a.required(0));
      return Value(n);
    };
  else if (name == "index")
    m = [](const Value& l, CallArgs& args, Interpreter&) {
      ArgReader a("index", args, {"value"});
      for (size_t i = 0; i < l.items().size(); ++i)
        if (equal(l.items()[i], a.required(0))) return Value(int64_t(i));
      runtime_error(a.required(0).repr() + " is not in list");
    };
  else if (self.is_list() && (name == "append" || name == "extend" || name == "insert" || name == "pop" ||
                              name == "remove" || name == "reverse" || name == "sort" || name == "clear"))
    return Value::undefined("access to attribute '" + name + "' of 'list' object is unsafe.");
  if (!m) return std::nullopt;
  return bind(self, name, std::move(m));
}

}  // namespace

std::optional<Value> method_of(const Value& obj, const std::string& name) {
  switch (obj.type()) {
    case Value::Type::String: return string_method(obj, name);
    case Value::Type::Dict: return dict_method(obj, name);
    case Value::Type::List:
    case Value::Type::Tuple: return list_method(obj, name);
    default: return std::nullopt;
  }
}

// ---- globals ----

Dict builtin_globals() {
  Dict g;
  g.set(Value("range"), Value::function("range", [](CallArgs& args, Interpreter& in) {
          if (!args.keyword.empty()) runtime_error("range() takes no keyword arguments");
          if (args.positional.empty() || args.positional.size() > 3) runtime_error("range expected 1 to 3 arguments");
          for (const Value& v : args.positional)
            if (!v.is_int() && !v.is_bool()) runtime_error("'" + v.type_name() + "' object cannot be interpreted as an integer");
          int64_t start = 0, stop, step = 1;
          if (args.positional.size() == 1) {
            stop = args.positional[0].as_int();
          } else {
            start = args.positional[0].as_int();
            stop = args.positional[1].as_int();
            if (args.positional.size() == 3) step = args.positional[2].as_int();
          }
          if (step == 0) runtime_error("range() arg 3 must not be zero");
          const long double count = step > 0 ? (stop > start ? ((long double)stop - start + step - 1) / step : 0)
                                              : (stop < start ? ((long double)start - stop - step - 1) / -step : 0);
          if (count > 100000) runtime_error("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
          in.check_size(size_t(count) * 32);
          ValueList out;
          for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(Value(i));
          return Value::list(std::move(out));
        }));
  g.set(Value("dict"), Value::function("dict", [](CallArgs& args, Interpreter&) {
          Dict d;
          if (args.positional.size() > 1) runtime_error("dict expected at most 1 argument");
          if (!args.positional.empty()) {
            const Value& src = args.positional[0];
            if (src.is_dict()) {
              d = src.dict();
            } else {
              for (const Value& pair : iterate(src)) {
                ValueList kv = iterate(pair);
                if (kv.size() != 2) runtime_error("dictionary update sequence element has the wrong length");
                d.set(kv[0], kv[1]);
              }
            }
          }
          for (auto& [k, v] : args.keyword) d.set(Value(k), v);
          return Value::dict(std::move(d));
        }));
  g.set(Value("namespace"), Value::function("namespace", [](CallArgs& args, Interpreter& in) {
          auto ns = in.new_namespace();
          for (const Value& src : args.positional) {
            if (!src.is_dict()) runtime_error("namespace() positional arguments must be mappings");
            for (const auto& [k, v] : src.dict().entries) {
              if (!k.is_string()) runtime_error("namespace() keys must be strings");
              ns->attrs.emplace_back(k.str(), v);
            }
          }
          for (auto& [k, v] : args.keyword) {
            auto it = std::find_if(ns->attrs.begin(), ns->attrs.end(), [&key = k](const auto& a) { return a.first == key; });
            if (it != ns->attrs.end()) it->second = v;
            else ns->attrs.emplace_back(k, v);
          }
          return Value::object(ns);
        }));
  g.set(Value("raise_exception"), Value::function("raise_exception", [](CallArgs& args, Interpreter&) -> Value {
          ArgReader a("raise_exception", args, {"message"});
          throw TemplateRaise{a.required(0).to_str()};
        }));
  g.set(Value("strftime_now"), Value::function("strftime_now", [](CallArgs& args, Interpreter& in) {
          ArgReader a("strftime_now", args, {"format"});
          const std::string format = a.string_arg(0);
          const std::tm tm = in.now();
          std::string out(256 + format.size() * 16, '\0');
          const size_t n = format.empty() ? 0 : std::strftime(out.data(), out.size(), format.c_str(), &tm);
          out.resize(n);
          return Value(std::move(out));
        }));
  return g;
}

}  // namespace a3b::jinja
