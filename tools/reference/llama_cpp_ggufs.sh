#!/usr/bin/env bash
# Makes GGUF files with llama.cpp's own converter from models/default and the tiny fixtures, for
# the interop check of a3b's loader (tests/gguf/converted_test.sh compares their logits with the folders).
# Run on the GPU machine (the converter imports torch); LLAMA_CPP_DIR holds convert_hf_to_gguf.py,
# conversion/ and gguf-py/ from the llama.cpp source bundled in npm node-llama-cpp@3.22.1.
#   bash tools/reference/llama_cpp_ggufs.sh LLAMA_CPP_DIR OUT_DIR
set -eu
LLAMA=$(cd "$1" && pwd)
OUT=$2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

convert() {  # folder name outtype [converter options]
  python3 "$ROOT/tools/reference/convert_with_llama_cpp.py" "$LLAMA" "$1" --outfile "$OUT/$2.$3.gguf" \
    --outtype "$3" "${@:4}" >"$OUT/$2.$3.log" 2>&1 || { echo "FAILED $2 $3"; tail -20 "$OUT/$2.$3.log"; return 0; }
  echo "made $2.$3.gguf $(stat -c %s "$OUT/$2.$3.gguf") bytes"
}

for type in f32 bf16 q8_0; do convert "$ROOT/models/default" default "$type"; done

# The tiny fixtures have no tokenizer (vocab 1024): give them the default model's, cut to ids < 1000.
# Their configs name no MTP layer, which the converter insists on unless told --no-mtp.
for fixture in tiny-fused tiny-sharded; do
  cp -r "$ROOT/tests/fixtures/$fixture" "$WORK/$fixture"
  python3 - "$ROOT/models/default" "$WORK/$fixture" <<'PY'
import json, sys
src, dst = sys.argv[1], sys.argv[2]
tok = json.load(open(src + "/tokenizer.json"))
keep = {t: i for t, i in tok["model"]["vocab"].items() if i < 1000}
tok["model"]["vocab"] = keep
tok["model"]["merges"] = [m for m in tok["model"]["merges"]
                          if m[0] in keep and m[1] in keep and m[0] + m[1] in keep]
tok["added_tokens"] = [dict(a, id=1000 + k) for k, a in enumerate(tok["added_tokens"][:24])]
json.dump(tok, open(dst + "/tokenizer.json", "w"), ensure_ascii=False)
cfg = json.load(open(src + "/tokenizer_config.json"))
cfg.pop("chat_template", None)
cfg["added_tokens_decoder"] = {str(a["id"]): {k: v for k, v in a.items() if k != "id"} for a in tok["added_tokens"]}
cfg["additional_special_tokens"] = [t for t in cfg.get("additional_special_tokens", [])
                                    if t in {a["content"] for a in tok["added_tokens"]}]
json.dump(cfg, open(dst + "/tokenizer_config.json", "w"), ensure_ascii=False)
PY
  for type in bf16 q8_0; do convert "$WORK/$fixture" "$fixture" "$type" --no-mtp; done
done
