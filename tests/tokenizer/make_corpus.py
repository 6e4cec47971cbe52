#!/usr/bin/env python3
"""Deterministic tokenizer test corpus: one JSON string per line (JSONL), about 2.2 MB of UTF-8 text.

Usage: python3 tests/tokenizer/make_corpus.py OUT.jsonl [--seed N] [--mb MB]
       python3 tests/tokenizer/make_corpus.py OUT.ids --random-ids VOCAB_SIZE [--seed N]
         (the second: lines of random token ids below VOCAB_SIZE + 64, for decoding partial UTF-8 and unknown ids)

Mixes code in several languages, prose with contractions, CJK, Thai/Arabic/Devanagari/Hebrew/Vietnamese/Khmer with
combining marks, NFD text, emoji ZWJ sequences and flags, long whitespace and digit runs, \\r\\n, control and
format characters, Qwen's added tokens (<|im_start|>, <think>, ...) whole, partial and glued to words, and random
code-point soup. Same seed, same bytes (only Python's `random` with a fixed seed and `unicodedata` are used).
"""
import argparse
import json
import random
import unicodedata

WORDS = ("the of and to in is that for it as was with be by on not he I this are or his from at which but have "
         "an they you were her she there one all we can their has been if more when will would who so no model "
         "token tokenizer server request stream latency memory expert router layer attention cache batch value "
         "Hello World Python Rust Qwen OpenAI JSON HTTP GPU CPU naïve café résumé façade coöperate Zürich São "
         "Paulo Ελληνικά русский язык Україна Straße ĳssel ﬁnance").split()
CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ve", "'M", "'LL", "'D", "'ſ",
                "'ſt", "'x", "' s", "’s", "'", "''", "'''"]
ADDED = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
         "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>",
         "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>",
         "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<tool_response>",
         "</tool_response>", "<think>", "</think>"]
SCRIPTS = {
    "thai": "สวัสดีครับ ภาษาไทย เป็นภาษาที่มีวรรณยุกต์ น้ำ ผู้หญิง กิน ข้าว ที่ร้าน อร่อยมาก ๑๒๓",
    "arabic": "مَرْحَبًا بِكُمْ فِي الْعَالَمِ الْعَرَبِيِّ، اللُّغَةُ العربية جميلة جداً ١٢٣٤ ٫٥",
    "devanagari": "नमस्ते दुनिया क् क्ष त्र ज्ञ श्र हिन्दी भाषा में लिखा गया पाठ है। संस्कृतम् ॐ १२३",
    "hebrew": "שָׁלוֹם עוֹלָם בְּרֵאשִׁית בָּרָא אֱלֹהִים",
    "vietnamese": "Tiếng Việt có dấu: Việt Nam, người, được, những, thế giới, ắ ằ ẳ ẵ ặ",
    "khmer": "សួស្តី ពិភពលោក ភាសាខ្មែរ ក្រុង",
    "bengali": "আমি বাংলায় গান গাই ক্ষ্ম",
    "tamil": "வணக்கம் உலகம் தமிழ் மொழி",
    "korean": "안녕하세요 세계 한국어 텍스트입니다 ㄱㄴㄷ 각",
    "japanese": "こんにちは世界。カタカナ、ひらがな、漢字を混ぜた日本語の文章です！ｶﾀｶﾅ",
    "greek": "Καλημέρα κόσμε ΐ ΰ ᾅ",
    "cyrillic": "Привет, мир! Ёжик в тумане, й ї",
}
CJK_RANGES = [(0x4E00, 0x9FA5), (0x3040, 0x309F), (0x30A0, 0x30FF), (0xAC00, 0xD7A3)]
CJK_PUNCT = "，。！？：；「」『』（）【】、…—·～《》"
EMOJI = ["😀", "👍", "👍🏽", "❤️", "🇫🇷", "🇯🇵", "🏳️‍🌈", "👨‍👩‍👧‍👦", "👩🏾‍💻", "🧑‍🚀", "1️⃣", "#️⃣", "🫠", "🐍",
         "🦀", "✅", "❌", "⭐", "🤖", "👁‍🗨", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"]
SPACES = [" ", "  ", "\t", "\u00a0", "\u3000", "\u2009", "\u200b", "\u2028", "\u0085", "\u000b", "\u000c",
          "\u001c", "\u180e", "\u2007", "\ufeff"]
# Blocks assigned long before Unicode 14, so every engine's tables agree on them.
SOUP_RANGES = [(0x20, 0x7E), (0xA0, 0x24F), (0x250, 0x2FF), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF),
               (0x590, 0x5FF), (0x600, 0x6FF), (0x900, 0x97F), (0xE00, 0xE5B), (0x1100, 0x11FF), (0x1E00, 0x1EFF),
               (0x2000, 0x206F), (0x2070, 0x209C), (0x20A0, 0x20BF), (0x2100, 0x218B), (0x2190, 0x23FF),
               (0x2460, 0x24FF), (0x2500, 0x27BF), (0x3000, 0x303F), (0x4E00, 0x4FFF), (0xFF00, 0xFFEF),
               (0x1D400, 0x1D7FF), (0x1F300, 0x1F5FF), (0x0, 0x1F)]


