#!/usr/bin/env bash
# llama.cpp interop: GGUF files written by `a3b quantize` (BF16, Q8_0 and Q4_K_M of the trained default
# model) load and run in llama.cpp (node-llama-cpp 3.22.1's prebuilt CPU library, llama.cpp tag
# v0.5.0), tokenize prompts as a3b does (tokenizer.ggml.* written by a3b), and greedy generation gives the same tokens as a3b on the same file (up to a near-tie:
# a first difference where llama.cpp's token is within 0.1 of a3b's top logit; check_greedy.py).
#
# Usage: bash tests/gguf/llama_interop.sh BUILD_DIR A3B_BINARY MODEL_DIR   (ctest: gguf_llama_interop)
# Network: the npm registry only, once; the package is cached in BUILD_DIR/npm-llama. No install scripts run.
set -euo pipefail
BUILD=$(cd "$1" && pwd)
A3B=$2
MODEL=$3
HERE=$(cd "$(dirname "$0")" && pwd)
export NLC_DIR="$BUILD/npm-llama"
if [ ! -f "$NLC_DIR/.installed-v1" ]; then
  mkdir -p "$NLC_DIR"
  echo '{"name":"a3b-llama-reference","version":"0.0.0","private":true,"type":"module"}' > "$NLC_DIR/package.json"
  npm install --prefix "$NLC_DIR" --no-audit --no-fund --ignore-scripts --loglevel=error node-llama-cpp@3.22.1
  touch "$NLC_DIR/.installed-v1"
fi
WORK="$BUILD/gguf-interop"
mkdir -p "$WORK"
N=16
status=0
for type in BF16 Q8_0 Q4_K_M; do
  gguf="$WORK/default-$type.gguf"
  "$A3B" quantize "$MODEL" "$gguf" --type "$type" -q
  for text in "The capital of France is" "<|im_start|>user
What is 2 + 3?<|im_end|>
<|im_start|>assistant
" "<|im_start|>user
Write a haiku about the sea, then explain it.<|im_end|>
<|im_start|>assistant
<think>

</think>

"; do
    a3b_ids=$(printf '%s' "$text" | "$A3B" tokenize --tokenizer "$gguf")
    llama_ids=$(node "$HERE/llama_greedy.mjs" "$gguf" --tokenize "$text")
    if [ "$a3b_ids" != "$llama_ids" ]; then
      echo "FAIL $type tokenization of $(printf '%q' "$text"): a3b [$a3b_ids], llama.cpp [$llama_ids]"
      status=1
    fi
    ids=$(tr ' ' ',' <<< "$a3b_ids")
    # Both stop at an end-of-generation token; llama.cpp does not return it, a3b prints it last.
    want=$("$A3B" generate -m "$gguf" --prompt-ids "$ids" -n $N --ids --backend cpu -t 2 --dump-logits "$WORK/logits.npy")
    if [ "$(wc -w <<< "$want")" -lt $N ]; then want=$(awk '{NF--; print}' <<< "$want"); fi
    got=$(node "$HERE/llama_greedy.mjs" "$gguf" "$ids" $N)
    n_prompt=$(tr ',' ' ' <<< "$ids" | wc -w)
    if verdict=$(python3 "$HERE/check_greedy.py" "$want" "$got" "$WORK/logits.npy" "$n_prompt"); then
      echo "ok   $type prompt [$ids]: $got $verdict"
    else
      echo "FAIL $type prompt [$ids]: $verdict"
      echo "  a3b       $want"
      echo "  llama.cpp $got"
      status=1
    fi
  done
done
exit $status
