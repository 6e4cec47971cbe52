"""Compares two logits dumps (`a3b generate --dump-logits X.npy`): relative RMS, max |Δ| over
max |reference|, and how many rows agree on the argmax. Rows beyond the shorter dump are ignored.
  python3 tools/reference/compare_logits.py REFERENCE.npy OTHER.npy [LABEL]
"""
import sys

import numpy as np

ref, other = np.load(sys.argv[1]), np.load(sys.argv[2])
n = min(len(ref), len(other))
ref, other = ref[:n].astype(np.float64), other[:n].astype(np.float64)
rms = np.sqrt(((other - ref) ** 2).mean() / (ref ** 2).mean())
mx = np.abs(other - ref).max() / np.abs(ref).max()
top1 = int((ref.argmax(1) == other.argmax(1)).sum())
label = sys.argv[3] if len(sys.argv) > 3 else sys.argv[2]
print(f"{label}: {n} rows, logits relative RMS {rms:.3g}, max|d|/max|ref| {mx:.3g}, top-1 equal {top1}/{n}")