def code_python(r):
    name = r.choice(["compute", "load_model", "parse_args", "forward", "_helper", "main"])
    body = "\n".join(f"    {r.choice(['x', 'y', 'tmp', 'result'])} = {r.randint(0, 10**r.randint(1, 12))} "
                     f"{r.choice(['+', '*', '//', '**', '-'])} {r.choice(['a', 'b', 'len(s)', '0x1F', '3.14159'])}"
                     for _ in range(r.randint(2, 8)))
    return (f"def {name}(a, b=None, *args, **kwargs):\n    \"\"\"Docstring: it's {r.choice(WORDS)}.\"\"\"\n{body}\n"
            f"    if a is not None and b != 'x':\n        return [i ** 2 for i in range({r.randint(1, 999)})]\n"
            f"    raise ValueError(f\"bad {{a!r}}\")\n")


def code_cpp(r):
    ind = r.choice(["  ", "    ", "\t"])
    return (f"#include <vector>\n// {r.choice(WORDS)} {r.choice(WORDS)}\ntemplate <class T>\nstatic inline T "
            f"{r.choice(['dot', 'axpy', 'norm'])}(const std::vector<T>& a) {{\n{ind}T s{{}};\n"
            f"{ind}for (size_t i = 0; i < a.size(); ++i) s += a[i] * a[i];  // NOLINT\n"
            f"{ind}return s >= {r.randint(0, 99999)} ? s : -s;\n}}\n")


def code_js(r):
    return (f"const {r.choice(['fetchData', 'render', 'x1'])} = async ({{ id, ...rest }}) => {{\r\n"
            f"  const res = await fetch(`/api/v1/items/${{id}}?q=${{encodeURIComponent(rest.q ?? '')}}`);\r\n"
            f"  if (!res.ok) throw new Error('HTTP ' + res.status);\r\n  return res.json(); // === !== => &&\r\n}};\r\n")


def code_rust(r):
    return (f"fn {r.choice(['merge', 'split', 'encode'])}<'a>(s: &'a str) -> Result<Vec<u32>, Box<dyn Error>> {{\n"
            f"    let v: Vec<_> = s.chars().filter(|c| !c.is_whitespace()).map(|c| c as u32).collect();\n"
            f"    println!(\"{{:?}} {{}}\", v, {r.randint(0, 1 << 31)}u64);\n    Ok(v)\n}}\n")


def code_misc(r):
    return r.choice([
        f"SELECT id, name FROM users WHERE age >= {r.randint(18, 99)} AND name LIKE '%{r.choice(WORDS)}%';\n",
        f"<div class=\"{r.choice(WORDS)}\">&lt;b&gt;{r.choice(WORDS)}&amp;{r.choice(WORDS)}</div>\n",
        json.dumps({"model": "qwen3.5", "temperature": r.random(), "messages": [{"role": "user", "content":
                    " ".join(r.choice(WORDS) for _ in range(8))}]}, ensure_ascii=r.random() < 0.5) + "\n",
        f"$ ./a3b generate -m models/x --prompt-ids 1,2,3 -n {r.randint(1, 512)} 2>&1 | tee log.txt\n",
        "```go\nfunc main() {\n\tfmt.Println(\"héllo\")\n}\n```\n",
        "    \n\t\t\n" + "=" * r.randint(3, 80) + "\n" + "-" * r.randint(3, 40) + "\n",
    ])


def prose(r):
    out = []
    for _ in range(r.randint(3, 12)):
        words = [r.choice(WORDS) for _ in range(r.randint(3, 15))]
        if r.random() < 0.5:
            words[r.randrange(len(words))] += r.choice(CONTRACTIONS)
        s = " ".join(words)
        s = s[0].upper() + s[1:] + r.choice([".", "!", "?", "...", ";", ":", " —", "?!"])
        if r.random() < 0.2:
            s += f" ({r.randint(0, 10**6)}, {r.random():.4f}%)"
        out.append(s)
    return " ".join(out) + r.choice(["\n", "\n\n", " ", "", "\r\n", "  \n"])


