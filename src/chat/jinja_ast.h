// Syntax tree of a Jinja template: expressions and statements as jinja2/parser.py builds them.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_value.h"

namespace a3b::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class ExprKind {
  Const,     // constant
  Name,      // name
  List,      // operands = items
  Tuple,     // operands = items
  Dict,      // operands = key0, value0, key1, value1, ...
  GetAttr,   // operands[0].name
  GetItem,   // operands[0][operands[1]]
  Slice,     // operands[0][operands[1]:operands[2]:operands[3]], absent parts are null
  Call,      // operands[0](args, kwargs)
  Filter,    // operands[0] | name(args, kwargs); operands[0] is null inside `{% filter %}`/`{% set x | f %}`
  Test,      // operands[0] is name(args, kwargs)
  Neg,       // -operands[0]
  Pos,       // +operands[0]
  Not,       // not operands[0]
  Binary,    // operands[0] name operands[1], name one of + - * / // % **
  Compare,   // operands[0] compare_ops[0] operands[1] compare_ops[1] operands[2] ... (chained)
  And,       // operands[0] and operands[1]
  Or,        // operands[0] or operands[1]
  Concat,    // operands joined with ~
  CondExpr,  // operands[0] if operands[1] else operands[2] (operands[2] null: undefined)
};

struct Expr {
  ExprKind kind;
  size_t offset = 0;  // source position for error messages
  Value constant;
  std::string name;
  std::vector<ExprPtr> operands;
  std::vector<std::string> compare_ops;  // ==, !=, <, <=, >, >=, in, notin
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  ExprPtr star_args, star_kwargs;  // f(*a, **k)
};

// Left-hand side of set/for/with: a name, a tuple of names, or namespace attribute `ns.attr`.
struct Target {
  std::vector<std::string> names;
  bool is_tuple = false;
  std::string attribute;  // non-empty: assign names[0].attribute
};

enum class StmtKind { Output, Print, If, For, Set, SetBlock, Macro, FilterBlock, With, Break, Continue, Block };

struct Stmt {
  StmtKind kind;
  size_t offset = 0;
  std::string text;  // Output: the template data; Macro: its name
  ExprPtr expr;      // Print: value; Set: value; For: the iterable; For: `if` filter in `condition`
  ExprPtr condition;
  std::vector<std::pair<ExprPtr, Body>> branches;  // If: (test, body) for if and each elif
  Target target;                                   // Set, SetBlock, For
  Body body;                                       // For, SetBlock, Macro, FilterBlock, With, Block
  Body else_body;                                  // If, For
  std::vector<std::string> params;                 // Macro parameters
  std::vector<ExprPtr> defaults;                   // Macro defaults, for the last params
  ExprPtr filter;                                  // SetBlock, FilterBlock: a Filter chain whose innermost value is null
  std::vector<std::pair<Target, ExprPtr>> assignments;  // With
};

struct Program {
  Body body;
};

}  // namespace a3b::jinja
