#include "chat/jinja_value.h"

#include <algorithm>

#include "chat/pystr.h"

namespace a3b::jinja {

void runtime_error(std::string message) { throw RuntimeError{std::move(message)}; }

const Value* Object::find(std::string_view name) const {
  for (const auto& [k, v] : attrs)
    if (k == name) return &v;
  return nullptr;
}

Value Value::undefined(std::string hint) {
  return Value(Type::Undefined, std::make_shared<std::string>(std::move(hint)));
}
Value::Value(std::string s) : Value(Type::String, std::make_shared<std::string>(std::move(s))) {}
Value Value::markup(std::string s) {
  Value v(std::move(s));
  v.markup_ = true;
  return v;
}
Value Value::list(ValueList items) { return Value(Type::List, std::make_shared<ValueList>(std::move(items))); }
Value Value::tuple(ValueList items) { return Value(Type::Tuple, std::make_shared<ValueList>(std::move(items))); }
Value Value::iterator(ValueList items) { return Value(Type::Iterator, std::make_shared<ValueList>(std::move(items))); }
Value Value::dict(Dict d) { return Value(Type::Dict, std::make_shared<Dict>(std::move(d))); }
Value Value::object(std::shared_ptr<Object> o) { return Value(Type::Object, std::move(o)); }
Value Value::function(std::string name, std::function<Value(CallArgs&, Interpreter&)> call, bool is_macro) {
  return Value(Type::Function, std::make_shared<Function>(Function{std::move(name), std::move(call), is_macro}));
}

bool Value::is_namespace() const { return type_ == Type::Object && object().kind == Object::Kind::Namespace; }

const std::string& Value::undefined_hint() const {
  static const std::string generic = "value is undefined";
  return ptr_ ? str() : generic;
}

bool Value::truthy() const {
  switch (type_) {
    case Type::Undefined:
    case Type::None: return false;
    case Type::Bool: return b_;
    case Type::Int: return i_ != 0;
    case Type::Float: return f_ != 0.0;
    case Type::String: return !str().empty();
    case Type::List:
    case Type::Tuple: return !items().empty();
    case Type::Dict: return !dict().entries.empty();
    case Type::Object: return object().kind != Object::Kind::Loop || length() > 0;
    case Type::Iterator:
    case Type::Function: return true;
  }
  return false;
}

std::string Value::type_name() const {
  switch (type_) {
    case Type::Undefined: return "Undefined";
    case Type::None: return "NoneType";
    case Type::Bool: return "bool";
    case Type::Int: return "int";
    case Type::Float: return "float";
    case Type::String: return markup_ ? "Markup" : "str";
    case Type::List: return "list";
    case Type::Tuple: return "tuple";
    case Type::Iterator: return "generator";
    case Type::Dict: return "dict";
    case Type::Object: return object().kind == Object::Kind::Namespace ? "Namespace" : "LoopContext";
    case Type::Function: return "function";
  }
  return "?";
}

size_t Value::length() const {
  switch (type_) {
    case Type::Undefined: return 0;
    case Type::String: return py::code_point_count(str());
    case Type::List:
    case Type::Tuple: return items().size();
    case Type::Dict: return dict().entries.size();
    case Type::Object:
      if (const Value* n = object().find("length"); n && object().kind == Object::Kind::Loop) return size_t(n->as_int());
      [[fallthrough]];
    default: runtime_error("object of type '" + type_name() + "' has no len()");
  }
}

namespace {

// Printing follows CPython, including its guard against a namespace that contains itself.
struct Printer {
  std::vector<const Object*> open;
  int depth = 0;

