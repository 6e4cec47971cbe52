#include "chat/jinja_interp.h"

#include <algorithm>
#include <cmath>

#include "chat/jinja_lexer.h"
#include "chat/pystr.h"
#include "core/error.h"

namespace a3b::jinja {

// One level of variables: the globals, the template's top level, a loop iteration, a macro call.
// Jinja's scoping: `set` writes the innermost scope, so a set inside a for body is gone after the
// iteration, and a set inside an if writes the enclosing scope.
struct Scope {
  std::shared_ptr<Scope> parent;
  std::vector<std::pair<std::string, Value>> vars;

  explicit Scope(std::shared_ptr<Scope> p) : parent(std::move(p)) {}
  const Value* lookup(std::string_view name) const {
    for (const Scope* s = this; s; s = s->parent.get())
      for (const auto& [k, v] : s->vars)
        if (k == name) return &v;
    return nullptr;
  }
  void set(const std::string& name, Value v) {
    for (auto& [k, old] : vars)
      if (k == name) {
        old = std::move(v);
        return;
      }
    vars.emplace_back(name, std::move(v));
  }
};

namespace {

// Python integer arithmetic beyond 64 bits is out of scope; it fails cleanly instead of wrapping.
void check_overflow(bool overflow) {
  if (overflow) runtime_error("integer overflow (values beyond 64 bits are not supported)");
}

[[noreturn]] void fail_operands(const char* op, const Value& a, const Value& b) {
  if (a.is_undefined()) runtime_error(a.undefined_hint());
  if (b.is_undefined()) runtime_error(b.undefined_hint());
  if (std::string_view(op) == "+" && a.is_string())
    runtime_error("can only concatenate str (not \"" + b.type_name() + "\") to str");
  runtime_error(cat("unsupported operand type(s) for ", op, ": '", a.type_name(), "' and '", b.type_name(), "'"));
}

Value repeat(Interpreter& in, const Value& seq, int64_t n) {
  if (n <= 0) return seq.is_string() ? Value(std::string()) : seq.is_tuple() ? Value::tuple({}) : Value::list({});
  if (seq.is_string()) {
    in.check_size(seq.str().size() * size_t(std::min<int64_t>(n, INT32_MAX)));
    std::string out;
    for (int64_t i = 0; i < n; ++i) out += seq.str();
    return like(seq, std::move(out));
  }
  in.check_size(seq.items().size() * 32 * size_t(std::min<int64_t>(n, INT32_MAX)));
  ValueList out;
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq.items().begin(), seq.items().end());
  return seq.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

double float_floor_div(double a, double b) {
  if (b == 0) runtime_error("float floor division by zero");
  return std::floor(a / b);
}

double float_mod(double a, double b) {
  if (b == 0) runtime_error("float modulo");
  double m = std::fmod(a, b);
  if (m != 0 && ((m < 0) != (b < 0))) m += b;
  return m;
}

Value arithmetic(Interpreter& in, const std::string& op, const Value& a, const Value& b);

Value int_arithmetic(const std::string& op, int64_t x, int64_t y) {
  int64_t r = 0;
  if (op == "+") return check_overflow(__builtin_add_overflow(x, y, &r)), r;
  if (op == "-") return check_overflow(__builtin_sub_overflow(x, y, &r)), r;
  if (op == "*") return check_overflow(__builtin_mul_overflow(x, y, &r)), r;
  if (op == "/") {
    if (y == 0) runtime_error("division by zero");
    return double(x) / double(y);
  }
  if (op == "//" || op == "%") {
    if (y == 0) runtime_error("integer division or modulo by zero");
    if (x == INT64_MIN && y == -1) {
      check_overflow(op == "//");
      return int64_t(0);
    }
    int64_t q = x / y, m = x % y;
    if (m != 0 && ((m < 0) != (y < 0))) {
      --q;
      m += y;
    }
    return op == "//" ? q : m;
  }
  // "**"
  if (y < 0) {
    if (x == 0) runtime_error("0.0 cannot be raised to a negative power");
    return std::pow(double(x), double(y));
  }
  int64_t result = 1, base = x;
  for (int64_t e = y; e > 0; e >>= 1) {
    if (e & 1) check_overflow(__builtin_mul_overflow(result, base, &result));
    if (e > 1) check_overflow(__builtin_mul_overflow(base, base, &base));
  }
  return result;
}

Value float_arithmetic(const std::string& op, double x, double y) {
  if (op == "+") return x + y;
  if (op == "-") return x - y;
  if (op == "*") return x * y;
  if (op == "/") {
    if (y == 0) runtime_error("float division by zero");
    return x / y;
  }
  if (op == "//") return float_floor_div(x, y);
  if (op == "%") return float_mod(x, y);
  if (x == 0 && y < 0) runtime_error("0.0 cannot be raised to a negative power");
  const double r = std::pow(x, y);
  if (std::isnan(r) && !std::isnan(x) && !std::isnan(y)) runtime_error("math domain error (complex result)");
  return r;
}

Value arithmetic(Interpreter& in, const std::string& op, const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return float_arithmetic(op, a.as_float(), b.as_float());
    return int_arithmetic(op, a.as_int(), b.as_int());
  }
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      in.check_size(a.str().size() + b.str().size());
      if (a.is_markup() || b.is_markup()) return Value::markup(escape_markup(a) + escape_markup(b));
      return Value(a.str() + b.str());
    }
    if ((a.is_list() && b.is_list()) || (a.is_tuple() && b.is_tuple())) {
      in.check_size((a.items().size() + b.items().size()) * 32);
      ValueList out = a.items();
      out.insert(out.end(), b.items().begin(), b.items().end());
      return a.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
    }
  }
  if (op == "*") {
    const bool a_seq = a.is_string() || a.is_sequence(), b_seq = b.is_string() || b.is_sequence();
    if (a_seq && (b.is_int() || b.is_bool())) return repeat(in, a, b.as_int());
    if (b_seq && (a.is_int() || a.is_bool())) return repeat(in, b, a.as_int());
  }
  if (op == "%" && a.is_string()) return like(a, percent_format(in, a.str(), b, a.is_markup()));
  fail_operands(op.c_str(), a, b);
}

