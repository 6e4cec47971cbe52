// The tokenizer's building blocks: UTF-8 with maximal-subpart replacement, NFC, the JSON cursor, the native
// Qwen pre-tokenizers against PCRE2 running the same regexes.
#include <utf8proc.h>

#include "tokenizer/json_cursor.h"
#include "tokenizer/unicode.h"
#include "tokenizer_random_text.h"
#include "tokenizer_test_util.h"

namespace a3b {
namespace {


std::string fffd(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "\ufffd";
  return s;
}

TEST(Utf8, MaximalSubpartsLikePython) {
  // Expected counts are Python's bytes.decode("utf-8", "replace").
  EXPECT_EQ(test::lossy_utf8("\xe2\x82"), fffd(1));
  EXPECT_EQ(test::lossy_utf8("\xed\xa0\x80"), fffd(3));
  EXPECT_EQ(test::lossy_utf8("\xf0\x80\x80"), fffd(3));
  EXPECT_EQ(test::lossy_utf8("\xc0\xaf"), fffd(2));
  EXPECT_EQ(test::lossy_utf8("\xf4\x90\x80\x80"), fffd(4));
  EXPECT_EQ(test::lossy_utf8("\xf0\x9f\x98"), fffd(1));
  EXPECT_EQ(test::lossy_utf8("a\xe2\x82\xac\x80" "b"), "a\u20ac" + fffd(1) + "b");
  EXPECT_EQ(test::lossy_utf8("\xe0\x80\x80"), fffd(3));
  EXPECT_EQ(test::lossy_utf8("\xf0\x90\x80"), fffd(1));
  EXPECT_EQ(test::lossy_utf8(std::string("a\0b", 3)), std::string("a\0b", 3));
  EXPECT_TRUE(utf8_valid("h\u00e9llo \U0001F600 \u20ac"));
  EXPECT_FALSE(utf8_valid("abcdefgh\xff"));
}

TEST(Utf8, IncompleteTail) {
  EXPECT_EQ(utf8_incomplete_tail("a\xe2\x82"), 2u);
  EXPECT_EQ(utf8_incomplete_tail("a\xe2\x82\xac"), 0u);
  EXPECT_EQ(utf8_incomplete_tail("\xf0\x9f\x98"), 3u);
  EXPECT_EQ(utf8_incomplete_tail("\xf0"), 1u);
  EXPECT_EQ(utf8_incomplete_tail("\x80\x80"), 0u);
  EXPECT_EQ(utf8_incomplete_tail("\xe2\x28"), 0u);
  EXPECT_EQ(utf8_incomplete_tail("\xf0\x80"), 0u);  // F0 80 can never become well-formed
  EXPECT_EQ(utf8_incomplete_tail(""), 0u);
}

TEST(Nfc, QuickCheckNeverSkipsNeededWork) {
  // For every code point: the canonical decomposition, and the code point after a few composing starters. Where
  // the quick check says "already NFC", normalizing must change nothing.
  int skipped = 0;
  for (uint32_t cp = 1; cp < 0x110000; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    if (cp >= 0x31350 && cp < 0xE0000) cp = 0xE0000;  // nothing assigned in between
    std::string c;
    utf8_append(c, cp);
    utf8proc_uint8_t* d = nullptr;
    utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(c.data()), utf8proc_ssize_t(c.size()), &d,
                                      utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE));
    ASSERT_GE(n, 0);
    std::string nfd(reinterpret_cast<char*>(d), size_t(n));
    std::free(d);
    for (const std::string& s : {nfd, "e" + c, "\u1100" + c, "\uAC00" + c, c + "\u0301", c}) {
      if (nfc_quick_check(s)) {
        ++skipped;
        ASSERT_EQ(to_nfc(s), s) << std::hex << cp;
      }
    }
  }
  EXPECT_GT(skipped, 500000);  // the quick check does skip the common case
  EXPECT_FALSE(nfc_quick_check("e\u0301"));
  EXPECT_FALSE(nfc_quick_check("\u1100\u1161"));
  EXPECT_TRUE(nfc_quick_check("plain ascii, \u00e9t\u00e9, \u65e5\u672c"));
  EXPECT_EQ(to_nfc("e\u0301 \u1100\u1161\u11a8 a\u0323\u0302"), "\u00e9 \uac01 \u1ead");
  // U+11A7 is no trailing consonant: HF keeps it (utf8proc alone would drop it).
  EXPECT_EQ(to_nfc("\uac00\u11a7|\uac00\u11a8|\u11a7\u11a7"), "\uac00\u11a7|\uac01|\u11a7\u11a7");
}

TEST(Nfc, PiecewiseNormalizationEqualsWholeText) {
  std::mt19937 rng(3);
  for (int i = 0; i < 20000; ++i) {
    const std::string s = test::random_text(rng, 80);
    std::string out = "junk";
    const bool changed = normalize_nfc(s, out);
    ASSERT_EQ(changed ? out : s, to_nfc(s)) << i;
    if (!changed) {
      ASSERT_EQ(out, "junk");
    }
  }
  const std::string arabic = "مَرْحَبًا é 가x";
  std::string out;
  ASSERT_TRUE(normalize_nfc(arabic, out));
  EXPECT_EQ(out, to_nfc(arabic));
}

