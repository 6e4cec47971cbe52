#include "tokenizer/load_hf.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/mapped_file.h"
#include "tokenizer/json_cursor.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/utf8.h"

namespace a3b {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int64_t kMaxTokenId = int64_t(1) << 26;

std::string_view text_of(const MappedFile& f) {
  std::string_view text(reinterpret_cast<const char*>(f.data()), f.size());
  if (!utf8_valid(text)) fail(f.path(), ": not valid UTF-8");
  return text;
}

json parse_small(JsonCursor& c, const std::string& where) {
  std::string_view raw = c.raw_value();
  try {
    return json::parse(raw);
  } catch (const json::exception& e) {
    fail(where, ": ", e.what());
  }
}

std::string type_of(const json& j, const std::string& where) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) fail(where, ": expected an object with a \"type\"");
  return j["type"].get<std::string>();
}

bool flag(const json& j, const char* key, bool dflt) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? dflt : it->is_boolean() && it->get<bool>();
}

Normalization read_normalizer(const json& j, const std::string& where) {
  if (j.is_null()) return Normalization::None;
  const std::string type = type_of(j, where);
  if (type == "NFC") return Normalization::NFC;
  if (type == "Sequence" && j.contains("normalizers") && j["normalizers"].is_array()) {
    Normalization n = Normalization::None;
    for (const json& sub : j["normalizers"])
      if (read_normalizer(sub, where) == Normalization::NFC) n = Normalization::NFC;
    return n;
  }
  fail(where, ": normalizer \"", type, "\" is not supported (only NFC)");
}

void check_byte_level(const json& j, const std::string& where) {
  if (flag(j, "add_prefix_space", false)) fail(where, ": ByteLevel with add_prefix_space=true is not supported");
}

// The regex of a byte-level pre-tokenizer: Sequence[Split(regex, Isolated), ByteLevel(use_regex=false)], or
// ByteLevel(use_regex=true), which is GPT-2's regex.
std::string read_pre_tokenizer(const json& j, const std::string& where) {
  if (j.is_null()) fail(where, ": a pre_tokenizer is required (byte-level BPE)");
  const std::string type = type_of(j, where);
  if (type == "ByteLevel") {
    check_byte_level(j, where);
    if (!flag(j, "use_regex", true)) fail(where, ": ByteLevel without a regex split is not supported");
    return std::string(kGpt2Regex);
  }
  if (type != "Sequence" || !j.contains("pretokenizers") || !j["pretokenizers"].is_array())
    fail(where, ": pre_tokenizer \"", type, "\" is not supported (Split + ByteLevel, or ByteLevel)");
  const json& seq = j["pretokenizers"];
  if (seq.size() != 2 || type_of(seq[0], where) != "Split" || type_of(seq[1], where) != "ByteLevel")
    fail(where, ": pre_tokenizer Sequence must be [Split, ByteLevel]");
  const json& split = seq[0];
  check_byte_level(seq[1], where);
  if (flag(seq[1], "use_regex", true)) fail(where, ": ByteLevel after Split must have use_regex=false");
  if (split.value("behavior", "") != "Isolated" || flag(split, "invert", false))
    fail(where, ": Split must have behavior Isolated and invert false");
  const json* pattern = split.contains("pattern") ? &split["pattern"] : nullptr;
  if (!pattern || !pattern->contains("Regex") || !(*pattern)["Regex"].is_string())
    fail(where, ": Split pattern must be {\"Regex\": ...}");
  return (*pattern)["Regex"].get<std::string>();
}

void check_decoder(const json& j, const std::string& where) {
  if (!j.is_null() && type_of(j, where) == "ByteLevel") return;
  if (!j.is_null() && type_of(j, where) == "Sequence" && j.contains("decoders") && j["decoders"].size() == 1)
    return check_decoder(j["decoders"][0], where);
  fail(where, ": decoder must be ByteLevel");
}