bool contains(const Value& container, const Value& item) {
  switch (container.type()) {
    case Value::Type::String:
      if (!item.is_string())
        runtime_error("'in <string>' requires string as left operand, not " + item.type_name());
      return container.str().find(item.str()) != std::string::npos;
    case Value::Type::List:
    case Value::Type::Tuple:
    case Value::Type::Iterator:
      for (const auto& v : container.items())
        if (equal(v, item)) return true;
      return false;
    case Value::Type::Dict: return container.dict().find(item) != nullptr;
    case Value::Type::Undefined: return false;
    default: runtime_error("argument of type '" + container.type_name() + "' is not iterable");
  }
}

bool compare(const std::string& op, const Value& a, const Value& b) {
  if (op == "==") return equal(a, b);
  if (op == "!=") return !equal(a, b);
  if (op == "in") return contains(b, a);
  if (op == "notin") return !contains(b, a);
  if (a.is_undefined()) runtime_error(a.undefined_hint());
  if (b.is_undefined()) runtime_error(b.undefined_hint());
  if (op == "<") return less(a, b);
  if (op == ">") return less(b, a);
  if (op == "<=") return less(a, b) || equal(a, b);
  return less(b, a) || equal(a, b);  // ">="
}

// Python slice semantics: clamped bounds, negative indices from the end, step != 0.
ValueList slice_indices(int64_t length, const Value& start, const Value& stop, const Value& step_v) {
  auto index_of = [](const Value& v) -> std::optional<int64_t> {
    if (v.is_none() || v.is_undefined()) return std::nullopt;
    if (!v.is_int() && !v.is_bool()) runtime_error("slice indices must be integers or None");
    return v.as_int();
  };
  const int64_t step = index_of(step_v).value_or(1);
  if (step == 0) runtime_error("slice step cannot be zero");
  auto clamp = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t i = *v;
    if (i < 0) i += length;
    if (step > 0) return std::clamp<int64_t>(i, 0, length);
    return std::clamp<int64_t>(i, -1, length - 1);
  };
  const int64_t b = clamp(index_of(start), step > 0 ? 0 : length - 1);
  const int64_t e = clamp(index_of(stop), step > 0 ? length : -1);
  ValueList idx;
  for (int64_t i = b; step > 0 ? i < e : i > e; i += step) idx.push_back(Value(i));
  return idx;
}

}  // namespace