TEST(JsonCursor, StringsNumbersAndStructure) {
  std::string text = R"({"a": "x\u00e9\ud83d\ude00\n\"\\\/", "n": -42, "skip": [1, {"k": [true, null, 2.5e3]}, "s"],
                       "b": false, "z": null})";
  JsonCursor c(text, "t.json");
  c.begin_object();
  EXPECT_EQ(c.next_key(), "a");
  EXPECT_EQ(c.string(), "x\u00e9\U0001F600\n\"\\/");
  EXPECT_EQ(c.next_key(), "n");
  EXPECT_EQ(c.integer(), -42);
  EXPECT_EQ(c.next_key(), "skip");
  EXPECT_EQ(c.raw_value(), R"([1, {"k": [true, null, 2.5e3]}, "s"])");
  EXPECT_EQ(c.next_key(), "b");
  EXPECT_FALSE(c.boolean());
  EXPECT_EQ(c.next_key(), "z");
  EXPECT_TRUE(c.null());
  EXPECT_EQ(c.next_key(), std::nullopt);
  c.end();
}

TEST(JsonCursor, ErrorsNameLineAndColumn) {
  std::string text = "{\n  \"a\": x}";
  JsonCursor c(text, "t.json");
  c.begin_object();
  ASSERT_EQ(c.next_key(), "a");
  try {
    c.skip();
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "t.json: invalid JSON at line 2 column 8: expected a value");
  }
  for (std::string bad : {"[1,]", "[1 2]", "{\"a\" 1}", "{\"a\":1,}", "[\"\\u12\"]", "[\"\\ud800\\u0041\"]", "[tru]", "["}) {
    JsonCursor b(bad, "b.json");
    EXPECT_THROW(b.skip(), Error) << bad;
  }
}

std::vector<std::string> pieces(const PreTokenizer& p, const std::string& text) {
  std::vector<Span> spans;
  p.split(text, spans);
  std::vector<std::string> out;
  for (auto s : spans) out.emplace_back(text.substr(s.begin, s.end - s.begin));
  return out;
}

TEST(PreTokenizer, KnownSplits) {
  // Expected pieces are HF tokenizers' (pre_tokenizer.pre_tokenize_str on the Qwen3 / qwen35 files).
  PreTokenizer q2{std::string(kQwen2Regex)}, q35{std::string(kQwen35Regex)};
  using V = std::vector<std::string>;
  EXPECT_EQ(pieces(q2, "Hello world's  end\n\n x"), (V{"Hello", " world", "'s", " ", " end", "\n\n", " x"}));
  EXPECT_EQ(pieces(q2, "'\u017fx"), (V{"'\u017f", "x"}));  // (?i) folds long s to s
  EXPECT_EQ(pieces(q2, "'Sx 'LL"), (V{"'S", "x", " '", "LL"}));
  EXPECT_EQ(pieces(q2, "a\u0085\u0085" "b"), (V{"a", "\u0085", "\u0085" "b"}));  // U+0085 is \s
  EXPECT_EQ(pieces(q2, "a\x1c\x1c" "b"), (V{"a", "\x1c\x1c", "b"}));              // U+001C is not
  EXPECT_EQ(pieces(q2, "ab\r\n\r\n  \tcd"), (V{"ab", "\r\n\r\n", "  ", "\tcd"}));
  EXPECT_EQ(pieces(q2, "x\u0300\u0300y"), (V{"x", "\u0300\u0300", "y"}));
  EXPECT_EQ(pieces(q35, "x\u0300\u0300y"), (V{"x\u0300\u0300y"}));
  EXPECT_EQ(pieces(q2, " \u0300\u0300y"), (V{" \u0300\u0300", "y"}));
  EXPECT_EQ(pieces(q35, " \u0300\u0300y"), (V{" \u0300\u0300y"}));
  EXPECT_EQ(pieces(q2, "1\u0300"), (V{"1", "\u0300"}));
  EXPECT_EQ(pieces(q2, "123 4"), (V{"1", "2", "3", " ", "4"}));
  EXPECT_EQ(pieces(q2, "x = [1];\n"), (V{"x", " =", " [", "1", "];\n"}));
  EXPECT_EQ(pieces(q2, "   "), (V{"   "}));
  EXPECT_EQ(pieces(q2, ""), V{});
}

TEST(PreTokenizer, NativeSplittersAgreeWithPcre2) {
  for (auto regex : {kQwen2Regex, kQwen35Regex}) {
    PreTokenizer native{std::string(regex)};
    PreTokenizer pcre = PreTokenizer::with_pcre2(std::string(regex));
    ASSERT_NE(native.engine(), PreTokenizer::Engine::Pcre2);
    ASSERT_EQ(pcre.engine(), PreTokenizer::Engine::Pcre2);
    std::mt19937 rng(42);
    for (int i = 0; i < 20000; ++i) {
      const std::string text = test::random_text(rng, 40);
      const auto a = pieces(native, text), b = pieces(pcre, text);
      ASSERT_EQ(a, b) << text;
      std::string joined;
      for (auto& p : a) joined += p;
      ASSERT_EQ(joined, text);
    }
  }
}

}  // namespace
}  // namespace a3b
