#include "chat/jinja_parser.h"

#include <algorithm>
#include <initializer_list>

#include "core/error.h"

namespace a3b::jinja {
namespace {

// Deep nesting would exhaust the native stack in the recursive parser and interpreter.
constexpr int kMaxNesting = 128;

ExprPtr make_expr(ExprKind kind, size_t offset) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->offset = offset;
  return e;
}

ExprPtr make_binary(ExprKind kind, size_t offset, ExprPtr a, ExprPtr b, std::string op = {}) {
  auto e = make_expr(kind, offset);
  e->name = std::move(op);
  e->operands.push_back(std::move(a));
  e->operands.push_back(std::move(b));
  return e;
}

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, std::string_view source) : t_(tokens), src_(source) {}

  Program run() {
    Program p;
    p.body = subparse({});
    return p;
  }

 private:
  const std::vector<Token>& t_;
  std::string_view src_;
  size_t i_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;

  // Counts recursion depth for the lifetime of a parse function.
  struct Nest {
    Parser& p;
    explicit Nest(Parser& parser) : p(parser) {
      if (++p.depth_ > kMaxNesting) p.fail(p.cur(), "template nested too deeply");
    }
    ~Nest() { --p.depth_; }
  };

  const Token& cur() const { return t_[i_]; }
  const Token& look() const { return t_[std::min(i_ + 1, t_.size() - 1)]; }
  void advance() {
    if (i_ + 1 < t_.size()) ++i_;
  }

  static std::string describe(const Token& t) {
    switch (t.type) {
      case TokenType::Data: return "template data";
      case TokenType::VariableBegin: return "begin of print statement";
      case TokenType::VariableEnd: return "end of print statement";
      case TokenType::BlockBegin: return "begin of statement block";
      case TokenType::BlockEnd: return "end of statement block";
      case TokenType::String: return "string";
      case TokenType::Integer: return "integer";
      case TokenType::Float: return "float";
      case TokenType::Eof: return "end of template";
      default: return "'" + t.text + "'";
    }
  }

  [[noreturn]] void fail(const Token& at, const std::string& msg) const {
    a3b::fail("chat template syntax error at ", describe_position(src_, at.offset), ": ", msg);
  }

  bool is_op(const char* op) const { return cur().type == TokenType::Operator && cur().text == op; }
  bool is_name(const char* name) const { return cur().type == TokenType::Name && cur().text == name; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    advance();
    return true;
  }
  bool skip_name(const char* name) {
    if (!is_name(name)) return false;
    advance();
    return true;
  }
  void expect_op(const char* op) {
    if (!skip_op(op)) fail(cur(), cat("expected '", op, "', got ", describe(cur())));
  }
  void expect(TokenType type, const char* what) {
    if (cur().type != type) fail(cur(), cat("expected ", what, ", got ", describe(cur())));
    advance();
  }
  std::string expect_name() {
    if (cur().type != TokenType::Name) fail(cur(), "expected a name, got " + describe(cur()));
    std::string name = cur().text;
    advance();
    return name;
  }

  // ---- statements ----

  bool at_end_tag(const std::vector<std::string>& names) const {
    return cur().type == TokenType::Name && std::find(names.begin(), names.end(), cur().text) != names.end();
  }

  // Template data and tags until a block whose tag name is one of end_names (left current) or EOF.
  Body subparse(const std::vector<std::string>& end_names) {
    Body body;
    for (;;) {
      const Token& t = cur();
      if (t.type == TokenType::Eof) return body;
      if (t.type == TokenType::Data) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::Output;
        s->offset = t.offset;
        s->text = t.text;
        body.push_back(std::move(s));
        advance();
      } else if (t.type == TokenType::VariableBegin) {
        advance();
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::Print;
        s->offset = t.offset;
        s->expr = parse_tuple(false, true, {}, false);
        expect(TokenType::VariableEnd, "'}}'");
        body.push_back(std::move(s));
      } else if (t.type == TokenType::BlockBegin) {
        advance();
        if (!end_names.empty() && at_end_tag(end_names)) return body;
        body.push_back(parse_statement());
        expect(TokenType::BlockEnd, "'%}'");
      } else {
        fail(t, "unexpected " + describe(t));
      }
    }
  }

  Body parse_statements(const std::vector<std::string>& end_names, bool drop_needle) {
    skip_op(":");
    expect(TokenType::BlockEnd, "'%}'");
    Body body = subparse(end_names);
    if (cur().type == TokenType::Eof) {
      std::string wanted;
      for (const auto& n : end_names) wanted += (wanted.empty() ? "'" : " or '") + n + "'";
      fail(cur(), "unexpected end of template, expected " + wanted);
    }
    if (drop_needle) advance();
    return body;
  }

  StmtPtr parse_statement() {
    Nest nest(*this);
    const Token& t = cur();
    if (t.type != TokenType::Name) fail(t, "tag name expected");
    auto s = std::make_unique<Stmt>();
    s->offset = t.offset;
    const std::string tag = t.text;
    advance();
    if (tag == "if") {
      parse_if(*s);
    } else if (tag == "for") {
      parse_for(*s);
    } else if (tag == "set") {
      parse_set(*s);
    } else if (tag == "macro") {
      parse_macro(*s);
    } else if (tag == "filter") {
      s->kind = StmtKind::FilterBlock;
      s->filter = parse_filter(nullptr, true);
      s->body = parse_statements({"endfilter"}, true);
    } else if (tag == "with") {
      parse_with(*s);
    } else if (tag == "generation") {  // transformers' assistant-mask tag: renders its body
      s->kind = StmtKind::Block;
      s->body = parse_statements({"endgeneration"}, true);
    } else if (tag == "break" || tag == "continue") {
      if (loop_depth_ == 0) fail(t, "'" + tag + "' outside of a loop");
      s->kind = tag == "break" ? StmtKind::Break : StmtKind::Continue;
    } else if (tag == "block" || tag == "extends" || tag == "include" || tag == "import" || tag == "from" ||
               tag == "call" || tag == "autoescape" || tag == "print" || tag == "do") {
      fail(t, "the '" + tag + "' tag is not supported in chat templates");
    } else if (tag.rfind("end", 0) == 0 || tag == "elif" || tag == "else") {
      fail(t, "unexpected '" + tag + "' tag (a nesting mistake?)");
    } else {
      fail(t, "Encountered unknown tag '" + tag + "'");
    }
    return s;
  }

  void parse_if(Stmt& s) {
    s.kind = StmtKind::If;
    for (;;) {
      ExprPtr test = parse_tuple(false, false, {}, false);
      Body body = parse_statements({"elif", "else", "endif"}, false);
      s.branches.emplace_back(std::move(test), std::move(body));
      const std::string which = cur().text;
      advance();
      if (which == "elif") continue;
      if (which == "else") s.else_body = parse_statements({"endif"}, true);
      return;
    }
  }

  void parse_for(Stmt& s) {
    s.kind = StmtKind::For;
    s.target = parse_assign_target(false, {"in"});
    if (!skip_name("in")) fail(cur(), "expected 'in', got " + describe(cur()));
    s.expr = parse_tuple(false, false, {"recursive"}, false);
    if (skip_name("if")) s.condition = parse_expression(true);
    if (is_name("recursive")) fail(cur(), "recursive for loops are not supported");
    ++loop_depth_;
    s.body = parse_statements({"endfor", "else"}, false);
    --loop_depth_;
    const bool has_else = cur().text == "else";
    advance();
    if (has_else) s.else_body = parse_statements({"endfor"}, true);
  }

  void parse_set(Stmt& s) {
    s.target = parse_assign_target(true, {});
    if (skip_op("=")) {
      s.kind = StmtKind::Set;
      s.expr = parse_tuple(false, true, {}, false);
      return;
    }
    s.kind = StmtKind::SetBlock;
    if (s.target.is_tuple) fail(cur(), "a block set needs a single name");
    if (is_op("|")) s.filter = parse_filter(nullptr, false);
    s.body = parse_statements({"endset"}, true);
  }

  void parse_macro(Stmt& s) {
    s.kind = StmtKind::Macro;
    s.text = expect_name();
    expect_op("(");
    while (!is_op(")")) {
      if (!s.params.empty()) expect_op(",");
      s.params.push_back(expect_name());
      if (skip_op("=")) {
        s.defaults.push_back(parse_expression(true));
      } else if (!s.defaults.empty()) {
        fail(cur(), "non-default argument follows default argument");
      }
    }
    expect_op(")");
    const int saved = loop_depth_;
    loop_depth_ = 0;  // a loop outside the macro does not make break/continue valid inside it
    s.body = parse_statements({"endmacro"}, true);
    loop_depth_ = saved;
  }

  void parse_with(Stmt& s) {
    s.kind = StmtKind::With;
    while (cur().type != TokenType::BlockEnd) {
      if (!s.assignments.empty()) expect_op(",");
      Target target = parse_assign_target(false, {});
      expect_op("=");
      s.assignments.emplace_back(std::move(target), parse_expression(true));
    }
    s.body = parse_statements({"endwith"}, true);
  }

  // set/for/with targets: name, `a, b` / `(a, b)`, or (set only) `ns.attr`.
  Target parse_assign_target(bool with_namespace, const std::vector<std::string>& extra_end) {
    Target target;
    if (with_namespace && cur().type == TokenType::Name && look().type == TokenType::Operator && look().text == ".") {
      target.names.push_back(expect_name());
      advance();
      target.attribute = expect_name();
      return target;
    }
    const Token& at = cur();
    ExprPtr e = parse_tuple(true, true, extra_end, false);
    if (e->kind == ExprKind::Name) {
      target.names.push_back(e->name);
      return target;
    }
    if (e->kind == ExprKind::Tuple) {
      target.is_tuple = true;
      for (const auto& item : e->operands) {
        if (item->kind != ExprKind::Name) fail(at, "can only unpack into plain names");
        target.names.push_back(item->name);
      }
      return target;
    }
    fail(at, "can't assign to this expression");
  }

  // ---- expressions ----

  ExprPtr parse_expression(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }

  ExprPtr parse_condexpr() {
    const size_t at = cur().offset;
    ExprPtr expr = parse_or();
    while (skip_name("if")) {
      ExprPtr test = parse_or();
      ExprPtr otherwise = skip_name("else") ? parse_condexpr() : nullptr;
      auto e = make_expr(ExprKind::CondExpr, at);
      e->operands.push_back(std::move(expr));
      e->operands.push_back(std::move(test));
      e->operands.push_back(std::move(otherwise));
      expr = std::move(e);
    }
    return expr;
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (is_name("or")) {
      const size_t at = cur().offset;
      advance();
      left = make_binary(ExprKind::Or, at, std::move(left), parse_and());
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (is_name("and")) {
      const size_t at = cur().offset;
      advance();
      left = make_binary(ExprKind::And, at, std::move(left), parse_not());
    }
    return left;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      Nest nest(*this);
      auto e = make_expr(ExprKind::Not, cur().offset);
      advance();
      e->operands.push_back(parse_not());
      return e;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const size_t at = cur().offset;
    ExprPtr first = parse_math1();
    ExprPtr cmp;
    for (;;) {
      std::string op;
      if (cur().type == TokenType::Operator &&
          (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == "<=" || cur().text == ">" ||
           cur().text == ">=")) {
        op = cur().text;
        advance();
      } else if (skip_name("in")) {
        op = "in";
      } else if (is_name("not") && look().type == TokenType::Name && look().text == "in") {
        advance();
        advance();
        op = "notin";
      } else {
        break;
      }
      if (!cmp) {
        cmp = make_expr(ExprKind::Compare, at);
        cmp->operands.push_back(std::move(first));
      }
      cmp->compare_ops.push_back(op);
      cmp->operands.push_back(parse_math1());
    }
    return cmp ? std::move(cmp) : std::move(first);
  }

  // Left-associative binary operators over `next` (math1: + -, math2: * / // %, pow: **).
  template <class Next>
  ExprPtr parse_binary_ops(std::initializer_list<const char*> ops, Next next) {
    ExprPtr left = (this->*next)();
    for (;;) {
      const char* found = nullptr;
      for (const char* op : ops)
        if (is_op(op)) found = op;
      if (!found) return left;
      const size_t at = cur().offset;
      advance();
      left = make_binary(ExprKind::Binary, at, std::move(left), (this->*next)(), found);
    }
  }

  ExprPtr parse_math1() { return parse_binary_ops({"+", "-"}, &Parser::parse_concat); }
  ExprPtr parse_math2() { return parse_binary_ops({"*", "/", "//", "%"}, &Parser::parse_pow); }
  ExprPtr parse_pow() { return parse_binary_ops({"**"}, &Parser::parse_unary_filtered); }
  ExprPtr parse_unary_filtered() { return parse_unary(true); }

  ExprPtr parse_concat() {
    const size_t at = cur().offset;
    ExprPtr first = parse_math2();
    if (!is_op("~")) return first;
    auto e = make_expr(ExprKind::Concat, at);
    e->operands.push_back(std::move(first));
    while (skip_op("~")) e->operands.push_back(parse_math2());
    return e;
  }

  ExprPtr parse_unary(bool with_filter) {
    Nest nest(*this);
    ExprPtr node;
    if (is_op("-") || is_op("+")) {
      node = make_expr(is_op("-") ? ExprKind::Neg : ExprKind::Pos, cur().offset);
      advance();
      node->operands.push_back(parse_unary(false));
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }

  ExprPtr parse_primary() {
    Nest nest(*this);
    const Token& t = cur();
    if (t.type == TokenType::Name) {
      auto e = make_expr(ExprKind::Const, t.offset);
      if (t.text == "true" || t.text == "True") {
        e->constant = Value(true);
      } else if (t.text == "false" || t.text == "False") {
        e->constant = Value(false);
      } else if (t.text == "none" || t.text == "None") {
        e->constant = Value::none();
      } else {
        e->kind = ExprKind::Name;
        e->name = t.text;
      }
      advance();
      return e;
    }
    if (t.type == TokenType::String) {
      auto e = make_expr(ExprKind::Const, t.offset);
      std::string s;
      while (cur().type == TokenType::String) {  // adjacent literals concatenate
        s += cur().text;
        advance();
      }
      e->constant = Value(std::move(s));
      return e;
    }
    if (t.type == TokenType::Integer || t.type == TokenType::Float) {
      auto e = make_expr(ExprKind::Const, t.offset);
      e->constant = t.type == TokenType::Integer ? Value(t.int_value) : Value(t.float_value);
      advance();
      return e;
    }
    if (is_op("(")) {
      advance();
      ExprPtr e = parse_tuple(false, true, {}, true);
      expect_op(")");
      return e;
    }
    if (is_op("[")) {
      auto e = make_expr(ExprKind::List, t.offset);
      advance();
      while (!is_op("]")) {
        if (!e->operands.empty()) {
          expect_op(",");
          if (is_op("]")) break;
        }
        e->operands.push_back(parse_expression(true));
      }
      expect_op("]");
      return e;
    }
    if (is_op("{")) {
      auto e = make_expr(ExprKind::Dict, t.offset);
      advance();
      while (!is_op("}")) {
        if (!e->operands.empty()) {
          expect_op(",");
          if (is_op("}")) break;
        }
        e->operands.push_back(parse_expression(true));
        expect_op(":");
        e->operands.push_back(parse_expression(true));
      }
      expect_op("}");
      return e;
    }
    fail(t, "unexpected " + describe(t));
  }

  bool is_tuple_end(const std::vector<std::string>& extra_end) const {
    if (cur().type == TokenType::VariableEnd || cur().type == TokenType::BlockEnd || is_op(")")) return true;
    return at_end_tag(extra_end);
  }

  // Comma-separated expressions: a single one stays itself, several (or a trailing comma) form a tuple.
  ExprPtr parse_tuple(bool simplified, bool with_condexpr, const std::vector<std::string>& extra_end,
                      bool explicit_parentheses) {
    const size_t at = cur().offset;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    for (;;) {
      if (!items.empty()) expect_op(",");
      if (is_tuple_end(extra_end)) break;
      items.push_back(simplified ? parse_primary() : parse_expression(with_condexpr));
      if (!is_op(",")) break;
      is_tuple = true;
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parentheses) fail(cur(), "expected an expression, got " + describe(cur()));
    }
    auto e = make_expr(ExprKind::Tuple, at);
    e->operands = std::move(items);
    return e;
  }

  ExprPtr parse_postfix(ExprPtr node) {
    for (;;) {
      if (is_op(".") || is_op("[")) {
        node = parse_subscript(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    for (;;) {
      if (is_op("|")) {
        node = parse_filter(std::move(node), false);
      } else if (is_name("is")) {
        node = parse_test(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr node) {
    const Token& t = cur();
    advance();
    if (t.text == ".") {
      const Token& attr = cur();
      if (attr.type == TokenType::Name) {
        auto e = make_expr(ExprKind::GetAttr, t.offset);
        e->name = attr.text;
        e->operands.push_back(std::move(node));
        advance();
        return e;
      }
      if (attr.type != TokenType::Integer) fail(attr, "expected name or number");
      auto e = make_expr(ExprKind::GetItem, t.offset);
      auto key = make_expr(ExprKind::Const, attr.offset);
      key->constant = Value(attr.int_value);
      e->operands.push_back(std::move(node));
      e->operands.push_back(std::move(key));
      advance();
      return e;
    }
    std::vector<ExprPtr> args;
    while (!is_op("]")) {
      if (!args.empty()) expect_op(",");
      args.push_back(parse_subscribed());
    }
    expect_op("]");
    if (args.size() == 1 && args[0]->kind == ExprKind::Slice) {
      args[0]->operands[0] = std::move(node);
      return std::move(args[0]);
    }
    auto e = make_expr(ExprKind::GetItem, t.offset);
    e->operands.push_back(std::move(node));
    if (args.size() == 1) {
      e->operands.push_back(std::move(args[0]));
    } else {
      auto key = make_expr(ExprKind::Tuple, t.offset);
      for (auto& a : args) {
        if (a->kind == ExprKind::Slice) fail(t, "multi-dimensional slices are not supported");
        key->operands.push_back(std::move(a));
      }
      e->operands.push_back(std::move(key));
    }
    return e;
  }

  // One subscript: an expression, or a slice [start]:[stop][:[step]].
  ExprPtr parse_subscribed() {
    const size_t at = cur().offset;
    ExprPtr start;
    if (!is_op(":")) {
      start = parse_expression(true);
      if (!is_op(":")) return start;
    }
    advance();
    auto e = make_expr(ExprKind::Slice, at);
    e->operands.push_back(nullptr);  // the sliced object, filled in by parse_subscript
    e->operands.push_back(std::move(start));
    e->operands.push_back(!is_op(":") && !is_op("]") && !is_op(",") ? parse_expression(true) : nullptr);
    ExprPtr step;
    if (skip_op(":") && !is_op("]") && !is_op(",")) step = parse_expression(true);
    e->operands.push_back(std::move(step));
    return e;
  }

  void parse_call_args(Expr& e) {
    const Token& open = cur();
    expect_op("(");
    bool need_comma = false;
    auto ensure = [&](bool ok) {
      if (!ok) fail(open, "invalid syntax for function call expression");
    };
    while (!is_op(")")) {
      if (need_comma) {
        expect_op(",");
        if (is_op(")")) break;
      }
      if (skip_op("*")) {
        ensure(!e.star_args && !e.star_kwargs);
        e.star_args = parse_expression(true);
      } else if (skip_op("**")) {
        ensure(!e.star_kwargs);
        e.star_kwargs = parse_expression(true);
      } else if (cur().type == TokenType::Name && look().type == TokenType::Operator && look().text == "=") {
        ensure(!e.star_kwargs);
        std::string key = cur().text;
        advance();
        advance();
        e.kwargs.emplace_back(std::move(key), parse_expression(true));
      } else {
        ensure(!e.star_args && !e.star_kwargs && e.kwargs.empty());
        e.args.push_back(parse_expression(true));
      }
      need_comma = true;
    }
    expect_op(")");
  }

  ExprPtr parse_call(ExprPtr node) {
    auto e = make_expr(ExprKind::Call, cur().offset);
    e->operands.push_back(std::move(node));
    parse_call_args(*e);
    return e;
  }

  std::string parse_dotted_name() {
    std::string name = expect_name();
    while (skip_op(".")) {
      name += '.';
      name += expect_name();
    }
    return name;
  }

  ExprPtr parse_filter(ExprPtr node, bool start_inline) {
    while (is_op("|") || start_inline) {
      if (!start_inline) advance();
      start_inline = false;
      auto e = make_expr(ExprKind::Filter, cur().offset);
      e->name = parse_dotted_name();
      e->operands.push_back(std::move(node));
      if (is_op("(")) parse_call_args(*e);
      node = std::move(e);
    }
    return node;
  }

  ExprPtr parse_test(ExprPtr node) {
    const size_t at = cur().offset;
    advance();  // 'is'
    const bool negated = skip_name("not");
    auto e = make_expr(ExprKind::Test, at);
    e->name = parse_dotted_name();
    e->operands.push_back(std::move(node));
    const Token& t = cur();
    if (is_op("(")) {
      parse_call_args(*e);
    } else if ((t.type == TokenType::Name || t.type == TokenType::String || t.type == TokenType::Integer ||
                t.type == TokenType::Float || is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) fail(t, "You cannot chain multiple tests with is");
      e->args.push_back(parse_postfix(parse_primary()));
    }
    if (!negated) return e;
    auto n = make_expr(ExprKind::Not, at);
    n->operands.push_back(std::move(e));
    return n;
  }
};

}  // namespace

Program parse(const std::vector<Token>& tokens, std::string_view source) { return Parser(tokens, source).run(); }

}  // namespace a3b::jinja
