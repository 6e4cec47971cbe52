#include "chat/chat_parser.h"

#include <random>

#include "chat/tool_calls.h"

namespace a3b {
namespace {

constexpr std::string_view kThinkOpen = "<think>";
constexpr std::string_view kThinkClose = "</think>";
constexpr std::string_view kToolCallOpen = "<tool_call>";
constexpr std::string_view kToolCallClose = "</tool_call>";
constexpr std::string_view kFunctionOpen = "<function=";
constexpr std::string_view kFunctionClose = "</function>";
// After this many unterminated or malformed call blocks at the end of output, the rest is kept as
// text without looking for further calls (bounds the work on pathological output).
constexpr int kMaxFallbacks = 16;

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t skip_ws(std::string_view s, size_t p) {
  while (p < s.size() && is_ws(s[p])) ++p;
  return p;
}

// s is a proper, non-empty prefix of tag.
bool is_partial(std::string_view s, std::string_view tag) { return !s.empty() && s.size() < tag.size() && tag.substr(0, s.size()) == s; }

// Largest end <= n that does not cut a UTF-8 character in two.
size_t utf8_safe_end(std::string_view s, size_t n) {
  for (size_t k = 1; k <= 3 && k <= n; ++k) {
    const auto b = static_cast<unsigned char>(s[n - k]);
    if ((b & 0xC0) == 0x80) continue;  // continuation byte: look further back
    if (b >= 0xC0) {
      const size_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
      if (k < len) return n - k;
    }
    break;
  }
  return n;
}

std::string random_call_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string id = "call_";
  for (int i = 0; i < 24; ++i) id += hex[rng() & 15];
  return id;
}

}  // namespace

bool prompt_opens_reasoning(std::string_view prompt) {
  const size_t open = prompt.rfind(kThinkOpen);
  if (open == std::string_view::npos) return false;
  return skip_ws(prompt, open + kThinkOpen.size()) == prompt.size();
}

ChatOutputParser::ChatOutputParser(ParserOptions options) : options_(std::move(options)) {
  if (!options_.new_call_id) options_.new_call_id = random_call_id;
  mode_ = options_.enable_reasoning && options_.starts_in_reasoning ? Mode::Reasoning : Mode::Content;
}

ChatDelta ChatOutputParser::push(std::string_view text) {
  ChatDelta out;
  if (finished_) return out;
  pending_ += text;
  run(out, false);
  return out;
}

ChatDelta ChatOutputParser::finish() {
  ChatDelta out;
  if (finished_) return out;
  run(out, true);
  end_segment(reasoning_);
  end_segment(content_);
  finished_ = true;
  return out;
}

void ChatOutputParser::run(ChatDelta& out, bool final) {
  for (;;) {
    bool progressed = false;
    switch (mode_) {
      case Mode::Reasoning:
      case Mode::Content: progressed = step_text(out, final); break;
      case Mode::CallOpen: progressed = step_call_open(out, final); break;
      case Mode::CallBody: progressed = step_call_body(out, final); break;
    }
    if (!progressed) return;
  }
}

void ChatOutputParser::emit(Segment& seg, std::string_view text, ChatDelta& out) {
  size_t b = 0;
  if (seg.skip_leading) {
    b = skip_ws(text, 0);
    if (b == text.size()) return;
    seg.skip_leading = false;
  }
  size_t e = text.size();
  while (e > b && is_ws(text[e - 1])) --e;
  if (e == b) {
    seg.held_space += text.substr(b);
    return;
  }
  std::string piece = std::move(seg.held_space);
  piece += text.substr(b, e - b);
  seg.held_space = std::string(text.substr(e));
  result_.*seg.field += piece;
  out.*seg.delta_field += piece;
  at_output_start_ = false;
}

void ChatOutputParser::emit_call(const std::string& name, const std::string& arguments, ChatDelta& out) {
  ToolCall call{options_.new_call_id(), name, arguments};
  out.tool_calls.push_back(ToolCallDelta{int(result_.tool_calls.size()), call.id, call.name, call.arguments});
  result_.tool_calls.push_back(std::move(call));
  at_output_start_ = false;
}

void ChatOutputParser::start_call(std::string_view opener, bool wrapped, Mode origin) {
  call_ = std::string(opener);
  call_wrapped_ = wrapped;
  call_scanned_ = 0;
  origin_ = origin;
  at_output_start_ = false;
  mode_ = wrapped ? Mode::CallOpen : Mode::CallBody;
}

