#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
# include-cycles.py -- prints the include cycles among the project's headers
# (X.h includes Y.h ... includes X.h), and among its modules (a module is a
# file pair X.c/X.h, with its private header X_int.h if any; it depends on Y
# when X.c, X.h or X_int.h includes Y.h). Exits 1
# when there is one. Usage: lib/include-cycles.py [TOP] (default: .)
import os
import re
import sys

top = sys.argv[1] if len(sys.argv) > 1 else "."
dirs = ["proto", "lib", "node", "tools"]
files = {}  # file name -> path
for d in dirs:
    p = os.path.join(top, d)
    for f in sorted(os.listdir(p)) if os.path.isdir(p) else []:
        if f.endswith((".c", ".h")):
            files[os.path.join(d, f)] = os.path.join(p, f)
headers = {os.path.basename(f): f for f in files if f.endswith(".h")}
inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
edges = {}
for f, path in files.items():
    with open(path, encoding="utf-8", errors="replace") as fh:
        names = inc.findall(fh.read())
    edges[f] = [headers[n] for n in names if n in headers]


def cycles(graph):
    found, state = [], {}

    def visit(n, stack):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                found.append(stack[stack.index(m):] + [m])
            elif m not in state:
                visit(m, stack)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n, [])
    return found


header_graph = {f: set(e) for f, e in edges.items() if f.endswith(".h")}
module = lambda f: re.sub(r"_int$", "", f[:-2])
module_graph = {}
for f, e in edges.items():
    mod = module(f)
    module_graph.setdefault(mod, set()).update(module(h) for h in e if module(h) != mod)
bad = 0
for kind, graph in (("header", header_graph), ("module", module_graph)):
    for c in cycles(graph):
        print("%s cycle: %s" % (kind, " -> ".join(c)))
        bad = 1
sys.exit(bad)
