// Values of the Jinja engine, with Python semantics: what Jinja2 (a Python library) does with
// None/bool/int/float/str/list/tuple/dict is what templates expect, down to how they print.
// Lists, tuples, dicts and strings are immutable and shared (the sandbox forbids mutation);
// a namespace() is the one mutable object.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace a3b::jinja {

class Value;
class Interpreter;
using ValueList = std::vector<Value>;

// An error of the template program itself (wrong type, undefined variable, ...). The interpreter
// adds the template position before it reaches the caller as an a3b::Error.
struct RuntimeError {
  std::string message;
};
[[noreturn]] void runtime_error(std::string message);

// Arguments of a call: positional, then keyword.
struct CallArgs {
  ValueList positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

// Anything callable: macros, bound methods (str.split, dict.get, loop.cycle), globals.
struct Function {
  std::string name;
  std::function<Value(CallArgs&, Interpreter&)> call;
  bool is_macro = false;  // prints as <Macro 'name'>
};

struct Dict;
// namespace() objects and the loop variable: named attributes, printed like Jinja's objects.
struct Object {
  enum class Kind { Namespace, Loop } kind;
  std::vector<std::pair<std::string, Value>> attrs;  // (for Loop: index/first/... per iteration)
  const Value* find(std::string_view name) const;
};

class Value {
 public:
  // Iterator: what jinja2's map/select/reject/items/unique filters return (Python generators):
  // iterable, always true, no len(), not JSON-serializable.
  enum class Type : uint8_t { Undefined, None, Bool, Int, Float, String, List, Tuple, Iterator, Dict, Object, Function };

  Value() : type_(Type::Undefined), i_(0) {}  // undefined, with no hint
  static Value undefined(std::string hint);  // hint: "'x' is undefined", shown when it is misused
  static Value none() { return Value(Type::None); }
  Value(bool b) : type_(Type::Bool), b_(b) {}
  Value(int v) : Value(int64_t(v)) {}
  Value(int64_t v) : type_(Type::Int), i_(v) {}
  Value(double v) : type_(Type::Float), f_(v) {}
  Value(std::string s);
  Value(const char* s) : Value(std::string(s)) {}
  // markupsafe.Markup, what |safe and |escape return: text taken as already escaped; `+` and `%`
  // HTML-escape a plain operand joined to it. Prints like any string.
  static Value markup(std::string s);
  static Value list(ValueList items);
  static Value tuple(ValueList items);
  static Value iterator(ValueList items);
  static Value dict(Dict d);
  static Value object(std::shared_ptr<Object> o);
  static Value function(std::string name, std::function<Value(CallArgs&, Interpreter&)> call, bool is_macro = false);

  Type type() const { return type_; }
  bool is_undefined() const { return type_ == Type::Undefined; }
  bool is_none() const { return type_ == Type::None; }
  bool is_bool() const { return type_ == Type::Bool; }
  bool is_int() const { return type_ == Type::Int; }
  bool is_float() const { return type_ == Type::Float; }
  bool is_number() const { return type_ == Type::Int || type_ == Type::Float || type_ == Type::Bool; }
  bool is_string() const { return type_ == Type::String; }
  bool is_markup() const { return type_ == Type::String && markup_; }
  bool is_list() const { return type_ == Type::List; }
  bool is_tuple() const { return type_ == Type::Tuple; }
  bool is_sequence() const { return type_ == Type::List || type_ == Type::Tuple; }  // list or tuple
  bool is_iterator() const { return type_ == Type::Iterator; }
  bool is_dict() const { return type_ == Type::Dict; }
  bool is_object() const { return type_ == Type::Object; }
  bool is_namespace() const;
  bool is_function() const { return type_ == Type::Function; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return type_ == Type::Bool ? int64_t(b_) : i_; }  // bool counts as int, as in Python
  double as_float() const { return type_ == Type::Float ? f_ : double(as_int()); }
  const std::string& str() const { return *static_cast<const std::string*>(ptr_.get()); }
  const ValueList& items() const { return *static_cast<const ValueList*>(ptr_.get()); }
  const Dict& dict() const { return *static_cast<const Dict*>(ptr_.get()); }
  Object& object() const { return *static_cast<Object*>(ptr_.get()); }
  const Function& function() const { return *static_cast<const Function*>(ptr_.get()); }
  const void* identity() const { return ptr_.get(); }  // for `is sameas` on containers
  const std::string& undefined_hint() const;

  bool truthy() const;                 // Python bool()
  std::string to_str() const;          // Python str(): what {{ value }} prints
  std::string repr() const;            // Python repr(): how items print inside lists and dicts
  std::string type_name() const;       // Python type name for messages: 'str', 'dict', 'NoneType'
  size_t length() const;               // len(); a RuntimeError for values without one

 private:
  Value(Type t, std::shared_ptr<void> p) : type_(t), i_(0), ptr_(std::move(p)) {}
  explicit Value(Type t) : type_(t), i_(0) {}
  Type type_;
  bool markup_ = false;
  union {
    bool b_;
    int64_t i_;
    double f_;
  };
  // The payload of String (or the hint of Undefined), List/Tuple/Iterator, Dict, Object and Function.
  std::shared_ptr<void> ptr_;
};

// Insertion-ordered mapping (Python dicts keep insertion order; chat templates print tools in the
// order the request gave them).
struct Dict {
  std::vector<std::pair<Value, Value>> entries;
  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  void set(Value key, Value value);  // replaces in place if present
};

bool equal(const Value& a, const Value& b);  // Python ==
// Python <, for numbers, strings and same-kind sequences; a RuntimeError otherwise.
bool less(const Value& a, const Value& b);

// JSON to Value (objects keep their key order). Nesting deeper than kMaxDepth is a RuntimeError.
constexpr int kMaxDepth = 512;
Value from_json(const nlohmann::ordered_json& j);

// json.dumps(v, ensure_ascii, indent, separators, sort_keys) byte-for-byte as Python writes it;
// indent is nullopt (one line) or the per-level indent string.
struct JsonDumpOptions {
  bool ensure_ascii = false;
  std::optional<std::string> indent;
  std::optional<std::pair<std::string, std::string>> separators;  // (item, key) separators
  bool sort_keys = false;
};
std::string dump_json(const Value& v, const JsonDumpOptions& opt = {});

}  // namespace a3b::jinja