Interpreter::Interpreter(const Program& program, std::string_view source, const RenderOptions& options)
    : program_(program), source_(source), options_(options) {}

Interpreter::~Interpreter() {
  for (auto& weak : namespaces_)
    if (auto ns = weak.lock()) ns->attrs.clear();
}

void Interpreter::fail_at(size_t offset, const std::string& message) const {
  a3b::fail("chat template error at ", describe_position(source_, offset), ": ", message);
}

void Interpreter::count_step() {
  if (++steps_ > options_.max_steps) runtime_error("template exceeded its step limit (a runaway loop?)");
}

void Interpreter::check_size(size_t bytes) const {
  if (bytes > options_.max_output_bytes) runtime_error("template output exceeds the size limit");
  const_cast<Interpreter*>(this)->steps_ += bytes / 256;
}

std::tm Interpreter::now() const {
  if (options_.clock) return options_.clock();
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  return tm;
}

std::shared_ptr<Object> Interpreter::new_namespace() {
  auto ns = std::make_shared<Object>(Object{Object::Kind::Namespace, {}});
  namespaces_.push_back(ns);
  return ns;
}

std::string Interpreter::render(const Dict& variables) {
  globals_ = std::make_shared<Scope>(nullptr);
  for (auto& [k, v] : builtin_globals().entries) globals_->set(k.str(), v);
  for (const auto& [k, v] : variables.entries)
    if (k.is_string()) globals_->set(k.str(), v);
  top_ = std::make_shared<Scope>(globals_);
  std::string out;
  out_ = &out;
  exec(program_.body, top_);
  return out;
}

Interpreter::Flow Interpreter::exec(const Body& body, const std::shared_ptr<Scope>& scope) {
  for (const auto& s : body) {
    Flow f = exec(*s, scope);
    if (f != Flow::Normal) return f;
  }
  return Flow::Normal;
}

std::string Interpreter::capture(const Body& body, const std::shared_ptr<Scope>& scope) {
  std::string buffer;
  std::string* saved = out_;
  out_ = &buffer;
  struct Restore {
    std::string*& out;
    std::string* saved;
    ~Restore() { out = saved; }
  } restore{out_, saved};
  exec(body, scope);
  return buffer;
}