// Reads {"token": id, ...} into tokens[id].
void read_vocab(JsonCursor& c, std::vector<std::string>& tokens) {
  tokens.reserve(1 << 18);
  c.begin_object();
  while (auto key = c.next_key()) {
    const std::string_view token = *key;
    const int64_t id = c.integer();
    if (id < 0 || id >= kMaxTokenId) c.error(cat("token id ", id, " out of range"));
    if (size_t(id) >= tokens.size()) tokens.resize(size_t(id) + 1);
    if (!tokens[size_t(id)].empty()) c.error(cat("token id ", id, " appears twice"));
    if (token.empty()) c.error("empty token");
    tokens[size_t(id)] = token;
  }
}

// Merges are "left right" strings (older files) or ["left", "right"] pairs.
void read_merges(JsonCursor& c, std::vector<std::array<std::string, 2>>& merges) {
  merges.reserve(1 << 18);
  c.begin_array();
  while (c.next_element()) {
    if (c.peek() == JsonCursor::Kind::String) {
      const std::string_view m = c.string();
      const size_t space = m.find(' ');
      if (space == std::string_view::npos) c.error(cat("merge ", merges.size(), " is not \"left right\""));
      merges.push_back({std::string(m.substr(0, space)), std::string(m.substr(space + 1))});
      continue;
    }
    std::array<std::string, 2> pair;
    c.begin_array();
    for (auto& side : pair) {
      if (!c.next_element()) c.error(cat("merge ", merges.size(), " is not a pair"));
      side = c.string();
    }
    if (c.next_element()) c.error(cat("merge ", merges.size(), " is not a pair"));
    merges.push_back(std::move(pair));
  }
}

void read_model(JsonCursor& c, TokenizerSpec& spec) {
  const std::string& where = spec.source;
  c.begin_object();
  while (auto key = c.next_key()) {
    if (*key == "type") {
      if (c.string() != "BPE") fail(where, ": model type must be BPE");
    } else if (*key == "vocab") {
      read_vocab(c, spec.tokens);
    } else if (*key == "merges") {
      read_merges(c, spec.merges);
    } else if (*key == "unk_token") {
      if (!c.null()) spec.unk_token = std::string(c.string());
    } else if (*key == "fuse_unk") {
      spec.fuse_unk = c.null() ? false : c.boolean();
    } else if (*key == "ignore_merges") {
      spec.ignore_merges = c.null() ? false : c.boolean();
    } else if (*key == "byte_fallback") {
      if (!c.null() && c.boolean()) fail(where, ": model.byte_fallback=true is not supported");
    } else if (*key == "dropout") {
      const json d = parse_small(c, where);
      if (!d.is_null() && (!d.is_number() || d.get<double>() != 0)) fail(where, ": model.dropout is not supported");
    } else if (*key == "continuing_subword_prefix" || *key == "end_of_word_suffix") {
      const std::string k(*key);
      if (!c.null() && !c.string().empty()) fail(where, ": model.", k, " is not supported");
    } else {
      c.skip();
    }
  }
}

std::vector<AddedToken> read_added_tokens(JsonCursor& c) {
  std::vector<AddedToken> out;
  c.begin_array();
  while (c.next_element()) {
    AddedToken a;  // id left unset: HF assigns it (see AddedToken::id)
    bool has_content = false;
    c.begin_object();
    while (auto key = c.next_key()) {
      if (*key == "content") a.content = c.string(), has_content = true;
      else if (*key == "special") a.special = c.boolean();
      else if (*key == "lstrip") a.lstrip = c.boolean();
      else if (*key == "rstrip") a.rstrip = c.boolean();
      else if (*key == "normalized") a.normalized = c.boolean();
      else if (*key == "single_word") a.single_word = c.boolean();
      else c.skip();
    }
    if (!has_content) c.error("added token without content");
    out.push_back(std::move(a));
  }
  return out;
}

std::string read_text_file(const std::string& path) {
  MappedFile f(path);
  return std::string(text_of(f));
}