def cjk(r):
    s = []
    for _ in range(r.randint(10, 120)):
        lo, hi = r.choice(CJK_RANGES)
        s.append(chr(r.randint(lo, hi)))
        if r.random() < 0.1:
            s.append(r.choice(CJK_PUNCT))
        if r.random() < 0.05:
            s.append(r.choice([" ", "ABC", "123", " Qwen ", "\n"]))
    return "".join(s) + "\n"


def scripts(r):
    name = r.choice(sorted(SCRIPTS))
    text = SCRIPTS[name]
    words = text.split(" ")
    r.shuffle(words)
    s = " ".join(words)
    if r.random() < 0.3:
        s = unicodedata.normalize(r.choice(["NFD", "NFKD", "NFC"]), s)
    return s + r.choice(["\n", " ", ". "])


def nfd_text(r):
    base = " ".join(r.choice(WORDS) for _ in range(r.randint(5, 30)))
    base += " Ångström ñandú Œuvre ǅ ḱ ṩ ệ ǖ ȫ e\u0301 a\u0300\u0300 o\u0308\u0304 q\u0307\u0323"
    s = unicodedata.normalize("NFD", base)
    if r.random() < 0.3:  # combining marks in non-canonical order, and marks with nothing to attach to
        s += " a\u0323\u0302 a\u0302\u0323 \u0301x \u0300" * r.randint(1, 3)
    return s + "\n"


def emoji(r):
    return "".join(r.choice(EMOJI) + r.choice(["", " ", "", "\u200d", "x"]) for _ in range(r.randint(3, 20))) + "\n"


def whitespace_digits(r):
    parts = []
    for _ in range(r.randint(5, 20)):
        k = r.random()
        if k < 0.3:
            parts.append("".join(r.choice(SPACES) for _ in range(r.randint(1, 40))))
        elif k < 0.5:
            parts.append(str(r.randint(0, 10**r.randint(1, 60))))
        elif k < 0.6:
            parts.append(r.choice(["\r\n", "\n\n\n", "\r\r", "\n \n", " \r\n  \r\n", "\t\n"]) * r.randint(1, 5))
        elif k < 0.7:
            parts.append(r.choice(["١٢٣٤٥", "１２３", "²³¹", "ⅠⅡⅫ", "½¾", "۱۲۳", "੧੨", "一二三"]))
        else:
            parts.append(r.choice(WORDS))
    return "".join(parts)


def added_tokens(r):
    parts = []
    for _ in range(r.randint(3, 15)):
        k = r.random()
        tok = r.choice(ADDED)
        if k < 0.4:
            parts.append(tok)
        elif k < 0.55:
            parts.append(tok[: r.randint(1, len(tok) - 1)])  # a prefix of a token is plain text
        elif k < 0.7:
            parts.append(r.choice(WORDS) + tok + r.choice(WORDS))
        elif k < 0.8:
            parts.append(" " + tok + " ")
        else:
            parts.append(r.choice(["user\n", "assistant\n", "\n", "\n\n", "system\nYou are helpful.\n"]))
    if r.random() < 0.3:
        return "<|im_start|>user\n" + "".join(parts) + "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
    return "".join(parts)


def soup(r):
    s = []
    for _ in range(r.randint(20, 200)):
        lo, hi = r.choice(SOUP_RANGES)
        cp = r.randint(lo, hi)
        if unicodedata.category(chr(cp)) != "Cn":
            s.append(chr(cp))
    return "".join(s)


GENERATORS = [(code_python, 8), (code_cpp, 6), (code_js, 5), (code_rust, 4), (code_misc, 6), (prose, 20),
              (cjk, 8), (scripts, 12), (nfd_text, 5), (emoji, 4), (whitespace_digits, 8), (added_tokens, 8),
              (soup, 6)]


def make_docs(seed, target_bytes):
    r = random.Random(seed)
    funcs = [f for f, w in GENERATORS for _ in range(w)]
    docs, size = [], 0
    while size < target_bytes:
        doc = "".join(r.choice(funcs)(r) for _ in range(r.randint(1, 6)))
        if r.random() < 0.05:
            doc = doc.rstrip()  # some end without trailing whitespace, some with a lot
        docs.append(doc)
        size += len(doc.encode("utf-8"))
    return docs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--mb", type=float, default=2.2)
    ap.add_argument("--random-ids", type=int, metavar="VOCAB_SIZE")
    a = ap.parse_args()
    if a.random_ids:
        r = random.Random(a.seed)
        with open(a.out, "w") as f:
            for _ in range(2000):
                ids = [r.randint(0, a.random_ids + 63) if r.random() < 0.5 else r.randint(0, 1000)
                       for _ in range(r.randint(0, 40))]
                f.write(" ".join(map(str, ids)) + "\n")
        return
    docs = make_docs(a.seed, int(a.mb * 1e6))
    with open(a.out, "w", encoding="utf-8", newline="") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
