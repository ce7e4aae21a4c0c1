#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
# layout.py -- the architecture as tests (README, "Architecture"): each layer
# includes only the layers below it, headers form no cycle, files and
# functions stay small, and every source file carries its licence line.
# Prints TAP. Usage: layout.py [TOP_SRCDIR]
import glob
import os
import re
import sys

TOP = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("top_srcdir", ".")
FOLDERS = ["proto", "lib", "node", "tools"]
# What each folder may include, besides itself (by the folder of the header).
MAY_USE = {
    "proto": set(),
    "lib": {"proto"},
    "node": {"proto", "lib"},
    "tools": {"proto", "lib"},
}
FILE_MAX = 800      # lines of a .c file
FUNCTION_MAX = 120  # lines of a function, from its { to its }
SPDX = "SPDX-License-Identifier: MPL-2.0"

count = 0
failed = 0


def ok(cond, text, detail=()):
    global count, failed
    count += 1
    if not cond:
        failed += 1
    print("%sok %d - %s" % ("" if cond else "not ", count, text))
    for line in detail:
        print("#   " + line)


def sources():
    for folder in FOLDERS:
        path = os.path.join(TOP, folder)
        if not os.path.isdir(path):
            continue
        for name in sorted(os.listdir(path)):
            if name.endswith((".c", ".h")):
                yield folder, name, os.path.join(path, name)


files = list(sources())
where = {}  # header name -> folder
for folder, name, _ in files:
    if name.endswith(".h"):
        where[name] = folder
include_re = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
includes = {}
text_of = {}
for folder, name, path in files:
    with open(path, encoding="utf-8") as f:
        text_of[(folder, name)] = f.read()
    includes[(folder, name)] = include_re.findall(text_of[(folder, name)])

ok(len(files) > 20, "the source folders hold %d files" % len(files))

for folder in FOLDERS:
    bad = []
    for (f, name), incs in includes.items():
        if f != folder:
            continue
        for inc in incs:
            dep = where.get(inc)
            if dep and dep != folder and dep not in MAY_USE[folder]:
                bad.append("%s/%s includes %s/%s" % (f, name, dep, inc))
    allowed = ", ".join(sorted(MAY_USE[folder])) or "nothing else"
    ok(not bad, "%s/ includes only its own headers and %s" % (folder, allowed), bad)

# Header cycles: a depth-first walk over header -> headers it includes.
graph = {name: [i for i in includes[(f, name)] if i in where]
         for f, name, _ in files if name.endswith(".h")}
cycles = []
state = {}


def walk(node, stack):
    state[node] = 1
    stack.append(node)
    for nxt in graph.get(node, []):
        if state.get(nxt) == 1:
            cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
        elif nxt not in state:
            walk(nxt, stack)
    stack.pop()
    state[node] = 2


for h in sorted(graph):
    if h not in state:
        walk(h, [])
ok(not cycles, "no header includes itself through others (%d headers)" % len(graph),
   cycles)

# Module cycles: a module (im_x.c with im_x.h, or a family im_x_*.c sharing
# im_x_int.h) depends on the modules whose headers any of its files include.
def module(name):
    """im_x_y.c is part of module im_x when im_x.h (or im_x_int.h) exists
    and im_x_y.h does not; otherwise it is its own module."""
    base = name[:-2]
    if base.endswith("_int"):
        base = base[:-4]
    parts = base.split("_")
    for cut in range(len(parts) - 1, 1, -1):
        stem = "_".join(parts[:cut])
        if (stem + ".h" in where or stem + "_int.h" in where) and base + ".h" not in where:
            return stem
    return base


mgraph = {}
for (f, name), incs in includes.items():
    m = module(name)
    for inc in incs:
        if inc in where and module(inc) != m:
            mgraph.setdefault(m, set()).add(module(inc))
mcycles = []
state = {}


def mwalk(node, stack):
    state[node] = 1
    stack.append(node)
    for nxt in sorted(mgraph.get(node, ())):
        if state.get(nxt) == 1:
            mcycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
        elif nxt not in state:
            mwalk(nxt, stack)
    stack.pop()
    state[node] = 2


for m in sorted(mgraph):
    if m not in state:
        mwalk(m, [])
ok(not mcycles, "no module depends on itself through others (%d modules)" % len(mgraph),
   mcycles)

long_files = []
for (f, name), text in text_of.items():
    n = text.count("\n")
    if name.endswith(".c") and n > FILE_MAX:
        long_files.append("%s/%s: %d lines" % (f, name, n))
ok(not long_files, "no .c file is over %d lines" % FILE_MAX, long_files)

# A function starts at a line in column 0 that opens with a name and holds
# "(", ends at the next "}" in column 0; its length is from "{" to "}".
long_functions = []
for (f, name), text in text_of.items():
    if not name.endswith(".c"):
        continue
    head, start = None, None
    for number, line in enumerate(text.split("\n"), 1):
        if re.match(r"[A-Za-z_].*\(", line) and not line.rstrip().endswith(";"):
            head = line
        elif line.startswith("{") and head:
            start = number
        elif line.startswith("}") and start:
            length = number - start + 1
            if length > FUNCTION_MAX:
                long_functions.append("%s/%s:%d %s: %d lines"
                                      % (f, name, start, head.split("(")[0].strip(), length))
            head, start = None, None
ok(not long_functions, "no function is over %d lines" % FUNCTION_MAX, long_functions)

unlicensed = ["%s/%s" % (f, name) for (f, name), text in sorted(text_of.items())
              if SPDX not in "\n".join(text.split("\n")[:3])]
ok(not unlicensed, "every source file opens with its SPDX licence line", unlicensed[:20])

# A loop that ends in "|| break" has the status of break, 0, whatever
# failed: a check of $? right after it cannot fail (nine of them, in t31,
# t58, t65 and t66, until 2026-12-08).
blind = []
for script in sorted(glob.glob(os.path.join(TOP, "tests", "t*.sh"))):
    lines = open(script, encoding="utf-8").read().split("\n")
    for i, line in enumerate(lines):
        if "|| break" not in line:
            continue
        j = i if re.search(r"\bdone\b", line) else next(
            (k for k in range(i + 1, min(i + 6, len(lines)))
             if re.match(r"\s*done\b", lines[k])), None)
        if j is not None and j + 1 < len(lines) and re.match(r"\s*ok \$\?", lines[j + 1]):
            blind.append("%s:%d" % (os.path.basename(script), j + 2))
ok(not blind, "no test checks $? after a loop that ends in '|| break'", blind)

print("1..%d" % count)
sys.exit(1 if failed else 0)