Interpreter::Flow Interpreter::exec(const Stmt& s, const std::shared_ptr<Scope>& scope) {
  count_step();
  auto emit = [&](const std::string& text) {
    check_size(out_->size() + text.size());
    *out_ += text;
  };
  switch (s.kind) {
    case StmtKind::Output: emit(s.text); break;
    case StmtKind::Print: emit(eval(*s.expr, scope).to_str()); break;
    case StmtKind::If:
      for (const auto& [test, body] : s.branches)
        if (eval(*test, scope).truthy()) return exec(body, scope);
      return exec(s.else_body, scope);
    case StmtKind::For: exec_for(s, scope); break;
    case StmtKind::Set: assign(s.target, eval(*s.expr, scope), scope, s.offset); break;
    case StmtKind::SetBlock: {
      Value text(capture(s.body, std::make_shared<Scope>(scope)));
      if (s.filter) text = apply_filter_chain(*s.filter, std::move(text), scope);
      assign(s.target, std::move(text), scope, s.offset);
      break;
    }
    case StmtKind::Macro: scope->set(s.text, define_macro(s, scope)); break;
    case StmtKind::FilterBlock:
      emit(apply_filter_chain(*s.filter, Value(capture(s.body, std::make_shared<Scope>(scope))), scope).to_str());
      break;
    case StmtKind::With: {
      auto inner = std::make_shared<Scope>(scope);
      for (const auto& [target, value] : s.assignments) assign(target, eval(*value, inner), inner, s.offset);
      return exec(s.body, inner);
    }
    case StmtKind::Block: return exec(s.body, std::make_shared<Scope>(scope));
    case StmtKind::Break: return Flow::Break;
    case StmtKind::Continue: return Flow::Continue;
  }
  return Flow::Normal;
}

