"""Runs llama.cpp's own converter (convert_hf_to_gguf.py from the llama.cpp source that npm
node-llama-cpp bundles) on a model folder, to check that a3b loads GGUF files as llama.cpp writes them.

Usage (GPU machine: the converter imports torch):
  python3 tools/reference/convert_with_llama_cpp.py LLAMA_CPP_DIR MODEL_DIR --outfile OUT.gguf --outtype bf16|q8_0|f32

LLAMA_CPP_DIR needs convert_hf_to_gguf.py, conversion/ and gguf-py/ (e.g. /tmp/nlc/llama.cpp after
`npm install node-llama-cpp@3.22.1 --ignore-scripts` and cloning its bundled source).
The converter recognises a BPE pre-tokenizer by hashing the ids it produces for a test string, so a
tokenizer trained here (models/default) is unknown to it; this wrapper tells it 'qwen35', which is
the regex that tokenizer uses. Nothing else of the converter is changed.
"""
import runpy
import sys

llama = sys.argv[1]
sys.path[:0] = [llama, llama + "/gguf-py"]
import conversion.base as base  # noqa: E402

patched = 0
for obj in vars(base).values():
    if isinstance(obj, type) and "get_vocab_base_pre" in vars(obj):
        obj.get_vocab_base_pre = lambda self, tokenizer: "qwen35"
        patched += 1
assert patched, "conversion.base has no get_vocab_base_pre any more"
sys.argv = [llama + "/convert_hf_to_gguf.py"] + sys.argv[2:]
runpy.run_path(llama + "/convert_hf_to_gguf.py", run_name="__main__")