  void print(std::string& out, const Value& v, bool as_repr) {
    if (++depth > kMaxDepth) runtime_error("value nested too deeply to print");
    switch (v.type()) {
      case Value::Type::Undefined: out += as_repr ? "Undefined" : ""; break;
      case Value::Type::None: out += "None"; break;
      case Value::Type::Bool: out += v.as_bool() ? "True" : "False"; break;
      case Value::Type::Int: out += std::to_string(v.as_int()); break;
      case Value::Type::Float: out += py::float_repr(v.as_float()); break;
      case Value::Type::String:
        if (!as_repr) out += v.str();
        else out += v.is_markup() ? "Markup(" + py::repr(v.str()) + ")" : py::repr(v.str());
        break;
      case Value::Type::List:
      case Value::Type::Tuple: {
        const bool tuple = v.is_tuple();
        out += tuple ? '(' : '[';
        const auto& items = v.items();
        for (size_t i = 0; i < items.size(); ++i) {
          if (i) out += ", ";
          print(out, items[i], true);
        }
        if (tuple && items.size() == 1) out += ',';
        out += tuple ? ')' : ']';
        break;
      }
      case Value::Type::Dict: print_entries(out, v.dict().entries); break;
      case Value::Type::Object: {
        const Object& o = v.object();
        if (o.kind == Object::Kind::Loop) {
          out += "<LoopContext " + o.find("index")->to_str() + "/" + o.find("length")->to_str() + ">";
          break;
        }
        out += "<Namespace ";
        if (std::find(open.begin(), open.end(), &o) != open.end()) {
          out += "{...}";
        } else {
          open.push_back(&o);
          std::vector<std::pair<Value, Value>> entries;
          for (const auto& [k, val] : o.attrs) entries.emplace_back(Value(k), val);
          print_entries(out, entries);
          open.pop_back();
        }
        out += '>';
        break;
      }
      case Value::Type::Iterator: out += "<generator object>"; break;
      case Value::Type::Function:
        out += v.function().is_macro ? "<Macro " + py::repr(v.function().name) + ">" : "<function " + v.function().name + ">";
        break;
    }
    --depth;
  }

  void print_entries(std::string& out, const std::vector<std::pair<Value, Value>>& entries) {
    out += '{';
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i) out += ", ";
      print(out, entries[i].first, true);
      out += ": ";
      print(out, entries[i].second, true);
    }
    out += '}';
  }
};

}  // namespace

std::string Value::to_str() const {
  if (type_ == Type::String) return str();
  std::string out;
  Printer().print(out, *this, false);
  return out;
}

std::string Value::repr() const {
  std::string out;
  Printer().print(out, *this, true);
  return out;
}

const Value* Dict::find(const Value& key) const {
  if (key.is_string()) return find(std::string_view(key.str()));
  for (const auto& [k, v] : entries)
    if (equal(k, key)) return &v;
  return nullptr;
}

const Value* Dict::find(std::string_view key) const {
  for (const auto& [k, v] : entries)
    if (k.is_string() && k.str() == key) return &v;
  return nullptr;
}

void Dict::set(Value key, Value value) {
  for (auto& [k, v] : entries)
    if (equal(k, key)) {
      v = std::move(value);
      return;
    }
  entries.emplace_back(std::move(key), std::move(value));
}

bool equal(const Value& a, const Value& b) {
  using T = Value::Type;
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_float() == b.as_float();
    return a.as_int() == b.as_int();
  }
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case T::Undefined:
    case T::None: return true;
    case T::String: return a.str() == b.str();
    case T::List:
    case T::Tuple: {
      const auto &x = a.items(), &y = b.items();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!equal(x[i], y[i])) return false;
      return true;
    }
    case T::Dict: {
      const auto &x = a.dict(), &y = b.dict();
      if (x.entries.size() != y.entries.size()) return false;
      for (const auto& [k, v] : x.entries) {
        const Value* other = y.find(k);
        if (!other || !equal(v, *other)) return false;
      }
      return true;
    }
    default: return a.identity() == b.identity();
  }
}

bool less(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_float() < b.as_float();
    return a.as_int() < b.as_int();
  }
  if (a.is_string() && b.is_string()) return a.str() < b.str();
  if ((a.is_list() && b.is_list()) || (a.is_tuple() && b.is_tuple())) {
    const auto &x = a.items(), &y = b.items();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i)
      if (!equal(x[i], y[i])) return less(x[i], y[i]);
    return x.size() < y.size();
  }
  runtime_error("'<' not supported between instances of '" + a.type_name() + "' and '" + b.type_name() + "'");
}

