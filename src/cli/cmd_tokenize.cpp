// a3b tokenize: text on stdin -> token ids on stdout (or back with --decode).
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace a3b {
namespace {

struct TokenizeArgs {
  std::string tokenizer;
  bool decode = false;
  bool no_special = false;
  bool skip_special = false;
  bool jsonl = false;
};

std::string read_stdin() {
  std::string all;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) all.append(buf, n);
  if (std::ferror(stdin)) fail("cannot read stdin");
  return all;
}

void write(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

std::string ids_line(const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) (s += i ? " " : "") += std::to_string(ids[i]);
  return s + "\n";
}

std::vector<int32_t> parse_ids(std::string_view text, size_t line) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ' || text[i] == ',' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && !std::strchr(" ,\t\n\r", text[j])) ++j;
    const std::string word(text.substr(i, j - i));
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(word, &used);
    } catch (...) {
      used = 0;
    }
    if (used != word.size() || v < INT32_MIN || v > INT32_MAX)
      fail("stdin", line ? cat(" line ", line) : std::string(), ": '", word, "' is not a token id");
    ids.push_back(int32_t(v));
    i = j;
  }
  return ids;
}

void run_tokenize(const TokenizeArgs& a) {
  const Tokenizer tok = Tokenizer::load(a.tokenizer);
  const std::string input = read_stdin();
  if (!a.jsonl) {
    if (a.decode) write(tok.decode(parse_ids(input, 0), a.skip_special));
    else write(ids_line(tok.encode(input, !a.no_special)));
    return;
  }
  // One item per line: JSON strings in, id lines out (or the reverse with --decode).
  size_t line_no = 0;
  for (size_t pos = 0; pos < input.size();) {
    size_t end = input.find('\n', pos);
    if (end == std::string::npos) end = input.size();
    const std::string_view line(input.data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (a.decode) {
      write(nlohmann::json(tok.decode(parse_ids(line, line_no), a.skip_special)).dump() + "\n");
      continue;
    }
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      fail("stdin line ", line_no, ": ", e.what());
    }
    if (!j.is_string()) fail("stdin line ", line_no, ": expected a JSON string");
    write(ids_line(tok.encode(j.get<std::string>(), !a.no_special)));
  }
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Text on stdin to token ids on stdout (or back with --decode)");
  cmd->add_option("--tokenizer", args->tokenizer, "tokenizer.json, or a model folder")->required();
  cmd->add_flag("--decode", args->decode, "Read token ids, write the text");
  cmd->add_flag("--no-special", args->no_special, "Encode special added tokens as plain text");
  cmd->add_flag("--skip-special", args->skip_special, "Decode without the special added tokens");
  cmd->add_flag("--jsonl", args->jsonl,
                "One item per line: JSON strings in and id lines out (with --decode: id lines in, JSON strings out)");
  cmd->callback([args] { run_tokenize(*args); });
}

}  // namespace a3b
