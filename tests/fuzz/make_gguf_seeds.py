#!/usr/bin/env python3
"""Seed corpus for the GGUF fuzzer: small, valid GGUF files that reach every reader path (all value
types, nested arrays, alignment, v2, several tensor types, qwen35moe hyper-parameters, a tokenizer).

Usage: python3 tests/fuzz/make_gguf_seeds.py OUT_DIR
"""
import struct
import sys
from pathlib import Path

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
FMT = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<?", U64: "<Q", I64: "<q", F64: "<d"}


def s(text):
    b = text.encode()
    return struct.pack("<Q", len(b)) + b


def value(t, v):
    if t == STR:
        return s(v)
    if t == ARR:
        et, items = v
        return struct.pack("<IQ", et, len(items)) + b"".join(value(et, x) for x in items)
    return struct.pack(FMT[t], v)


def gguf(kvs, tensors, version=3, alignment=32):
    """kvs: [(key, type, value)]; tensors: [(name, ne, ggml_type, nbytes)]"""
    out = struct.pack("<IIQQ", 0x46554747, version, len(tensors), len(kvs))
    for k, t, v in kvs:
        out += s(k) + struct.pack("<I", t) + value(t, v)
    offset = 0
    offsets = []
    for name, ne, gt, nbytes in tensors:
        out += s(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", d) for d in ne)
        out += struct.pack("<IQ", gt, offset)
        offsets.append(offset)
        offset = (offset + nbytes + alignment - 1) // alignment * alignment
    out += b"\0" * (-len(out) % alignment)
    for (name, ne, gt, nbytes), off in zip(tensors, offsets):
        out += bytes((i * 37 + 11) % 256 for i in range(nbytes))
        out += b"\0" * (-len(out) % alignment)
    return out


def qwen35moe_kvs(n_vocab):
    a = "qwen35moe."
    toks = ["a", "b", "ab", "<|im_end|>", "<|endoftext|>", "\u0120x"] + [f"[PAD{i}]" for i in range(6, n_vocab)]
    return [
        ("general.architecture", STR, "qwen35moe"),
        (a + "block_count", U32, 4), (a + "context_length", U32, 4096), (a + "embedding_length", U32, 32),
        (a + "attention.head_count", U32, 2), (a + "attention.head_count_kv", U32, 1),
        (a + "attention.key_length", U32, 16), (a + "attention.value_length", U32, 16),
        (a + "attention.layer_norm_rms_epsilon", F32, 1e-6), (a + "rope.freq_base", F32, 1e7),
        (a + "rope.dimension_count", U32, 4), (a + "rope.dimension_sections", ARR, (I32, [1, 1, 0, 0])),
        (a + "expert_count", U32, 4), (a + "expert_used_count", U32, 2),
        (a + "expert_feed_forward_length", U32, 32), (a + "expert_shared_feed_forward_length", U32, 32),
        (a + "ssm.conv_kernel", U32, 4), (a + "ssm.state_size", U32, 8), (a + "ssm.group_count", U32, 1),
        (a + "ssm.time_step_rank", U32, 2), (a + "ssm.inner_size", U32, 16), (a + "full_attention_interval", U32, 4),
        ("tokenizer.ggml.model", STR, "gpt2"), ("tokenizer.ggml.pre", STR, "qwen35"),
        ("tokenizer.ggml.tokens", ARR, (STR, toks)),
        ("tokenizer.ggml.token_type", ARR, (I32, [1, 1, 1, 3, 3, 1] + [5] * (n_vocab - 6))),
        ("tokenizer.ggml.merges", ARR, (STR, ["a b"])), ("tokenizer.ggml.eos_token_id", U32, 3),
        ("tokenizer.chat_template", STR, "{% for m in messages %}{{ m.content }}{% endfor %}"),
    ]


def main(out_dir):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    every_type = [
        ("u8", U8, 1), ("i8", I8, -1), ("u16", U16, 2), ("i16", I16, -2), ("u32", U32, 3), ("i32", I32, -3),
        ("f32", F32, 0.5), ("bool", BOOL, True), ("str", STR, "x"), ("u64", U64, 2**40), ("i64", I64, -(2**40)),
        ("f64", F64, 1e-9), ("arr", ARR, (STR, ["p", "q"])), ("nested", ARR, (ARR, [(U8, [1, 2]), (U8, [])])),
    ]
    seeds = {
        "minimal.gguf": gguf([], [("t", [8], 0, 32)]),
        "v2.gguf": gguf([("general.alignment", U32, 64)], [("t", [4, 2], 0, 32)], version=2, alignment=64),
        "every_value_type.gguf": gguf(every_type, []),
        "quant_tensors.gguf": gguf([], [("q8", [32, 2], 8, 68), ("q4k", [256], 12, 144), ("q6k", [256], 14, 210),
                                        ("iq4xs", [256], 23, 136), ("bf16", [3], 30, 6), ("q41", [32], 3, 20)]),
        "qwen35moe.gguf": gguf(qwen35moe_kvs(8), [("token_embd.weight", [32, 8], 0, 32 * 8 * 4),
                                                   ("output_norm.weight", [32], 0, 128)]),
    }
    for name, data in seeds.items():
        (out / name).write_bytes(data)
    print("wrote", len(seeds), "seeds to", out)


if __name__ == "__main__":
    main(sys.argv[1])