// Reasoning or content text: emit up to the next tag that matters here, then act on the tag.
bool ChatOutputParser::step_text(ChatDelta& out, bool final) {
  const bool reasoning = mode_ == Mode::Reasoning;
  Segment& seg = reasoning ? reasoning_ : content_;
  if (!reasoning && swallow_close_) {  // a bare <function=...> call may still be followed by </tool_call>
    const size_t w = skip_ws(pending_, 0);
    if (std::string_view(pending_).substr(w).substr(0, kToolCallClose.size()) == kToolCallClose) {
      pending_.erase(0, w + kToolCallClose.size());
      swallow_close_ = false;
      return true;
    }
    if (!final && (w == pending_.size() || is_partial(std::string_view(pending_).substr(w), kToolCallClose))) return false;
    swallow_close_ = false;
  }

  std::vector<std::string_view> tags;
  if (reasoning) {
    tags.push_back(kThinkClose);
    if (seg.skip_leading) tags.push_back(kThinkOpen);  // a <think> the model repeats at the start
  } else if (options_.enable_reasoning && at_output_start_) {
    tags.push_back(kThinkOpen);
  }
  if (options_.parse_tool_calls) {
    tags.push_back(kToolCallOpen);
    if (!reasoning) tags.push_back(kFunctionOpen);
  }

  // Earliest tag; a bare <function= counts only at the start of a line, <think> only before any text.
  size_t found = std::string::npos;
  std::string_view found_tag;
  for (std::string_view tag : tags) {
    for (size_t p = pending_.find(tag); p != std::string::npos && p < found; p = pending_.find(tag, p + 1)) {
      if (tag == kFunctionOpen && !(p > 0 ? pending_[p - 1] == '\n' : content_.skip_leading || last_char_ == '\n'))
        continue;
      if (tag == kThinkOpen && skip_ws(pending_, 0) < p) break;
      found = p;
      found_tag = tag;
      break;
    }
  }
  if (found == std::string::npos) {
    size_t keep = 0;
    if (!final) {
      for (std::string_view tag : tags)
        for (size_t k = std::min(tag.size() - 1, pending_.size()); k > keep; --k)
          if (std::string_view(pending_).substr(pending_.size() - k) == tag.substr(0, k)) {
            keep = k;
            break;
          }
    }
    size_t n = pending_.size() - keep;
    if (!final) n = utf8_safe_end(pending_, n);
    if (n == 0) return false;
    emit(seg, std::string_view(pending_).substr(0, n), out);
    last_char_ = pending_[n - 1];
    pending_.erase(0, n);
    return final && !pending_.empty();
  }

  emit(seg, std::string_view(pending_).substr(0, found), out);
  pending_.erase(0, found + found_tag.size());
  last_char_ = found_tag.back();
  if (found_tag == kThinkClose) {
    end_segment(reasoning_);
    mode_ = Mode::Content;
    at_output_start_ = false;
  } else if (found_tag == kThinkOpen) {
    at_output_start_ = false;
    mode_ = Mode::Reasoning;
  } else if (found_tag == kToolCallOpen) {
    start_call(kToolCallOpen, true, mode_);
  } else {
    start_call(kFunctionOpen, false, Mode::Content);
  }
  return true;
}

// After <tool_call>: a call if <function= (or, in content, a JSON object) follows; else plain text.
bool ChatOutputParser::step_call_open(ChatDelta& out, bool final) {
  const size_t w = skip_ws(pending_, 0);
  const std::string_view rest = std::string_view(pending_).substr(w);
  const bool xml = rest.substr(0, kFunctionOpen.size()) == kFunctionOpen;
  const bool json = origin_ == Mode::Content && !rest.empty() && rest[0] == '{';
  if (xml || json) {
    // A call ends reasoning. Content whitespace before it stays held: it is dropped at the end, or
    // kept as the separator if content resumes after the call.
    if (origin_ == Mode::Reasoning) end_segment(reasoning_);
    origin_ = Mode::Content;
    mode_ = Mode::CallBody;
    return true;
  }
  if (!final && (rest.empty() || is_partial(rest, kFunctionOpen))) return false;
  mode_ = origin_;
  emit(origin_ == Mode::Reasoning ? reasoning_ : content_, call_, out);
  call_.clear();
  return true;
}

// Inside a call: collect text until a closing tag at which the block parses as one call.
bool ChatOutputParser::step_call_body(ChatDelta& out, bool final) {
  call_ += pending_;
  if (!pending_.empty()) last_char_ = pending_.back();
  pending_.clear();
  const std::string_view close = call_wrapped_ ? kToolCallClose : kFunctionClose;
  auto accept = [&](const ParsedCall& call, size_t end) {
    pending_ = call_.substr(end);
    call_.clear();
    emit_call(call.name, call.arguments, out);
    mode_ = Mode::Content;
    content_.skip_leading = true;
    swallow_close_ = !call_wrapped_;
    return true;
  };
  const size_t from = call_scanned_ >= close.size() ? call_scanned_ - close.size() + 1 : 0;
  for (size_t at = call_.find(close, from); at != std::string::npos; at = call_.find(close, at + 1)) {
    const size_t end = at + close.size();
    if (auto call = parse_tool_call_block(std::string_view(call_).substr(0, end), call_wrapped_, true, options_.tools))
      return accept(*call, end);
  }
  call_scanned_ = call_.size();
  if (!final) return false;
  // End of output: accept a call that only lacks its </tool_call>; otherwise the block is text:
  // its opening tag goes to content and the rest is read again (it may hold a well-formed call).
  if (auto call = parse_tool_call_block(call_, call_wrapped_, false, options_.tools)) return accept(*call, call_.size());
  mode_ = Mode::Content;
  const size_t opener = call_wrapped_ ? kToolCallOpen.size() : kFunctionOpen.size();
  if (++fallbacks_ > kMaxFallbacks) options_.parse_tool_calls = false;
  emit(content_, std::string_view(call_).substr(0, opener), out);
  pending_ = call_.substr(opener);
  last_char_ = call_[opener - 1];
  call_.clear();
  return true;
}

}  // namespace a3b
