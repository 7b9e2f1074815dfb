#!/usr/bin/env python3
"""Lists the library functions of src/ (not the CLI) longer than a limit, longest first:
the measure of issue 18's "no library function over ~150 lines except the documented
single-pass parsers". Usage: python3 scripts/long_functions.py [LIMIT] (default 150).
A function is a line starting at column 0 with a name and '(' and a body from the next
line that is exactly '{' to the next line that is exactly '}' (the tree's style)."""
import glob
import os
import re
import sys

limit = int(sys.argv[1]) if len(sys.argv) > 1 else 150
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
head = re.compile(r"^[A-Za-z_][\w \*]*?\b(\w+)\(")
found = []
for path in sorted(glob.glob(os.path.join(root, "src", "*", "*.c"))):
    if os.sep + "cli" + os.sep in path:
        continue
    lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    i = 0
    while i < len(lines):
        m = head.match(lines[i])
        if m and not lines[i].rstrip().endswith(";") and not lines[i].startswith("typedef"):
            j = i
            while j < len(lines) and lines[j] != "{" and not lines[j].rstrip().endswith(";"):
                j += 1
            if j < len(lines) and lines[j] == "{":
                k = j + 1
                while k < len(lines) and lines[k] != "}":
                    k += 1
                found.append((k - j - 1, os.path.relpath(path, root), m.group(1), i + 1))
                i = k
        i += 1
for n, f, name, line in sorted(found, reverse=True):
    if n > limit:
        print(f"{n:5d}  {f}:{line}  {name}")