void Interpreter::exec_for(const Stmt& s, const std::shared_ptr<Scope>& scope) {
  ValueList items;
  try {
    items = iterate(eval(*s.expr, scope));
  } catch (const RuntimeError& e) {
    fail_at(s.expr->offset, e.message);
  }
  if (s.condition) {  // `for x in xs if cond`: filtered before the loop, so loop.* counts kept items
    ValueList kept;
    for (auto& item : items) {
      count_step();
      auto test_scope = std::make_shared<Scope>(scope);
      assign(s.target, item, test_scope, s.offset);
      if (eval(*s.condition, test_scope).truthy()) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  if (items.empty()) {
    exec(s.else_body, std::make_shared<Scope>(scope));
    return;
  }
  const int64_t n = int64_t(items.size());
  auto all_items = std::make_shared<const ValueList>(items);
  for (int64_t i = 0; i < n; ++i) {
    count_step();
    auto iteration = std::make_shared<Scope>(scope);
    assign(s.target, items[size_t(i)], iteration, s.offset);
    auto loop = std::make_shared<Object>(Object{Object::Kind::Loop, {}});
    auto& a = loop->attrs;
    a.emplace_back("index", Value(i + 1));
    a.emplace_back("index0", Value(i));
    a.emplace_back("revindex", Value(n - i));
    a.emplace_back("revindex0", Value(n - i - 1));
    a.emplace_back("first", Value(i == 0));
    a.emplace_back("last", Value(i == n - 1));
    a.emplace_back("length", Value(n));
    a.emplace_back("depth", Value(int64_t(1)));
    a.emplace_back("depth0", Value(int64_t(0)));
    a.emplace_back("previtem", i > 0 ? items[size_t(i - 1)] : Value::undefined("there is no previous item"));
    a.emplace_back("nextitem", i + 1 < n ? items[size_t(i + 1)] : Value::undefined("there is no next item"));
    a.emplace_back("cycle", Value::function("loop.cycle", [i](CallArgs& args, Interpreter&) {
                     if (args.positional.empty()) runtime_error("no items for cycling given");
                     return args.positional[size_t(i) % args.positional.size()];
                   }));
    iteration->set("loop", Value::object(loop));
    Flow f = exec(s.body, iteration);
    if (f == Flow::Break) break;
  }
}

void Interpreter::assign(const Target& target, Value value, const std::shared_ptr<Scope>& scope, size_t offset) {
  if (!target.attribute.empty()) {
    const Value* ns = scope->lookup(target.names[0]);
    if (!ns || !ns->is_namespace()) fail_at(offset, "cannot assign attribute on non-namespace object");
    Object& o = ns->object();
    for (auto& [k, v] : o.attrs)
      if (k == target.attribute) {
        v = std::move(value);
        return;
      }
    o.attrs.emplace_back(target.attribute, std::move(value));
    return;
  }
  if (!target.is_tuple) {
    scope->set(target.names[0], std::move(value));
    return;
  }
  ValueList parts;
  try {
    parts = iterate(value);
  } catch (const RuntimeError& e) {
    fail_at(offset, "cannot unpack non-iterable " + value.type_name() + " object");
  }
  if (parts.size() != target.names.size())
    fail_at(offset, parts.size() > target.names.size()
                        ? cat("too many values to unpack (expected ", target.names.size(), ")")
                        : cat("not enough values to unpack (expected ", target.names.size(), ", got ", parts.size(), ")"));
  for (size_t i = 0; i < parts.size(); ++i) scope->set(target.names[i], std::move(parts[i]));
}

Value Interpreter::define_macro(const Stmt& s, const std::shared_ptr<Scope>& scope) {
  // The macro sees its defining scope as it is when called; a weak reference, so that a macro stored
  // in the scope it closes over is not a reference cycle.
  std::weak_ptr<Scope> closure = scope;
  const Stmt* def = &s;
  return Value::function(
      s.text, [def, closure](CallArgs& args, Interpreter& in) { return in.call_macro(*def, closure, args); }, true);
}

Value Interpreter::call_macro(const Stmt& s, const std::weak_ptr<Scope>& closure, CallArgs& args) {
  if (call_depth_ >= options_.max_call_depth) runtime_error("macro recursion is too deep");
  auto parent = closure.lock();
  auto scope = std::make_shared<Scope>(parent ? parent : top_);
  const size_t n = s.params.size();
  if (args.positional.size() > n)
    runtime_error(cat("macro '", s.text, "' takes not more than ", n, " argument(s)"));
  std::vector<bool> given(n, false);
  for (size_t i = 0; i < args.positional.size(); ++i) {
    scope->set(s.params[i], args.positional[i]);
    given[i] = true;
  }
  for (auto& [name, value] : args.keyword) {
    size_t i = std::find(s.params.begin(), s.params.end(), name) - s.params.begin();
    if (i == n) runtime_error(cat("macro '", s.text, "' takes no keyword argument '", name, "'"));
    if (given[i]) runtime_error(cat("macro '", s.text, "' got multiple values for argument '", name, "'"));
    scope->set(name, value);
    given[i] = true;
  }
  const size_t first_default = n - s.defaults.size();
  for (size_t i = 0; i < n; ++i) {
    if (given[i]) continue;
    scope->set(s.params[i], i >= first_default ? eval(*s.defaults[i - first_default], scope)
                                               : Value::undefined("parameter '" + s.params[i] + "' was not provided"));
  }
  ++call_depth_;
  struct Depth {
    int& d;
    ~Depth() { --d; }
  } depth{call_depth_};
  return Value(capture(s.body, scope));
}

Value Interpreter::apply_filter_chain(const Expr& chain, Value input, const std::shared_ptr<Scope>& scope) {
  Value value = chain.operands[0] ? apply_filter_chain(*chain.operands[0], std::move(input), scope) : std::move(input);
  CallArgs args = eval_args(chain, scope);
  try {
    return call_filter(*this, chain.name, value, args);
  } catch (const RuntimeError& e) {
    fail_at(chain.offset, e.message);
  }
}

Value Interpreter::call(const Value& callee, CallArgs& args) {
  count_step();
  if (callee.is_function()) return callee.function().call(args, *this);
  if (callee.is_undefined()) runtime_error(callee.undefined_hint());
  runtime_error(cat("'", callee.type_name(), "' object is not callable"));
}

Value Interpreter::apply_filter(const std::string& name, const Value& value, CallArgs& args) {
  count_step();
  return call_filter(*this, name, value, args);
}

bool Interpreter::apply_test(const std::string& name, const Value& value, CallArgs& args) {
  count_step();
  return call_test(*this, name, value, args);
}

Value Interpreter::getattr(const Value& obj, const std::string& name) {
  switch (obj.type()) {
    case Value::Type::Undefined: runtime_error(obj.undefined_hint());
    case Value::Type::Dict: {
      if (auto m = method_of(obj, name)) return *m;
      if (const Value* v = obj.dict().find(std::string_view(name))) return *v;
      break;
    }
    case Value::Type::Object:
      if (const Value* v = obj.object().find(name)) return *v;
      break;
    default:
      if (auto m = method_of(obj, name)) return *m;
  }
  return Value::undefined(cat("'", obj.type_name(), " object' has no attribute '", name, "'"));
}

Value Interpreter::getitem(const Value& obj, const Value& key) {
  switch (obj.type()) {
    case Value::Type::Undefined: runtime_error(obj.undefined_hint());
    case Value::Type::Dict:
      if (const Value* v = obj.dict().find(key)) return *v;
      break;
    case Value::Type::List:
    case Value::Type::Tuple:
    case Value::Type::String:
      if (key.is_int() || key.is_bool()) {
        const bool is_str = obj.is_string();
        std::vector<size_t> offsets;
        int64_t n;
        if (is_str) {
          offsets = py::code_point_offsets(obj.str());
          n = int64_t(offsets.size()) - 1;
        } else {
          n = int64_t(obj.items().size());
        }
        int64_t i = key.as_int();
        if (i < 0) i += n;
        if (i < 0 || i >= n) return Value::undefined(cat("'", obj.type_name(), " object' has no element ", key.as_int()));
        if (!is_str) return obj.items()[size_t(i)];
        return like(obj, obj.str().substr(offsets[size_t(i)], offsets[size_t(i) + 1] - offsets[size_t(i)]));
      }
      break;
    case Value::Type::Object:
      if (key.is_string())
        if (const Value* v = obj.object().find(key.str())) return *v;
      break;
    default: break;
  }
  if (key.is_string() && !obj.is_object())
    if (auto m = method_of(obj, key.str())) return *m;
  return Value::undefined(cat("'", obj.type_name(), " object' has no attribute ", key.repr()));
}

CallArgs Interpreter::eval_args(const Expr& e, const std::shared_ptr<Scope>& scope) {
  CallArgs args;
  for (const auto& a : e.args) args.positional.push_back(eval(*a, scope));
  if (e.star_args)
    for (auto& v : iterate(eval(*e.star_args, scope))) args.positional.push_back(std::move(v));
  for (const auto& [k, v] : e.kwargs) args.keyword.emplace_back(k, eval(*v, scope));
  if (e.star_kwargs) {
    Value d = eval(*e.star_kwargs, scope);
    if (!d.is_dict()) runtime_error("argument after ** must be a mapping, not " + d.type_name());
    for (const auto& [k, v] : d.dict().entries) {
      if (!k.is_string()) runtime_error("keywords must be strings");
      args.keyword.emplace_back(k.str(), v);
    }
  }
  return args;
}

Value Interpreter::eval(const Expr& e, const std::shared_ptr<Scope>& scope) {
  try {
    return eval_inner(e, scope);
  } catch (const RuntimeError& err) {
    fail_at(e.offset, err.message);
  }
}

Value Interpreter::eval_compare(const Expr& e, const std::shared_ptr<Scope>& scope) {
  Value left = eval(*e.operands[0], scope);
  for (size_t i = 0; i < e.compare_ops.size(); ++i) {
    Value right = eval(*e.operands[i + 1], scope);
    if (!compare(e.compare_ops[i], left, right)) return Value(false);
    left = std::move(right);
  }
  return Value(true);
}

Value Interpreter::eval_inner(const Expr& e, const std::shared_ptr<Scope>& scope) {
  auto operand = [&](size_t i) { return eval(*e.operands[i], scope); };
  switch (e.kind) {
    case ExprKind::Const: return e.constant;
    case ExprKind::Name: {
      if (const Value* v = scope->lookup(e.name)) return *v;
      return Value::undefined("'" + e.name + "' is undefined");
    }
    case ExprKind::List:
    case ExprKind::Tuple: {
      ValueList items;
      for (size_t i = 0; i < e.operands.size(); ++i) items.push_back(operand(i));
      return e.kind == ExprKind::List ? Value::list(std::move(items)) : Value::tuple(std::move(items));
    }
    case ExprKind::Dict: {
      Dict d;
      for (size_t i = 0; i + 1 < e.operands.size(); i += 2) {
        Value key = operand(i);
        d.set(std::move(key), operand(i + 1));
      }
      return Value::dict(std::move(d));
    }
    case ExprKind::GetAttr: return getattr(operand(0), e.name);
    case ExprKind::GetItem: return getitem(operand(0), operand(1));
    case ExprKind::Slice: {
      Value obj = operand(0);
      auto part = [&](size_t i) { return e.operands[i] ? operand(i) : Value::none(); };
      if (obj.is_undefined()) runtime_error(obj.undefined_hint());
      if (!obj.is_string() && !obj.is_sequence())
        return Value::undefined("'" + obj.type_name() + " object' cannot be sliced");
      Value start = part(1), stop = part(2), step = part(3);
      if (obj.is_string()) {
        const std::vector<size_t> at = py::code_point_offsets(obj.str());
        std::string out;
        for (const Value& i : slice_indices(int64_t(at.size()) - 1, start, stop, step))
          out += obj.str().substr(at[size_t(i.as_int())], at[size_t(i.as_int()) + 1] - at[size_t(i.as_int())]);
        return like(obj, std::move(out));
      }
      ValueList out;
      for (const Value& i : slice_indices(int64_t(obj.items().size()), start, stop, step))
        out.push_back(obj.items()[size_t(i.as_int())]);
      return obj.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
    }
    case ExprKind::Call: {
      Value callee = operand(0);
      CallArgs args = eval_args(e, scope);
      return call(callee, args);
    }
    case ExprKind::Filter: {
      Value value = operand(0);
      CallArgs args = eval_args(e, scope);
      return apply_filter(e.name, value, args);
    }
    case ExprKind::Test: {
      Value value = operand(0);
      CallArgs args = eval_args(e, scope);
      return Value(apply_test(e.name, value, args));
    }
    case ExprKind::Neg:
    case ExprKind::Pos: {
      Value v = operand(0);
      if (v.is_undefined()) runtime_error(v.undefined_hint());
      if (!v.is_number())
        runtime_error(cat("bad operand type for unary ", e.kind == ExprKind::Neg ? "-" : "+", ": '", v.type_name(), "'"));
      if (e.kind == ExprKind::Pos) return v.is_bool() ? Value(v.as_int()) : v;
      if (v.is_float()) return Value(-v.as_float());
      check_overflow(v.as_int() == INT64_MIN);
      return Value(-v.as_int());
    }
    case ExprKind::Not: return Value(!operand(0).truthy());
    case ExprKind::Binary: return arithmetic(*this, e.name, operand(0), operand(1));
    case ExprKind::Compare: return eval_compare(e, scope);
    case ExprKind::And: {
      Value left = operand(0);
      return left.truthy() ? operand(1) : left;
    }
    case ExprKind::Or: {
      Value left = operand(0);
      return left.truthy() ? left : operand(1);
    }
    case ExprKind::Concat: {
      std::string out;
      for (size_t i = 0; i < e.operands.size(); ++i) {
        out += operand(i).to_str();
        check_size(out.size());
      }
      return Value(std::move(out));
    }
    case ExprKind::CondExpr:
      if (operand(1).truthy()) return operand(0);
      if (e.operands[2]) return operand(2);
      return Value::undefined("the inline if-expression evaluated to false and no else section was defined");
  }
  runtime_error("unknown expression");
}

}  // namespace a3b::jinja
