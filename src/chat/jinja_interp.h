// The Jinja tree-walking interpreter and the builtins it calls (filters, tests, methods, globals).
// Internal to the engine: callers use chat/jinja.h.
#pragma once
#include <ctime>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "chat/jinja.h"
#include "chat/jinja_ast.h"

namespace a3b::jinja {

// raise_exception('msg') from a template: reaches the caller as an a3b::Error whose message is msg.
struct TemplateRaise {
  std::string message;
};

struct Scope;

class Interpreter {
 public:
  Interpreter(const Program& program, std::string_view source, const RenderOptions& options);
  ~Interpreter();
  std::string render(const Dict& variables);

  // Services for builtins.
  Value call(const Value& callee, CallArgs& args);
  Value apply_filter(const std::string& name, const Value& value, CallArgs& args);
  bool apply_test(const std::string& name, const Value& value, CallArgs& args);
  Value getattr(const Value& obj, const std::string& name);
  Value getitem(const Value& obj, const Value& key);
  void count_step();                  // one unit of work against RenderOptions::max_steps
  void check_size(size_t bytes) const;  // a string or list about to be built
  std::tm now() const;
  std::shared_ptr<Object> new_namespace();
  Value call_macro(const Stmt& s, const std::weak_ptr<Scope>& closure, CallArgs& args);

 private:
  enum class Flow { Normal, Break, Continue };

  const Program& program_;
  std::string_view source_;
  const RenderOptions& options_;
  std::shared_ptr<Scope> globals_;
  std::shared_ptr<Scope> top_;  // the template's top level, where macros fall back if their scope is gone
  std::string* out_ = nullptr;
  uint64_t steps_ = 0;
  int call_depth_ = 0;
  std::vector<std::weak_ptr<Object>> namespaces_;  // cleared after rendering: breaks ns.x = ns cycles

  Flow exec(const Body& body, const std::shared_ptr<Scope>& scope);
  Flow exec(const Stmt& s, const std::shared_ptr<Scope>& scope);
  void exec_for(const Stmt& s, const std::shared_ptr<Scope>& scope);
  void exec_set(const Stmt& s, const std::shared_ptr<Scope>& scope);
  Value define_macro(const Stmt& s, const std::shared_ptr<Scope>& scope);
  std::string capture(const Body& body, const std::shared_ptr<Scope>& scope);
  Value apply_filter_chain(const Expr& chain, Value input, const std::shared_ptr<Scope>& scope);
  void assign(const Target& target, Value value, const std::shared_ptr<Scope>& scope, size_t offset);

  Value eval(const Expr& e, const std::shared_ptr<Scope>& scope);
  Value eval_inner(const Expr& e, const std::shared_ptr<Scope>& scope);
  CallArgs eval_args(const Expr& e, const std::shared_ptr<Scope>& scope);
  Value eval_compare(const Expr& e, const std::shared_ptr<Scope>& scope);
  [[noreturn]] void fail_at(size_t offset, const std::string& message) const;
};

// ---- builtins (jinja_builtins.cpp, jinja_methods.cpp) ----

// Binds positional and keyword arguments to parameter names, as a Python signature would.
class ArgReader {
 public:
  ArgReader(std::string_view function, CallArgs& args, std::initializer_list<const char*> params);
  const Value* get(size_t i) const { return i < bound_.size() && bound_[i] ? &*bound_[i] : nullptr; }
  Value get_or(size_t i, Value fallback) const { return get(i) ? *get(i) : std::move(fallback); }
  const Value& required(size_t i) const;
  // The argument as a string / int, or a RuntimeError naming the parameter.
  std::string string_arg(size_t i) const;
  int64_t int_arg(size_t i) const;

 private:
  std::string function_;
  std::vector<const char*> params_;
  std::vector<std::optional<Value>> bound_;
};

Value call_filter(Interpreter& in, const std::string& name, const Value& value, CallArgs& args);
bool call_test(Interpreter& in, const std::string& name, const Value& value, CallArgs& args);
bool is_filter_name(std::string_view name);
bool is_unsupported_filter(std::string_view name);  // a jinja2 filter this engine does not implement
bool is_test_name(std::string_view name);
// Methods of str/dict/list values (`s.split`, `d.get`, ...) as bound functions; nullopt if none.
std::optional<Value> method_of(const Value& obj, const std::string& name);
// range, dict, namespace, raise_exception, strftime_now.
Dict builtin_globals();

// Iteration as Python's iter(): items of a list/tuple, keys of a dict, characters of a string,
// nothing for undefined; a RuntimeError for other values.
ValueList iterate(const Value& v);
// Python str(v) for the Jinja helpers that take text (filters apply str() to their input).
std::string text_of(const Value& v);
// Python `fmt % args` (printf-style: %s %r %d %i %f %e %g %x %o %c %%, flags, width, precision,
// %(name)s with a dict) and str.format (`{}`, `{0}`, `{name}`, `!r`/`!s`; no format specs).
// With escape_args (a Markup format string), %s/%r arguments are HTML-escaped unless Markup.
std::string percent_format(Interpreter& in, const std::string& fmt, const Value& args, bool escape_args = false);
std::string brace_format(Interpreter& in, const std::string& fmt, const CallArgs& args, bool escape_args = false);
// markupsafe.escape(v) as text: Markup stays as is, anything else is str()'d and HTML-escaped.
std::string escape_markup(const Value& v);
// A string result of an operation on `self`: Markup in, Markup out (as Markup's methods do).
Value like(const Value& self, std::string s);

}  // namespace a3b::jinja