static Value from_json_at(const nlohmann::ordered_json& j, int depth) {
  if (depth > kMaxDepth) runtime_error("JSON value nested too deeply");
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return Value::none();
    case nlohmann::ordered_json::value_t::boolean: return Value(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      return u <= uint64_t(INT64_MAX) ? Value(int64_t(u)) : Value(double(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value(j.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      ValueList items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(from_json_at(e, depth + 1));
      return Value::list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      Dict d;
      d.entries.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it) d.entries.emplace_back(Value(it.key()), from_json_at(it.value(), depth + 1));
      return Value::dict(std::move(d));
    }
    default: runtime_error("binary JSON values are not supported");
  }
}

Value from_json(const nlohmann::ordered_json& j) { return from_json_at(j, 0); }

namespace {

std::string json_float(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v < 0 ? "-Infinity" : "Infinity";
  return py::float_repr(v);
}

struct JsonWriter {
  const JsonDumpOptions& opt;
  std::string item_sep, key_sep;
  std::string out;

  void newline(int level) {
    out += '\n';
    for (int i = 0; i < level; ++i) out += *opt.indent;
  }

  std::string key_text(const Value& k) {
    switch (k.type()) {
      case Value::Type::String: return k.str();
      case Value::Type::Float: return json_float(k.as_float());
      case Value::Type::Bool: return k.as_bool() ? "true" : "false";
      case Value::Type::None: return "null";
      case Value::Type::Int: return std::to_string(k.as_int());
      default: runtime_error("keys must be str, int, float, bool or None, not " + k.type_name());
    }
  }

  void write(const Value& v, int level) {
    if (level > kMaxDepth) runtime_error("value nested too deeply for tojson");
    switch (v.type()) {
      case Value::Type::None: out += "null"; return;
      case Value::Type::Bool: out += v.as_bool() ? "true" : "false"; return;
      case Value::Type::Int: out += std::to_string(v.as_int()); return;
      case Value::Type::Float: out += json_float(v.as_float()); return;
      case Value::Type::String: py::append_json_string(out, v.str(), opt.ensure_ascii); return;
      case Value::Type::List:
      case Value::Type::Tuple: {
        const auto& items = v.items();
        if (items.empty()) {
          out += "[]";
          return;
        }
        out += '[';
        for (size_t i = 0; i < items.size(); ++i) {
          if (i) out += item_sep;
          if (opt.indent) newline(level + 1);
          write(items[i], level + 1);
        }
        if (opt.indent) newline(level);
        out += ']';
        return;
      }
      case Value::Type::Dict: {
        std::vector<const std::pair<Value, Value>*> entries;
        for (const auto& e : v.dict().entries) entries.push_back(&e);
        if (entries.empty()) {
          out += "{}";
          return;
        }
        if (opt.sort_keys)
          std::stable_sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return less(a->first, b->first); });
        out += '{';
        for (size_t i = 0; i < entries.size(); ++i) {
          if (i) out += item_sep;
          if (opt.indent) newline(level + 1);
          py::append_json_string(out, key_text(entries[i]->first), opt.ensure_ascii);
          out += key_sep;
          write(entries[i]->second, level + 1);
        }
        if (opt.indent) newline(level);
        out += '}';
        return;
      }
      default: runtime_error("Object of type " + v.type_name() + " is not JSON serializable");
    }
  }
};

}  // namespace

std::string dump_json(const Value& v, const JsonDumpOptions& opt) {
  JsonWriter w{opt, opt.indent ? "," : ", ", ": ", {}};
  if (opt.separators) std::tie(w.item_sep, w.key_sep) = *opt.separators;
  w.write(v, 0);
  return std::move(w.out);
}

}  // namespace a3b::jinja
