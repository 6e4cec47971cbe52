#!/usr/bin/env bash
# llama.cpp interop: GGUF files written by `a3b quantize` (BF16, Q8_0 and Q4_K_M of the trained default
# model) load and run in llama.cpp (node-llama-cpp 3.22.1's prebuilt CPU library, llama.cpp tag
# v0.5.0), tokenize prompts as a3b does (tokenizer.ggml.* written by a3b), and greedy generation gives
# the same tokens as a3b on the same file (up to a near-tie: a first difference where llama.cpp's
# token is within 0.1 of a3b's top logit; check_greedy.py).
#
# Usage: bash tests/gguf/llama_interop.sh BUILD_DIR A3B_BINARY MODEL_DIR   (ctest: gguf_llama_interop)
# Network: the npm registry only, once; the package is cached in BUILD_DIR/npm-llama. No install scripts run.
set -euo pipefail
BUILD=$(cd "$1" && pwd)
A3B=$2
MODEL=$3
HERE=$(cd "$(dirname "$0")" && pwd)
export NLC_DIR="$BUILD/npm-llama"
# One llama.cpp thread: its spinning barrier collapses when 2 threads share 2 busy cores.
export THREADS=1
if [ ! -f "$NLC_DIR/.installed-v1" ]; then
  mkdir -p "$NLC_DIR"
  echo '{"name":"a3b-llama-reference","version":"0.0.0","private":true,"type":"module"}' > "$NLC_DIR/package.json"
  npm install --prefix "$NLC_DIR" --no-audit --no-fund --ignore-scripts --loglevel=error node-llama-cpp@3.22.1
  touch "$NLC_DIR/.installed-v1"
fi
WORK="$BUILD/gguf-interop"
mkdir -p "$WORK"
N=16
cat > "$WORK/prompts.json" <<'JSON'
["The capital of France is",
 "<|im_start|>user\nWhat is 2 + 3?<|im_end|>\n<|im_start|>assistant\n",
 "<|im_start|>user\nWrite a haiku about the sea, then explain it.<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"]
JSON
mapfile -t texts < <(python3 -c 'import json,sys; [print(json.dumps(t)) for t in json.load(open(sys.argv[1]))]' "$WORK/prompts.json")
status=0
for type in BF16 Q8_0 Q4_K_M; do
  gguf="$WORK/default-$type.gguf"
  "$A3B" quantize "$MODEL" "$gguf" --type "$type" -q
  mapfile -t results < <(node "$HERE/llama_greedy.mjs" "$gguf" --prompts "$WORK/prompts.json" $N)
  for i in "${!texts[@]}"; do
    llama_ids=$(python3 -c 'import json,sys; print(" ".join(map(str, json.loads(sys.argv[1])["ids"])))' "${results[$i]}")
    got=$(python3 -c 'import json,sys; print(" ".join(map(str, json.loads(sys.argv[1])["tokens"])))' "${results[$i]}")
    a3b_ids=$(python3 -c 'import json,sys; sys.stdout.write(json.loads(sys.argv[1]))' "${texts[$i]}" |
                "$A3B" tokenize --tokenizer "$gguf")
    if [ "$a3b_ids" != "$llama_ids" ]; then
      echo "FAIL $type tokenization of ${texts[$i]}: a3b [$a3b_ids], llama.cpp [$llama_ids]"
      status=1
      continue
    fi
    ids=$(tr ' ' ',' <<< "$a3b_ids")
    # Both stop at an end-of-generation token; llama.cpp does not return it, a3b prints it last.
    want=$("$A3B" generate -m "$gguf" --prompt-ids "$ids" -n $N --ids --backend cpu -t 2 --dump-logits "$WORK/logits.npy")
    if [ "$(wc -w <<< "$want")" -lt $N ]; then want=$(awk '{NF--; print}' <<< "$want"); fi
    n_prompt=$(wc -w <<< "$a3b_ids")
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
