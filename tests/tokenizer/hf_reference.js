// Reference ids and texts from Hugging Face tokenizers (the Rust crate, through @anush008/tokenizers).
//
//   node hf_reference.js encode TOKENIZER_JSON CORPUS.jsonl OUT_IDS   one id line per JSON string
//   node hf_reference.js whole  TOKENIZER_JSON TEXT_FILE   OUT_IDS   the whole file as one input
//   node hf_reference.js decode TOKENIZER_JSON IDS_FILE    OUT.jsonl one JSON string per id line
//                                                          (add "skip" for skip_special_tokens)
//   node hf_reference.js variants TOKENIZER_JSON OUT_DIR   writes qwen35.json (the Qwen3.5 regex, merges as
//                                                          "a b" strings), nospecial.json (special tokens
//                                                          unmatchable) and vm/ (vocab.json + merges.txt +
//                                                          tokenizer_config.json of the same tokenizer)
// NODE_PATH must reach the installed packages (tests/tokenizer/hf_conformance.sh sets it up).
'use strict';
const fs = require('fs');
const path = require('path');

const QWEN35_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

function loadTokenizer(file) {
  const { Tokenizer } = require('@anush008/tokenizers');
  return Tokenizer.fromFile(file);
}

function readLines(file) {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

async function encodeAll(tok, texts) {
  const out = [];
  const batch = 64;
  for (let i = 0; i < texts.length; i += batch) {
    const encs = await tok.encodeBatch(texts.slice(i, i + batch), { addSpecialTokens: false });
    for (const e of encs) out.push(Array.from(e.getIds()).join(' '));
  }
  return out;
}

function writeVariants(file, outDir) {
  const t = JSON.parse(fs.readFileSync(file, 'utf8'));
  fs.mkdirSync(outDir, { recursive: true });
  // Qwen3.5/3.6 pipeline on this vocabulary: the qwen35 regex in the Split pre-tokenizer.
  const q = JSON.parse(JSON.stringify(t));
  q.pre_tokenizer.pretokenizers[0].pattern.Regex = QWEN35_REGEX;
  q.model.merges = q.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));  // the older merge spelling
  fs.writeFileSync(path.join(outDir, 'qwen35.json'), JSON.stringify(q));
  // HF's split_special_tokens (our parse_special=false): special tokens are plain text. The binding cannot set
  // it, so their contents become strings that never occur; ids stay the same (they are assigned in order).
  const n = JSON.parse(JSON.stringify(t));
  for (const a of n.added_tokens) if (a.special) a.content = `\u0001never-${a.id}\u0001`;
  fs.writeFileSync(path.join(outDir, 'nospecial.json'), JSON.stringify(n));
  // The same tokenizer as vocab.json + merges.txt; the added tokens live in tokenizer_config.json.
  const vm = path.join(outDir, 'vm');
  fs.mkdirSync(vm, { recursive: true });
  fs.writeFileSync(path.join(vm, 'vocab.json'), JSON.stringify(t.model.vocab));
  const merges = t.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
  fs.writeFileSync(path.join(vm, 'merges.txt'), '#version: 0.2\n' + merges.join('\n') + '\n');
  const decoder = {};
  for (const a of t.added_tokens) {
    decoder[String(a.id)] = { content: a.content, lstrip: a.lstrip, normalized: a.normalized, rstrip: a.rstrip,
                              single_word: a.single_word, special: a.special };
  }
  fs.writeFileSync(path.join(vm, 'tokenizer_config.json'),
                   JSON.stringify({ tokenizer_class: 'Qwen2Tokenizer', added_tokens_decoder: decoder }));
}

async function main() {
  const [mode, tokFile, input, output, extra] = process.argv.slice(2);
  if (mode === 'variants') return writeVariants(tokFile, input);
  const tok = loadTokenizer(tokFile);
  if (mode === 'encode') {
    const texts = readLines(input).map((l) => JSON.parse(l));
    fs.writeFileSync(output, (await encodeAll(tok, texts)).join('\n') + '\n');
  } else if (mode === 'whole') {
    const text = fs.readFileSync(input, 'utf8');
    fs.writeFileSync(output, (await encodeAll(tok, [text])).join('\n') + '\n');
  } else if (mode === 'decode') {
    const skip = extra === 'skip';
    const out = [];
    for (const line of readLines(input)) {
      const ids = line.trim() === '' ? [] : line.trim().split(/\s+/).map(Number);
      out.push(JSON.stringify(await tok.decode(ids, skip)));
    }
    fs.writeFileSync(output, out.join('\n') + '\n');
  } else {
    throw new Error('unknown mode ' + mode);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
