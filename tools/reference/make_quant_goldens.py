#!/usr/bin/python3
"""Golden data for a3b's GGUF dequantizers, made with llama.cpp's own gguf-py (gguf/quants.py).

Command (gguf-py comes with the llama.cpp source that the npm package node-llama-cpp bundles as a git
bundle; numpy from Debian's python3-numpy):

    mkdir -p /tmp/nlc && cd /tmp/nlc && npm install node-llama-cpp@3.22.1 --ignore-scripts
    git clone -q node_modules/node-llama-cpp/llama/gitRelease.bundle llama.cpp
    PYTHONPATH=/tmp/nlc/llama.cpp/gguf-py /usr/bin/python3 tools/reference/make_quant_goldens.py tests/fixtures/quants

For every type, writes <TYPE>.blocks (raw GGUF blocks) and <TYPE>.f32 (gguf-py's dequantization of them,
little-endian float32). Types gguf-py can quantize (Q8_0, Q4_0, BF16, MXFP4) get blocks from its quantizer
over deterministic random floats, also stored as <TYPE>.input.f32, so a3b's quantizer can be compared too;
the others get deterministic random blocks with finite fp16 scales, which exercises every bit of the layout.
"""
import sys
from pathlib import Path

import numpy as np
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType as T
from gguf.quants import dequantize, quantize

N_ELEMENTS = 2048  # 8 super-blocks of 256 / 64 blocks of 32

QUANTIZED = ["Q8_0", "Q4_0", "BF16", "MXFP4"]
# Random blocks: byte offsets of the fp16 scale fields in each block.
RANDOM = {
    "Q4_K": [0, 2],
    "Q5_K": [0, 2],
    "Q6_K": [208],
    "IQ4_NL": [0],
    "IQ4_XS": [0],
    "IQ3_XXS": [0],
    "IQ3_S": [0],
    "IQ2_XXS": [0],
}


def main(out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261206)
    for name in QUANTIZED:
        qtype = T[name]
        x = rng.standard_normal(N_ELEMENTS).astype(np.float32)
        x[:32] *= 1e-3                      # a tiny block
        x[32:64] = 0                         # an all-zero block
        x[64] = 40.0                         # an outlier
        blocks = quantize(x.reshape(1, -1), qtype)
        y = dequantize(blocks, qtype).reshape(-1).astype("<f4")
        (out / f"{name}.input.f32").write_bytes(x.astype("<f4").tobytes())
        (out / f"{name}.blocks").write_bytes(blocks.tobytes())
        (out / f"{name}.f32").write_bytes(y.tobytes())
    for name, scale_offsets in RANDOM.items():
        qtype = T[name]
        block_size, type_size = GGML_QUANT_SIZES[qtype]
        n_blocks = N_ELEMENTS // block_size
        blocks = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
        for off in scale_offsets:
            d = (rng.standard_normal(n_blocks) * 0.05).astype(np.float16)
            blocks[:, off:off + 2] = d.view(np.uint8).reshape(n_blocks, 2)
        y = dequantize(blocks.reshape(1, -1), qtype).reshape(-1).astype("<f4")
        assert np.all(np.isfinite(y)), name
        (out / f"{name}.blocks").write_bytes(blocks.tobytes())
        (out / f"{name}.f32").write_bytes(y.tobytes())
    print("wrote", len(QUANTIZED) + len(RANDOM), "types to", out)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/quants")
