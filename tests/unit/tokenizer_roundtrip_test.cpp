// Encoding against golden ids from HF tokenizers, round trips, the streaming decoder, invalid UTF-8.
#include <atomic>
#include <thread>

#include "tokenizer/unicode.h"
#include "tokenizer_random_text.h"
#include "tokenizer_test_util.h"

namespace a3b {
namespace {

using Ids = std::vector<int32_t>;


const Tokenizer& mini() {
  static const Tokenizer t = Tokenizer::load(test::mini_dir());
  return t;
}

// Streams ids one by one; every piece must be well-formed UTF-8 and the whole must equal decode().
void expect_stream_matches_decode(const Tokenizer& t, const Ids& ids, bool skip_special) {
  StreamDecoder stream(t, skip_special);
  std::string streamed;
  for (int32_t id : ids) {
    std::string piece = stream.push(id);
    ASSERT_TRUE(utf8_valid(piece));
    streamed += piece;
  }
  streamed += stream.flush();
  EXPECT_EQ(streamed, t.decode(ids, skip_special));
  EXPECT_EQ(stream.flush(), "");
}

TEST(TokenizerGolden, MiniTokenizerMatchesHuggingFace) {
  const auto golden = test::mini_golden();
  ASSERT_GE(golden.size(), 200u);
  for (const auto& g : golden) {
    const std::string text = g["text"].get<std::string>();
    const Ids ids = mini().encode(text);
    EXPECT_EQ(ids, g["ids"].get<Ids>()) << text;
    EXPECT_EQ(mini().encode(text, false), g["ids_no_special"].get<Ids>()) << text;
    EXPECT_EQ(mini().decode(ids), g["decoded"].get<std::string>()) << text;
    EXPECT_EQ(mini().decode(ids, true), g["decoded_skip_special"].get<std::string>()) << text;
  }
}

TEST(TokenizerRoundTrip, EmptyInput) {
  EXPECT_EQ(mini().encode(""), Ids{});
  EXPECT_EQ(mini().encode("", false), Ids{});
  EXPECT_EQ(mini().decode(Ids{}), "");
  StreamDecoder s(mini());
  EXPECT_EQ(s.flush(), "");
}

TEST(TokenizerRoundTrip, AllByteTokens) {
  std::string all_bytes;
  Ids byte_ids;
  for (int b = 0; b < 256; ++b) {
    const std::string byte(1, char(b));
    const auto id = mini().token_id(test::spell(byte));
    ASSERT_TRUE(id) << b;
    EXPECT_EQ(mini().token_text(*id), byte);
    EXPECT_EQ(mini().decode(Ids{*id}), test::lossy_utf8(byte));
    if (b < 0x80) {
      EXPECT_EQ(mini().encode(byte), Ids{*id});
    } else {
      EXPECT_EQ(mini().encode(byte), mini().encode("\ufffd"));  // a lone byte >= 0x80 is ill-formed input
    }
    all_bytes += byte;
    byte_ids.push_back(*id);
  }
  EXPECT_EQ(mini().decode(byte_ids), test::lossy_utf8(all_bytes));
  // Every code point U+0000..U+00FF as text: its bytes go through the byte alphabet and back.
  std::string latin1;
  for (uint32_t cp = 0; cp < 256; ++cp) utf8_append(latin1, cp);
  EXPECT_EQ(mini().decode(mini().encode(latin1)), latin1);
  // Multi-byte characters split into byte tokens reassemble.
  Ids euro;
  for (char c : std::string("\u20ac")) euro.push_back(mini().token_id(test::spell(std::string(1, c))).value());
  EXPECT_EQ(mini().decode(euro), "\u20ac");
}

TEST(TokenizerRoundTrip, DecodeEncodeIsNfcOnRandomText) {
  std::mt19937 rng(1234);
  for (int i = 0; i < 3000; ++i) {
    const std::string text = test::random_text(rng, 60);
    const Ids ids = mini().encode(text);
    ASSERT_EQ(mini().decode(ids), to_nfc(text)) << i;
    expect_stream_matches_decode(mini(), ids, false);
    expect_stream_matches_decode(mini(), ids, true);
  }
}

TEST(TokenizerRoundTrip, DecodeEncodeIsNfcOnGoldenTexts) {
  for (const auto& g : test::mini_golden()) {
    const std::string text = g["text"].get<std::string>();
    EXPECT_EQ(mini().decode(mini().encode(text)), to_nfc(text));
    EXPECT_EQ(mini().decode(mini().encode(text, false)), to_nfc(text));
  }
}

TEST(TokenizerStream, EveryChunkingOfIdsGivesTheSameText) {
  // Ids that split multi-byte characters across tokens, ill-formed sequences, unknown ids and special tokens.
  std::mt19937 rng(99);
  const int32_t im_end = mini().token_id("<|im_end|>").value();
  for (int i = 0; i < 2000; ++i) {
    Ids ids(rng() % 12);
    for (int32_t& id : ids) id = rng() % 8 == 0 ? im_end : int32_t(rng() % 300);
    if (rng() % 10 == 0) ids.push_back(int32_t(mini().vocab_size() + 3));
    const std::string whole = mini().decode(ids);
    // Every split point of the ids into two pushes-in-sequence, with a flush only at the very end.
    for (size_t cut = 0; cut <= ids.size(); ++cut) {
      StreamDecoder s(mini());
      std::string out;
      for (size_t k = 0; k < cut; ++k) out += s.push(ids[k]);
      const std::string before = out;
      for (size_t k = cut; k < ids.size(); ++k) out += s.push(ids[k]);
      out += s.flush();
      ASSERT_EQ(out, whole);
      ASSERT_TRUE(utf8_valid(before));
      ASSERT_EQ(whole.compare(0, before.size(), before), 0);  // what was shown is never taken back
    }
    expect_stream_matches_decode(mini(), ids, true);
  }
}

TEST(TokenizerStream, HoldsBackUnfinishedCharacters) {
  StreamDecoder s(mini());
  const std::string euro = "\u20ac";  // E2 82 AC
  auto byte_id = [](char c) { return mini().token_id(test::spell(std::string(1, c))).value(); };
  EXPECT_EQ(s.push(byte_id(euro[0])), "");
  EXPECT_EQ(s.push(byte_id(euro[1])), "");
  EXPECT_EQ(s.push(byte_id(euro[2])), euro);
  EXPECT_EQ(s.push(byte_id(euro[0])), "");
  EXPECT_EQ(s.push(mini().token_id("a").value()), "\ufffda");  // the sequence was cut: one U+FFFD, as HF
  EXPECT_EQ(s.push(byte_id(euro[0])), "");
  EXPECT_EQ(s.flush(), "\ufffd");
}

TEST(TokenizerInvalidUtf8, ReplacedLikeAPythonString) {
  EXPECT_EQ(mini().encode("a\xff" "b"), mini().encode("a\ufffd" "b"));
  EXPECT_EQ(mini().decode(mini().encode("\xe2\x82")), "\ufffd");
  EXPECT_EQ(mini().decode(mini().encode("\xed\xa0\x80")), "\ufffd\ufffd\ufffd");  // a surrogate
  EXPECT_EQ(mini().decode(mini().encode("<|im_end|>\xc0\xaf<think>")), "<|im_end|>\ufffd\ufffd<think>");
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    const std::string bytes = test::random_bytes(rng, 40);
    const Ids ids = mini().encode(bytes);
    ASSERT_EQ(ids, mini().encode(test::lossy_utf8(bytes)));
    ASSERT_EQ(mini().decode(ids), to_nfc(test::lossy_utf8(bytes)));
  }
}

TEST(TokenizerThreads, ConcurrentEncodesAgree) {
  std::mt19937 rng(5);
  std::vector<std::string> texts;
  std::vector<Ids> want;
  for (int i = 0; i < 200; ++i) {
    texts.push_back(test::random_text(rng, 80));
    want.push_back(mini().encode(texts.back()));
  }
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 5; ++rep)
        for (size_t i = (size_t(t) * 37) % texts.size(), k = 0; k < texts.size(); ++k, i = (i + 1) % texts.size())
          if (mini().encode(texts[i]) != want[i]) ++bad;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace a3b