std::optional<std::string> token_content(const json& cfg, const char* key, const std::string& where) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) return (*it)["content"].get<std::string>();
  fail(where, ": ", key, " must be a string or {\"content\": ...}");
}

}  // namespace

TokenizerSpec load_tokenizer_json(const std::string& path) {
  MappedFile file(path);
  TokenizerSpec spec;
  spec.source = path;
  JsonCursor c(text_of(file), path);
  bool has_model = false, has_pre = false, has_decoder = false;
  c.begin_object();
  while (auto key = c.next_key()) {
    if (*key == "added_tokens") {
      if (!c.null()) spec.added_tokens = read_added_tokens(c);
    } else if (*key == "normalizer") {
      spec.normalization = read_normalizer(parse_small(c, path), path + ": normalizer");
    } else if (*key == "pre_tokenizer") {
      spec.pre_tokenizer_regex = read_pre_tokenizer(parse_small(c, path), path + ": pre_tokenizer");
      has_pre = true;
    } else if (*key == "decoder") {
      check_decoder(parse_small(c, path), path + ": decoder");
      has_decoder = true;
    } else if (*key == "model") {
      read_model(c, spec);
      has_model = true;
    } else {
      c.skip();
    }
  }
  c.end();
  if (!has_model) fail(path, ": no \"model\"");
  if (!has_pre) fail(path, ": no \"pre_tokenizer\"");
  if (!has_decoder) fail(path, ": no \"decoder\"");
  if (spec.tokens.empty()) fail(path, ": model.vocab is empty");
  return spec;
}

TokenizerSpec load_vocab_and_merges(const std::string& folder) {
  const fs::path dir(folder);
  TokenizerSpec spec;
  spec.source = folder;
  {
    const std::string path = (dir / "vocab.json").string();
    MappedFile file(path);
    JsonCursor c(text_of(file), path);
    read_vocab(c, spec.tokens);
    c.end();
  }
  const std::string merges_path = (dir / "merges.txt").string();
  std::string_view merges_text;
  MappedFile merges_file(merges_path);
  merges_text = text_of(merges_file);
  size_t line_no = 0;
  for (size_t pos = 0; pos < merges_text.size();) {
    size_t end = merges_text.find('\n', pos);
    if (end == std::string_view::npos) end = merges_text.size();
    std::string_view line = merges_text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.starts_with("#version")) continue;
    const size_t space = line.find(' ');
    if (space == std::string_view::npos || line.find(' ', space + 1) != std::string_view::npos)
      fail(merges_path, ":", line_no, ": expected \"left right\"");
    spec.merges.push_back({std::string(line.substr(0, space)), std::string(line.substr(space + 1))});
  }

  // These files name no normalizer or regex; transformers' tokenizer class supplies them. Qwen3.5/3.6 models
  // (model_type qwen3_5*) use the qwen35 regex, Qwen2Tokenizer the Qwen2 regex, both with NFC; GPT2Tokenizer
  // uses GPT-2's regex without normalization. Anything else gets the qwen35 setup, this project's model family.
  std::string model_type, tokenizer_class;
  auto read_string = [](const fs::path& p, const char* key) -> std::string {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) return {};
    try {
      json j = json::parse(read_text_file(p.string()));
      if (j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
    } catch (const json::exception& e) {
      fail(p.string(), ": ", e.what());
    }
    return {};
  };
  model_type = read_string(dir / "config.json", "model_type");
  tokenizer_class = read_string(dir / "tokenizer_config.json", "tokenizer_class");
  spec.normalization = Normalization::NFC;
  spec.pre_tokenizer_regex = std::string(kQwen35Regex);
  if (!model_type.starts_with("qwen3_5")) {
    if (tokenizer_class.starts_with("Qwen2Tokenizer")) {
      spec.pre_tokenizer_regex = std::string(kQwen2Regex);
    } else if (tokenizer_class.starts_with("GPT2Tokenizer")) {
      spec.pre_tokenizer_regex = std::string(kGpt2Regex);
      spec.normalization = Normalization::None;
    }
  }
  return spec;
}

