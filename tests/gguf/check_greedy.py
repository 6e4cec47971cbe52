#!/usr/bin/env python3
"""Compares a3b's and llama.cpp's greedy tokens for one prompt. At the first difference, the two
are still counted as agreeing when a3b's logits there make it a near-tie: llama.cpp's token within
GAP of a3b's top logit (both engines round activations differently, e.g. llama.cpp's Q8_K blocks).

Usage: check_greedy.py A3B_IDS LLAMA_IDS A3B_LOGITS.npy N_PROMPT [GAP]   (stdlib only)
"""
import ast
import struct
import sys


def read_npy(path):
    with open(path, "rb") as f:
        assert f.read(6) == b"\x93NUMPY"
        major = f.read(2)[0]
        hlen = struct.unpack("<H" if major == 1 else "<I", f.read(2 if major == 1 else 4))[0]
        header = ast.literal_eval(f.read(hlen).decode())
        assert header["descr"] == "<f4" and not header["fortran_order"]
        rows, cols = header["shape"]
        data = struct.unpack(f"<{rows * cols}f", f.read(4 * rows * cols))
    return [data[r * cols:(r + 1) * cols] for r in range(rows)]


def main():
    a3b, llama = sys.argv[1].split(), sys.argv[2].split()
    logits = read_npy(sys.argv[3])
    n_prompt = int(sys.argv[4])
    gap = float(sys.argv[5]) if len(sys.argv) > 5 else 0.1
    for i, (x, y) in enumerate(zip(a3b, llama)):
        if x == y:
            continue
        row = logits[n_prompt - 1 + i]
        diff = max(row) - row[int(y)]
        if diff <= gap:
            print(f"near-tie at generated token {i}: llama.cpp's {y} is {diff:.4f} below a3b's {x}; equal before it")
            return 0
        print(f"differ at generated token {i}: a3b {x}, llama.cpp {y} ({diff:.4f} below a3b's top logit)")
        return 1
    if len(a3b) != len(llama):
        print(f"lengths differ: a3b {len(a3b)}, llama.cpp {len(llama)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
