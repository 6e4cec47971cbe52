#!/usr/bin/env python3
"""Compares two line files (ids or JSON strings); on the first difference prints the line, the input it came from
(line of INPUT, when given) and both versions, and exits 1.

Usage: python3 tests/tokenizer/compare_lines.py WHAT EXPECTED ACTUAL [INPUT]
"""
import sys


def main():
    what, expected, actual = sys.argv[1:4]
    source = sys.argv[4] if len(sys.argv) > 4 else None
    with open(expected, encoding="utf-8") as f:
        a = f.read().split("\n")
    with open(actual, encoding="utf-8") as f:
        b = f.read().split("\n")
    bad = [i for i in range(max(len(a), len(b))) if i >= len(a) or i >= len(b) or a[i] != b[i]]
    if not bad:
        print(f"{what}: {len(a) - 1} lines identical")
        return 0
    i = bad[0]
    print(f"{what}: {len(bad)} lines differ; first is line {i + 1}")
    if source:
        with open(source, encoding="utf-8") as f:
            lines = f.read().split("\n")
        if i < len(lines):
            print(f"  input:    {lines[i][:2000]}")
    print(f"  expected: {a[i][:2000] if i < len(a) else '<missing>'}")
    print(f"  actual:   {b[i][:2000] if i < len(b) else '<missing>'}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