void apply_tokenizer_config(TokenizerSpec& spec, const std::string& path) {
  json cfg;
  try {
    cfg = json::parse(read_text_file(path));
  } catch (const json::exception& e) {
    fail(path, ": ", e.what());
  }
  if (!cfg.is_object()) fail(path, ": expected a JSON object");
  if (auto it = cfg.find("added_tokens_decoder"); it != cfg.end() && !it->is_null()) {
    if (!it->is_object()) fail(path, ": added_tokens_decoder must be an object");
    for (auto& [key, v] : it->items()) {
      size_t used = 0;
      long long id = -1;
      try {
        id = std::stoll(key, &used);
      } catch (...) {
      }
      if (used != key.size() || id < 0 || id >= kMaxTokenId) fail(path, ": added_tokens_decoder key '", key, "' is not a token id");
      if (!v.is_object() || !v.contains("content") || !v["content"].is_string())
        fail(path, ": added_tokens_decoder[", key, "] needs a string \"content\"");
      AddedToken a;
      a.id = int32_t(id);
      a.content = v["content"].get<std::string>();
      a.special = flag(v, "special", false);
      a.lstrip = flag(v, "lstrip", false);
      a.rstrip = flag(v, "rstrip", false);
      a.normalized = flag(v, "normalized", false);
      a.single_word = flag(v, "single_word", false);
      // tokenizer.json is authoritative for tokens it lists; the config only adds what it lacks.
      bool known = false;
      for (const AddedToken& t : spec.added_tokens) known = known || t.content == a.content;
      if (!known) spec.added_tokens.push_back(std::move(a));
    }
  }
  spec.bos_token = token_content(cfg, "bos_token", path);
  spec.eos_token = token_content(cfg, "eos_token", path);
  spec.pad_token = token_content(cfg, "pad_token", path);
  if (auto it = cfg.find("chat_template"); it != cfg.end() && !it->is_null()) {
    if (it->is_string()) {
      spec.chat_template = it->get<std::string>();
    } else if (it->is_array()) {  // [{"name": ..., "template": ...}]: the default one
      for (const json& t : *it)
        if (t.is_object() && t.value("name", "") == "default" && t.contains("template") && t["template"].is_string())
          spec.chat_template = t["template"].get<std::string>();
      if (!spec.chat_template) fail(path, ": chat_template list has no \"default\" entry");
    } else {
      fail(path, ": chat_template must be a string or a list of {name, template}");
    }
  }
}

TokenizerSpec load_hf_tokenizer(const std::string& path) {
  std::error_code ec;
  fs::path dir;
  TokenizerSpec spec;
  if (fs::is_directory(path, ec)) {
    dir = path;
    if (fs::is_regular_file(dir / "tokenizer.json", ec)) spec = load_tokenizer_json((dir / "tokenizer.json").string());
    else if (fs::is_regular_file(dir / "vocab.json", ec) && fs::is_regular_file(dir / "merges.txt", ec))
      spec = load_vocab_and_merges(path);
    else
      fail(path, ": no tokenizer in this folder (tokenizer.json, or vocab.json + merges.txt)");
  } else if (fs::exists(path, ec)) {
    dir = fs::path(path).parent_path();
    spec = load_tokenizer_json(path);
  } else {
    fail(path, ": no such file or folder");
  }
  if (dir.empty()) dir = ".";
  if (fs::is_regular_file(dir / "tokenizer_config.json", ec))
    apply_tokenizer_config(spec, (dir / "tokenizer_config.json").string());
  if (fs::is_regular_file(dir / "chat_template.jinja", ec))
    spec.chat_template = read_text_file((dir / "chat_template.jinja").string());
  return spec;
}

}  // namespace a3b
