#include "chat/jinja.h"

#include "chat/jinja_interp.h"
#include "chat/jinja_lexer.h"
#include "chat/jinja_parser.h"
#include "core/error.h"

namespace a3b::jinja {
namespace {

// jinja2 resolves filter and test names when it compiles a template: an unknown name is an error
// even where it never runs, except inside an if statement or an inline if-expression ("soft"
// code, where the error waits until it runs). A loop, macro or block body inside an if is not soft.
struct NameCheck {
  std::string_view source;

  [[noreturn]] void fail(size_t offset, const std::string& msg) const {
    a3b::fail("chat template error at ", describe_position(source, offset), ": ", msg);
  }

  void expr(const Expr* e, bool soft) const {
    if (!e) return;
    if (!soft && e->kind == ExprKind::Filter && !is_filter_name(e->name))
      fail(e->offset, is_unsupported_filter(e->name) ? "the filter '" + e->name + "' is not supported"
                                                     : "no filter named '" + e->name + "'");
    if (!soft && e->kind == ExprKind::Test && !is_test_name(e->name)) fail(e->offset, "no test named '" + e->name + "'");
    soft = soft || e->kind == ExprKind::CondExpr;
    for (const auto& o : e->operands) expr(o.get(), soft);
    for (const auto& a : e->args) expr(a.get(), soft);
    for (const auto& [k, v] : e->kwargs) expr(v.get(), soft);
    expr(e->star_args.get(), soft);
    expr(e->star_kwargs.get(), soft);
  }

  void body(const Body& b, bool soft) const {
    for (const auto& s : b) stmt(*s, soft);
  }

  void stmt(const Stmt& s, bool soft) const {
    if (s.kind == StmtKind::If) {
      for (const auto& [test, branch] : s.branches) {
        expr(test.get(), true);
        body(branch, true);
      }
      body(s.else_body, true);
      return;
    }
    expr(s.expr.get(), soft);  // print, set and the iterable of a for keep the enclosing frame
    expr(s.condition.get(), false);
    expr(s.filter.get(), false);
    for (const auto& d : s.defaults) expr(d.get(), false);
    for (const auto& [target, value] : s.assignments) expr(value.get(), false);
    body(s.body, false);
    body(s.else_body, false);
  }
};

}  // namespace

Template Template::parse(std::string_view source) {
  Template t;
  t.source_ = normalize_source(source);
  auto program = std::make_shared<Program>(jinja::parse(tokenize(t.source_), t.source_));
  NameCheck{t.source_}.body(program->body, false);
  t.program_ = std::move(program);
  return t;
}

std::string Template::render(const Dict& variables, const RenderOptions& options) const {
  Interpreter interpreter(*program_, source_, options);
  try {
    return interpreter.render(variables);
  } catch (const TemplateRaise& raised) {
    throw Error(raised.message);
  } catch (const RuntimeError& e) {  // raised outside any expression (e.g. while unpacking a loop item)
    throw Error("chat template error: " + e.message);
  }
}

std::string Template::render(const nlohmann::ordered_json& variables, const RenderOptions& options) const {
  if (!variables.is_object()) fail("chat template variables must be a JSON object");
  Value vars;
  try {
    vars = from_json(variables);
  } catch (const RuntimeError& e) {
    fail("chat template variables: ", e.message);
  }
  return render(vars.dict(), options);
}

}  // namespace a3b::jinja
